"""Sky, light and weather, and the props every setting shares (trees, houses, rocks).

``Canvas`` carries one picture's layers and light; the setting drawers in
``landscapes`` and ``places`` fill its far, mid and near layers and say where the
ground is, and this module does the sky before them and the weather after.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from . import raster as R
from .palette import RGB, Look, luma, mix, mul

DEPTHS = {"far": 0.3, "mid": 0.62, "near": 1.0}
WINDOW_LIT: RGB = (255, 206, 128)


@dataclass
class Canvas:
    w: int
    h: int
    rng: np.random.Generator
    look: Look
    horizon: float  # y of the horizon, px
    layers: dict[str, np.ndarray] = field(default_factory=dict)
    ground_y: float = 0.0  # where figures stand in a wide shot, px
    sun_xy: tuple[float, float] = (0.0, 0.0)
    sun_visible: bool = True
    light_dir: float = 1.0  # +1: light from the right, -1: from the left
    warm_light: bool = False  # lamps/windows dominate (night interiors and streets)
    # indoors the weather is seen only through ``windows`` (x0, y0, x1, y1, px) and felt as light
    indoor: bool = False
    windows: list[tuple[float, float, float, float]] = field(default_factory=list)
    room_light: RGB = (1.0, 1.0, 1.0)  # multiplier on what is lit by the room's light (figures too)
    key_light: RGB | None = None  # rim light colour on figures, when not the sun's (a lamp)
    # the sky and the weather draw from streams of their own, so a place is laid out the same
    # whatever the weather (and a clear and a snowy version of a scene differ only in light and snow)
    sky_rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    fx_rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(1))
    water: str = "sea"  # a shore's water: sea, lake or ice (waterside.py)

    @property
    def s(self) -> float:
        """One 'unit': a thousandth of the short side, so drawings scale with resolution."""
        return min(self.w, self.h) / 1000.0

    def color(self, layer: str, shift: float = 0.0) -> RGB:
        return self.look.depth(DEPTHS[layer] + shift)

    def lit_window(self) -> RGB:
        return self.look.grade(WINDOW_LIT)

    def window(self, lit: bool) -> RGB:
        if lit and (self.look.night or self.look.sun_height < 0.2):
            return self.lit_window()
        return mix(self.look.sky_horizon, self.look.sky_top, 0.4)


def new_canvas(w: int, h: int, rng: np.random.Generator, look: Look, horizon: float) -> Canvas:
    c = Canvas(w=w, h=h, rng=rng, look=look, horizon=horizon, ground_y=h * 0.9)
    c.sky_rng, c.fx_rng = (np.random.default_rng(int(v)) for v in rng.integers(0, 2**63, 2))
    c.layers["sky"] = R.solid(w, h, look.sky_horizon)
    for name in ("far", "mid", "near"):
        c.layers[name] = R.new_layer(w, h, c.color(name))
    side = 1.0 if rng.random() < 0.5 else -1.0
    sx = w * (0.5 + side * rng.uniform(0.18, 0.32))
    sy = horizon - look.sun_height * horizon * 0.9
    c.sun_xy, c.light_dir = (sx, sy), side
    return c


# --------------------------------------------------------------------------- sky
# Everything soft in the sky (gradient, glows, clouds, beams, nebulae) is painted on a
# quarter-size float image, ``c.soft``, and scaled up once; crisp things (stars, the sun's
# disc, lightning) are drawn at full size afterwards, in ``finish_sky``.


def _soft_size(c: Canvas) -> tuple[int, int]:
    return R.low_res(c.w, c.h)


def sky_blend(c: Canvas, mask: np.ndarray, rgb: RGB) -> None:
    """Blend a colour into the soft sky by a quarter-size float mask."""
    m = mask[..., None]
    c.soft *= 1 - m  # type: ignore[attr-defined]
    c.soft += m * np.array(rgb[::-1], np.float32)  # type: ignore[attr-defined]


def sky_glow(c: Canvas, x: float, y: float, radius: float, rgb: RGB, strength: float, power: float = 2.0) -> None:
    sw, sh = _soft_size(c)
    k = sw / c.w
    ys, xs = np.ogrid[0:sh, 0:sw]
    d = np.sqrt(((xs + 0.5) / k - x) ** 2 + ((ys + 0.5) / k - y) ** 2) / max(1.0, radius)
    sky_blend(c, (np.clip(1 - d, 0, 1) ** power * strength).astype(np.float32), rgb)


def sky_shape(c: Canvas, draw: object, rgb: RGB, strength: float, blur: float) -> None:
    """``draw(mask, scale)`` white shapes on a quarter-size mask, blur, blend into the sky."""
    sw, sh = _soft_size(c)
    m = np.zeros((sh, sw), np.uint8)
    draw(m, sw / c.w)  # type: ignore[operator]
    if blur > 0:
        m = cv2.GaussianBlur(m, (0, 0), max(0.5, blur * sw / c.w))
    sky_blend(c, m.astype(np.float32) * (strength / 255), rgb)


def draw_sky(c: Canvas, space: bool = False) -> None:
    """The soft part of the sky; the setting may add glows and beams before ``finish_sky``."""
    look = c.look
    sw, sh = _soft_size(c)
    ys = (np.arange(sh, dtype=np.float32) + 0.5) * (c.h / sh)
    t = np.clip(ys / max(1.0, c.horizon), 0, 1) ** 1.35
    col = np.stack([np.interp(t, [0, 1], [look.sky_top[i], look.sky_horizon[i]]) for i in (2, 1, 0)], 1)
    col[ys > c.horizon] *= 0.92  # under the horizon: a little darker, rarely seen behind the ground
    c.soft = np.repeat(col[:, None, :], sw, axis=1).astype(np.float32)  # type: ignore[attr-defined]
    sx, sy = c.sun_xy
    if space:
        _nebula(c)
    elif look.clouds < 0.95:
        glow = 0.55 if look.night else 0.8
        sky_glow(c, sx, sy, c.w * (0.35 if look.night else 0.6), look.sun, glow * (1 - look.clouds * 0.7), 1.6)
    if look.clouds > 0 or c.sky_rng.random() < 0.6:
        clouds(c, max(look.clouds, 0.25))


def finish_sky(c: Canvas, space: bool = False) -> None:
    look = c.look
    sky = c.layers["sky"]
    soft = np.clip(c.soft + 0.5, 0, 255).astype(np.uint8)  # type: ignore[attr-defined]
    sky[..., :3] = cv2.resize(soft, (c.w, c.h), interpolation=cv2.INTER_LINEAR)
    if look.stars > 0 and look.clouds < 0.9:
        _stars(c, (1.6 if space else look.stars) * (1 - look.clouds))
    sx, sy = c.sun_xy
    if c.sun_visible and look.clouds < 0.85:
        r = c.s * (34 if look.night else 46 if look.sun_height < 0.3 else 38)
        if look.night:
            R.circle(sky, sx, sy, r, mix(look.sun, (255, 255, 255), 0.5))
            for _ in range(4):  # maria, so it reads as a moon
                a, d = c.sky_rng.uniform(0, 6.28), c.sky_rng.uniform(0, r * 0.55)
                R.circle(sky, sx + np.cos(a) * d, sy + np.sin(a) * d, r * c.sky_rng.uniform(0.15, 0.3),
                         mix(look.sun, look.sky_top, 0.25))
        else:
            R.circle(sky, sx, sy, r, mix(look.sun, (255, 255, 255), 0.6))
    if look.lightning:
        _lightning(c)


def _stars(c: Canvas, density: float) -> None:
    sky = c.layers["sky"]
    n = int(density * c.w * c.horizon / 1400)
    xs = c.sky_rng.integers(0, c.w, n)
    ys = (c.sky_rng.random(n) ** 1.4 * c.horizon * 0.95).astype(int)
    b = c.sky_rng.uniform(90, 255, n)
    fade = 1 - ys / max(1.0, c.horizon)  # dimmer near the horizon glow
    v = np.clip(b * fade + sky[ys, xs, 0] * (1 - fade), 0, 255).astype(np.uint8)
    sky[ys, xs, :3] = np.maximum(sky[ys, xs, :3], v[:, None])
    for i in np.flatnonzero(b > 235)[:60]:  # a few bright ones with a halo
        R.circle(sky, xs[i], ys[i], c.s * 2.2, (255, 250, 235))


def _nebula(c: Canvas) -> None:
    look = c.look
    for hue in ((150, 60, 200), (40, 120, 220), (220, 80, 120))[: 2 + int(c.sky_rng.random() < 0.5)]:
        def draw(m: np.ndarray, sc: float) -> None:
            cx, cy = c.sky_rng.uniform(0.1, 0.9) * c.w, c.sky_rng.uniform(0.1, 0.6) * c.h
            for _ in range(14):
                ex = cx + c.sky_rng.normal(0, c.w * 0.14)
                ey = cy + c.sky_rng.normal(0, c.h * 0.08)
                cv2.ellipse(m, (int(ex * sc), int(ey * sc)), (int(c.w * sc * c.sky_rng.uniform(0.04, 0.14)),
                            int(c.h * sc * c.sky_rng.uniform(0.02, 0.07))), c.sky_rng.uniform(0, 180), 0, 360,
                            int(c.sky_rng.uniform(60, 180)), -1)

        sky_shape(c, draw, look.grade(hue), 0.55, c.s * 60)


def clouds(c: Canvas, amount: float) -> None:
    look = c.look
    n = int(3 + amount * 9)
    puffs = []
    for _ in range(n):
        cx = c.sky_rng.uniform(-0.1, 1.1) * c.w
        cy = c.sky_rng.uniform(0.05, 0.75) * c.horizon
        width = c.w * c.sky_rng.uniform(0.08, 0.22) * (1 + look.wind)
        for _ in range(6):  # a cloud is a cluster of flattened puffs
            puffs.append((cx + c.sky_rng.normal(0, width * 0.5), cy + c.sky_rng.normal(0, width * 0.06),
                          width * c.sky_rng.uniform(0.3, 0.6), width * c.sky_rng.uniform(0.08, 0.16)))

    def draw(m: np.ndarray, sc: float, dy: float = 0.0) -> None:
        for ex, ey, rx, ry in puffs:
            cv2.ellipse(m, (int(ex * sc), int((ey + dy) * sc)), (max(1, int(rx * sc)), max(1, int(ry * sc))),
                        0, 0, 360, 255, -1)

    dark = mix(look.sky_top, (40, 40, 48), 0.4 + 0.4 * (look.rain > 0))
    light = mix(look.sky_horizon, look.sun, 0.35) if not look.night else mix(look.sky_top, (120, 130, 160), 0.35)
    sky_shape(c, draw, light, 0.5 + 0.3 * amount, c.s * 14)  # the lit tops...
    sky_shape(c, lambda m, sc: draw(m, sc, c.s * 12), dark, 0.4 + 0.45 * amount, c.s * 14)  # ...under the shade


def _lightning(c: Canvas) -> None:
    sky = c.layers["sky"]
    # indoors the bolt must fall where a window shows the sky
    x0, y0, x1, y1 = c.windows[0] if c.windows else (c.w * 0.2, 0.0, c.w * 0.8, c.horizon * 0.95)
    x, y = c.sky_rng.uniform(0.2, 0.8) * (x1 - x0) + x0, y0
    step, wander = (y1 - y0) / 6, (x1 - x0) / 24
    pts = [(x, y)]
    while y < y1:
        y += c.sky_rng.uniform(0.5, 1.3) * step
        x += c.sky_rng.normal(0, 1) * wander
        pts.append((x, y))
    R.add_glow(sky, pts[len(pts) // 2][0], pts[len(pts) // 2][1], c.w * 0.3, (210, 220, 255), 0.45, opaque=True)
    R.line(sky, pts, (250, 250, 255), c.s * 4)


# --------------------------------------------------------------------------- after the settings


def rim_light(layer: np.ndarray, c: Canvas, strength: float, width: float = 3.0) -> None:
    """Light catching the top edges that face the sun: the poster look of lit silhouettes."""
    a = layer[..., 3]
    dx, dy = int(round(-c.light_dir * c.s * width)), int(round(c.s * width))
    shifted = np.zeros_like(a)
    h, w = a.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    shifted[yd, xd] = a[ys, xs]
    edge = cv2.subtract(a, shifted)  # where the layer is, but was not one step toward the light
    R.blend_sparse(layer, edge, c.look.key, strength)


def depth_fog(c: Canvas) -> None:
    """Haze that thickens with distance and toward the ground: the weather's fog, or just air.
    A room is too small for air to show: indoors fog is at most a faint haze, and the fog
    itself shows through the windows."""
    look = c.look
    for name, depth in DEPTHS.items():
        layer = c.layers[name]
        if c.indoor:
            amount = (1 - depth) * 0.12 + look.fog * 0.08
        else:
            amount = (1 - depth) * (0.25 + look.fog * 0.9) + look.fog * 0.35 * (depth < 1)
        if amount <= 0.02:
            continue
        rows = np.linspace(0, 1, c.h, dtype=np.float32)
        # thickest just under the horizon, thinner up and down
        prof = np.exp(-((rows - c.horizon / c.h - 0.05) ** 2) / 0.06).astype(np.float32)
        wgt = np.clip(amount * (0.45 + 0.55 * prof), 0, 0.92)
        R.blend_rows(layer, wgt, look.haze if look.fog < 0.3 else mix(look.haze, (200, 204, 210), 0.3))
    if c.indoor:
        if look.fog > 0.05:  # outside the glass the world is white
            for x0, y0, x1, y1 in _window_boxes(c):
                sub = c.layers["sky"][y0:y1, x0:x1]
                R.blend_color(sub, np.full(sub.shape[:2], min(0.85, look.fog * 1.2), np.float32),
                              mix(look.haze, (214, 216, 222), 0.5), box=(0, 0, x1 - x0, y1 - y0))
    elif look.fog > 0.3:
        _fog_banks(c)


def _fog_banks(c: Canvas) -> None:
    def draw(m: np.ndarray, sc: float) -> None:
        for _ in range(7):
            cx, cy = c.fx_rng.uniform(0, 1) * c.w, c.horizon + c.fx_rng.uniform(-0.05, 0.35) * c.h
            cv2.ellipse(m, (int(cx * sc), int(cy * sc)), (int(c.w * sc * c.fx_rng.uniform(0.2, 0.45)),
                        int(c.h * sc * c.fx_rng.uniform(0.03, 0.07))), 0, 0, 360, 200, -1)

    m = R.soft_mask(c.w, c.h, draw, c.s * 40)
    R.blend_color(c.layers["mid"], m * c.look.fog * 0.8, mix(c.look.haze, (210, 212, 218), 0.35), cover=True)


def _window_boxes(c: Canvas) -> list[tuple[int, int, int, int]]:
    """The windows as whole-pixel boxes inside the frame (empty ones dropped)."""
    out = []
    for x0, y0, x1, y1 in c.windows:
        b = (max(0, int(np.floor(x0))), max(0, int(np.floor(y0))), min(c.w, int(np.ceil(x1))), min(c.h, int(np.ceil(y1))))
        if b[2] - b[0] >= 2 and b[3] - b[1] >= 2:
            out.append(b)
    return out


def weather_layer(c: Canvas) -> np.ndarray | None:
    """Rain, snow or blown dust in front of everything, or None for clear air.

    Indoors there is no weather layer: the particles fall in the sky behind the window
    holes (so the window frame and anyone in front of it stay dry) and None is returned."""
    look = c.look
    if look.rain <= 0 and look.snow <= 0 and look.wind <= 0:
        return None
    if c.indoor:
        sky = c.layers["sky"]
        for x0, y0, x1, y1 in _window_boxes(c):
            pane = R.new_layer(x1 - x0, y1 - y0, (220, 225, 235))
            _particles(c, pane, density=3.0)  # a small pane needs a thicker fall to read as weather
            # the sky is opaque: "over" it by the pane's alpha
            a = pane[..., 3].astype(np.float32) * (1 / 255)
            sub = np.ascontiguousarray(sky[y0:y1, x0:x1])
            sky[y0:y1, x0:x1] = cv2.blendLinear(pane, sub, a, 1 - a)
            sky[y0:y1, x0:x1, 3] = 255
        return None
    fx = R.new_layer(c.w, c.h, (220, 225, 235))
    _particles(c, fx)
    return fx


def _particles(c: Canvas, fx: np.ndarray, density: float = 1.0) -> None:
    """Draw the weather's particles over the whole of ``fx`` (the frame, or one window pane);
    sizes in the frame's units."""
    look, rng = c.look, c.fx_rng
    h, w = fx.shape[:2]
    area = w * h * density
    if look.rain > 0:
        n = int(look.rain * area / 2600)
        x = rng.uniform(-0.1, 1.1, n) * w
        y = rng.uniform(-0.05, 1.0, n) * h
        ln = rng.uniform(14, 34, n) * c.s
        slant = 0.18 + look.wind * 0.3
        segs = np.stack([np.stack([x, y], 1), np.stack([x - ln * slant, y + ln], 1)], 1)
        half = n // 2  # two passes: faint far drops and brighter near ones
        R.lines(fx, segs[:half], mix(look.sky_horizon, (230, 235, 245), 0.6), c.s * 1.5, 0.35)
        R.lines(fx, segs[half:], mix(look.sky_horizon, (240, 244, 250), 0.7), c.s * 2.2, 0.55)
    if look.snow > 0:
        n = int(look.snow * area / 5000)
        for x, y, r in zip(rng.uniform(0, w, n), rng.uniform(0, h, n), rng.uniform(1.5, 5.5, n) * c.s):
            R.circle(fx, x, y, r, (245, 248, 255), 0.55 + r / (12 * c.s))
    if look.wind > 0 and look.rain <= 0 and look.snow <= 0:
        n = max(1, int(area / 60000))
        x, y = rng.uniform(0, w, n), rng.uniform(0.2, 1.0, n) * h
        ln = rng.uniform(40, 120, n) * c.s
        segs = np.stack([np.stack([x, y], 1), np.stack([x + ln, y - ln * 0.12], 1)], 1)
        R.lines(fx, segs, mix(look.haze, (240, 230, 210), 0.5), c.s * 1.6, 0.35)


# --------------------------------------------------------------------------- shared props


def pine(layer: np.ndarray, x: float, base: float, height: float, rgb: RGB, tiers: int = 3) -> None:
    w = height * 0.42
    R.rect(layer, x - w * 0.06, base - height * 0.2, x + w * 0.06, base, mul(rgb, 0.8))
    for i in range(tiers):
        top = base - height + i * height * 0.22
        bot = base - height * 0.12 - (tiers - 1 - i) * height * 0.18
        half = w * (0.5 + i * 0.25) / (1 + (tiers - 1) * 0.25) * 1.05
        R.poly(layer, [(x, top), (x + half, bot), (x - half, bot)], rgb)


def round_tree(layer: np.ndarray, x: float, base: float, height: float, rgb: RGB, rng: np.random.Generator) -> None:
    trunk = mul(rgb, 0.75)
    R.poly(layer, [(x - height * 0.04, base), (x + height * 0.04, base), (x + height * 0.02, base - height * 0.55),
                   (x - height * 0.02, base - height * 0.55)], trunk)
    cy, r = base - height * 0.68, height * 0.3
    for _ in range(7):
        R.circle(layer, x + rng.normal(0, r * 0.5), cy + rng.normal(0, r * 0.35), r * rng.uniform(0.45, 0.7), rgb)


def house(c: Canvas, layer: np.ndarray, x: float, base: float, w: float, h: float, wall: RGB, roof: RGB,
          lit: float) -> None:
    roof_h = h * c.rng.uniform(0.45, 0.7)
    R.rect(layer, x, base - h, x + w, base, wall)
    R.poly(layer, [(x - w * 0.06, base - h), (x + w * 0.5, base - h - roof_h), (x + w * 1.06, base - h)], roof)
    if c.rng.random() < 0.6:
        cx = x + w * c.rng.uniform(0.62, 0.8)
        R.rect(layer, cx, base - h - roof_h * 0.9, cx + w * 0.09, base - h - roof_h * 0.35, roof)
    ww = w * 0.16
    for i in range(2):
        wx = x + w * (0.18 + i * 0.48)
        on = c.rng.random() < lit
        R.rect(layer, wx, base - h * 0.7, wx + ww, base - h * 0.4, c.window(on) if on else mul(wall, 0.6))
    R.rect(layer, x + w * 0.43, base - h * 0.45, x + w * 0.57, base, mul(wall, 0.55))


def rock(layer: np.ndarray, x: float, base: float, size: float, rgb: RGB, rng: np.random.Generator) -> None:
    n = 7
    ang = np.linspace(np.pi, 2 * np.pi, n)
    rad = size * rng.uniform(0.6, 1.0, n)
    pts = np.stack([x + np.cos(ang) * rad * 1.4, base + np.sin(ang) * rad * 0.8], 1)
    R.poly(layer, np.concatenate([pts, [[x + size * 1.4, base + size * 0.1], [x - size * 1.4, base + size * 0.1]]]), rgb)


def grass(layer: np.ndarray, c: Canvas, y0: float, y1: float, rgb: RGB, density: float = 1.0) -> None:
    n = int(density * c.w / (6 * c.s))
    x = c.rng.uniform(0, c.w, n)
    y = c.rng.uniform(y0, y1, n)
    ln = c.rng.uniform(12, 40, n) * c.s * (0.5 + (y - y0) / max(1.0, y1 - y0))
    lean = (c.rng.normal(0, 0.25, n) + c.look.wind * 0.5) * ln
    segs = np.stack([np.stack([x, y], 1), np.stack([x + lean, y - ln], 1)], 1)
    R.lines(layer, segs, rgb, c.s * 2.5)


def is_lit_hour(c: Canvas) -> bool:
    return c.look.night or c.look.sun_height < 0.2 or luma(c.look.sky_horizon) < 90
