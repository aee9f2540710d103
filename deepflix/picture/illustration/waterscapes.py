"""Settings by the water: coast, lighthouse, underwater, and the sea, lake and ice surfaces
a shore is drawn with (deepflix/waterside.py says which).

Same contract as ``landscapes`` (split from it): each drawer fills the canvas's far,
mid and near layers and sets ``ground_y``; sizes are in ``c.s`` units.
"""

from __future__ import annotations

import numpy as np

from . import raster as R
from .palette import RGB, mix, mul
from .scenery import (
    Canvas,
    grass,
    house,
    is_lit_hour,
    pine,
    rock,
    sky_glow,
    sky_shape,
)


def _surface(c: Canvas, layer: np.ndarray, far: RGB, near: RGB, power: float) -> None:
    """Fill from the horizon down with a colour running from ``far`` to ``near`` (opaque)."""
    ys = np.arange(c.h, dtype=np.float32)
    t = np.clip((ys - c.horizon) / max(1.0, c.h - c.horizon), 0, 1) ** power
    col = np.stack([np.interp(t, [0, 1], [far[i], near[i]]) for i in (2, 1, 0)], 1)
    band = slice(int(c.horizon), c.h)
    layer[band, :, :3] = np.round(col[band]).astype(np.uint8)[:, None, :]
    layer[band, :, 3] = 255


def _sea(c: Canvas, layer: np.ndarray, calm: bool = False) -> None:
    """Open water to the horizon with the sun's glitter; a lake (``calm``) has fewer, finer ripples."""
    look = c.look
    sea_top = mix(look.sky_horizon, look.sky_top, 0.45)
    sea_bot = mix(mul(look.sky_top, 0.55), (10, 30, 45), 0.4)
    _surface(c, layer, sea_top, sea_bot, 0.7)
    # glitter under the sun: short horizontal strokes, denser near its column
    sx = c.sun_xy[0]
    n = int(c.w * 0.35)
    y = c.horizon + (c.rng.random(n) ** 1.8) * (c.h - c.horizon)
    spread = (y - c.horizon) / (c.h - c.horizon) * c.w * 0.25 + c.w * 0.02
    x = sx + c.rng.normal(0, 1, n) * spread
    ln = c.rng.uniform(6, 30, n) * c.s * (0.3 + (y - c.horizon) / (c.h - c.horizon))
    segs = np.stack([np.stack([x - ln, y], 1), np.stack([x + ln, y], 1)], 1)
    glint = mix(look.sun, (255, 255, 255), 0.4) if look.clouds < 0.8 else mix(look.sky_horizon, (255, 255, 255), 0.2)
    R.glaze_lines(layer, segs, glint, c.s * 2, 0.8 if look.clouds < 0.8 else 0.35)
    # wave lines everywhere else
    n = int(c.w * (0.08 if calm else 0.25))
    y = c.horizon + (c.rng.random(n) ** 1.5) * (c.h - c.horizon)
    x = c.rng.uniform(0, c.w, n)
    ln = c.rng.uniform(10, 40, n) * c.s * (0.2 + (y - c.horizon) / (c.h - c.horizon))
    segs = np.stack([np.stack([x - ln, y], 1), np.stack([x + ln, y], 1)], 1)
    R.glaze_lines(layer, segs, mix(sea_top, (255, 255, 255), 0.25), c.s * 1.5, 0.6)


def _ice(c: Canvas, layer: np.ndarray) -> None:
    """A frozen lake to the far shore: grey-blue ice under the sky's light, half buried in
    soft drifts of snow, scored with dark cracks, with a dull glow under the sun (ice
    does not glitter as water does)."""
    look = c.look
    far_ice = mix(c.look.lit((206, 218, 228)), look.sky_horizon, 0.45)
    near_ice = mix(c.look.lit((168, 186, 200)), look.sky_top, 0.2)
    _surface(c, layer, far_ice, near_ice, 0.8)
    depth = c.h - c.horizon
    if c.sun_visible and look.clouds < 0.8:
        R.add_glow(layer, c.sun_xy[0], c.horizon + depth * 0.12, c.w * 0.22, mix(look.sun, (255, 255, 255), 0.5),
                   0.35, opaque=True)
    n = 26  # drifts: long soft banks of snow, flattened by the distance
    persp = 0.2 + (c.rng.random(n) ** 1.3) * 0.8
    drifts = np.stack([c.rng.uniform(-0.1, 1.1, n) * c.w, c.horizon + (persp - 0.2) / 0.8 * depth,
                       c.rng.uniform(90, 260, n) * c.s * persp, c.rng.uniform(5, 16, n) * c.s * persp], 1)

    def draw(m: np.ndarray, sc: float) -> None:
        for x, y, a, b in drifts * sc:
            R.cv2.ellipse(m, (int(x), int(y)), (max(1, int(a)), max(1, int(b))), 0, 0, 360, 255, -1)

    R.blend_color(layer, R.soft_mask(c.w, c.h, draw, c.s * 5) * 0.6, c.look.lit((236, 240, 246)))
    crack = mul(near_ice, 0.5)
    for _ in range(30):  # cracks: a few long straight runs with sharp turns, flattened by the distance
        p = 0.25 + (c.rng.random() ** 1.2) * 0.75
        k = int(c.rng.integers(3, 7))
        dx = c.rng.uniform(30, 110, k) * c.s * p * c.rng.choice([-1, 1])
        dy = c.rng.normal(0, 0.5, k) * np.abs(dx) * p * 0.5
        x0, y0 = c.rng.uniform(0, c.w), c.horizon + (p - 0.25) / 0.75 * depth
        pts = np.stack([x0 + np.concatenate([[0], np.cumsum(dx)]), y0 + np.concatenate([[0], np.cumsum(dy)])], 1)
        pts[:, 1] = np.clip(pts[:, 1], c.horizon + 2, c.h)
        R.line(layer, pts, crack, c.s * (1.2 + 1.5 * p), 0.7)


def _far_shore(c: Canvas, layer: np.ndarray, snowy: bool) -> None:
    """The lake's other side: a line of pines on low hills along the whole horizon."""
    xs, ys = R.ridge(c.w, c.horizon - c.h * 0.025, c.h * 0.018, c.rng)
    tree = c.color("far", -0.05)
    for x in np.arange(-20, c.w + 20, c.s * 14) + c.rng.uniform(0, c.s * 8):
        height = c.s * c.rng.uniform(25, 55)
        pine(layer, x, float(np.interp(x, xs, ys)) + height * 0.12, height, tree, tiers=2)
    col = c.color("far", -0.1)
    if snowy:
        col = mix(col, c.look.lit((230, 234, 240)), 0.35)
    # the hills' face, over the trees' feet (their trunks would dot the shoreline)
    R.poly(layer, np.concatenate([np.stack([xs, np.minimum(ys, c.horizon)], 1),
                                  [[c.w + 5, c.horizon + 1.5], [-5, c.horizon + 1.5]]]), col)


def _lake_bank(c: Canvas, near: np.ndarray, frozen: bool) -> None:
    """The near shore: a grassy bank with reeds at the water, or a bank of snow."""
    col = c.color("near")
    if frozen:
        bank = mix(c.look.lit((232, 236, 242)), col, 0.25 if not c.look.night else 0.55)
    else:
        bank = mix(c.look.lit((104, 118, 76)), col, 0.4 if not c.look.night else 0.7)
    xs, ys = R.ridge(c.w, c.h * 0.87, c.h * 0.02, c.rng, octaves=3)
    R.fill_below(near, xs, ys, bank)
    c.ground_y = c.h * 0.92
    if frozen:
        R.line(near, np.stack([xs, ys + c.s * 2], 1), mul(bank, 0.85), c.s * 4, 0.7)  # the bank's shadowed lip
        for _ in range(2):
            x = c.rng.uniform(0, 1) * c.w
            rock(near, x, c.h * c.rng.uniform(0.93, 1.0), c.s * c.rng.uniform(30, 60), mul(col, 0.8), c.rng)
        return
    reeds = mul(bank, 0.8)
    for x in np.concatenate([c.rng.uniform(0, 0.3, 40), c.rng.uniform(0.7, 1.0, 40)]) * c.w:
        y = float(np.interp(x, xs, ys)) + c.s * c.rng.uniform(0, 10)
        ln = c.s * c.rng.uniform(40, 110)
        lean = (c.rng.normal(0, 0.15) + c.look.wind * 0.4) * ln
        R.line(near, [(x, y), (x + lean, y - ln)], reeds, c.s * 2.5)
    grass(near, c, c.h * 0.9, c.h, mul(bank, 1.1))


def coast(c: Canvas, lighthouse_side: float | None = None) -> None:
    far, mid, near = c.layers["far"], c.layers["mid"], c.layers["near"]
    if c.water in ("lake", "ice"):  # a lake's shore: the far side across the water, no cliffs
        if c.water == "ice":
            _ice(c, far)
        else:
            _sea(c, far, calm=True)
        _far_shore(c, far, snowy=c.water == "ice" or c.look.snow > 0)
        _lake_bank(c, near, frozen=c.water == "ice")
        return
    _sea(c, far)
    side = -c.light_dir if lighthouse_side is None else lighthouse_side
    # a distant headland on the horizon
    hx = c.w * (0.5 - side * c.rng.uniform(0.15, 0.35))
    xs = np.linspace(hx - c.w * 0.2, hx + c.w * 0.2, 40)
    ys = c.horizon - np.sin(np.linspace(0, np.pi, 40)) ** 0.6 * c.h * c.rng.uniform(0.02, 0.05)
    R.poly(far, np.concatenate([np.stack([xs, ys], 1), [[xs[-1], c.horizon + 1], [xs[0], c.horizon + 1]]]),
           mix(c.color("far", -0.15), mix(c.look.sky_horizon, c.look.sky_top, 0.45), 0.3))
    # the cliff on one side
    col = c.color("mid")
    edge = c.w * (0.5 + side * c.rng.uniform(0.12, 0.22))
    outer = c.w * (0.5 + side * 0.6)
    top = c.horizon - c.h * c.rng.uniform(0.1, 0.18)
    xs, ys = R.ridge(int(abs(outer - edge)), 0, c.h * 0.015, c.rng, octaves=3)
    xs = edge + np.sign(outer - edge) * xs
    cliff = [(edge - side * c.s * 60, c.h + 5), (edge, top + c.h * 0.05)] + [
        (x, top + y) for x, y in zip(xs, ys)] + [(outer, c.h + 5)]
    R.poly(mid, cliff, col)
    c.cliff = (edge, outer, top)  # type: ignore[attr-defined]  # the lighthouse stands on it
    # beach with foam at the waterline
    col = c.color("near")
    sand = mix(c.look.lit((196, 176, 138)), col, 0.35 if not c.look.night else 0.7)
    xs, ys = R.ridge(c.w, c.h * 0.86, c.h * 0.025, c.rng, octaves=3)
    R.fill_below(near, xs, ys, sand)
    R.line(near, np.stack([xs, ys - c.s * 3], 1), mix(sand, (255, 255, 255), 0.5), c.s * 5, 0.9)
    c.ground_y = c.h * 0.92
    for _ in range(3):
        rock(near, c.rng.uniform(0, 1) * c.w, c.h * c.rng.uniform(0.9, 1.0), c.s * c.rng.uniform(30, 80),
             mul(col, 0.8), c.rng)


def lighthouse(c: Canvas) -> None:
    side = c.light_dir if c.rng.random() < 0.5 else -c.light_dir
    coast(c, lighthouse_side=side)
    mid = c.layers["mid"]
    edge, outer, top = c.cliff  # type: ignore[attr-defined]
    x = edge + (outer - edge) * 0.22
    hgt, wdt = c.h * 0.36, c.s * 48
    base = top + c.h * 0.01
    white = c.look.lit((232, 228, 220))
    red = c.look.lit((178, 40, 36))
    shade = 0.55 if c.look.night else 1.0
    R.poly(mid, [(x - wdt, base), (x + wdt, base), (x + wdt * 0.7, base - hgt), (x - wdt * 0.7, base - hgt)],
           mul(white, shade))
    for k in range(3):  # red bands
        y0 = base - hgt * (0.2 + k * 0.28)
        y1 = y0 - hgt * 0.12
        w0 = wdt * (1 - 0.3 * (base - y0) / hgt)
        w1 = wdt * (1 - 0.3 * (base - y1) / hgt)
        R.poly(mid, [(x - w0, y0), (x + w0, y0), (x + w1, y1), (x - w1, y1)], mul(red, shade))
    lamp_y = base - hgt - wdt * 0.7
    R.rect(mid, x - wdt * 0.85, base - hgt - c.s * 6, x + wdt * 0.85, base - hgt + c.s * 4, mul(white, 0.3))
    lamp = c.look.grade((255, 236, 170))
    R.rect(mid, x - wdt * 0.5, lamp_y - wdt * 0.35, x + wdt * 0.5, base - hgt - c.s * 6, lamp)
    R.poly(mid, [(x - wdt * 0.7, lamp_y - wdt * 0.35), (x + wdt * 0.7, lamp_y - wdt * 0.35), (x, lamp_y - wdt * 1.2)],
           mul(red, 0.6 * shade))
    house(c, mid, x + (outer - edge) * 0.12, base + c.s * 4, c.s * 120, c.s * 70, mul(white, shade * 0.9),
          mul(red, 0.7 * shade), 0.8)
    if is_lit_hour(c) or c.look.fog > 0.2 or c.look.rain > 0:
        d = -side
        beam = np.array([(x, lamp_y - c.s * 4), (x, lamp_y + c.s * 4), (x + d * c.w * 0.9, lamp_y + c.h * 0.12),
                         (x + d * c.w * 0.9, lamp_y - c.h * 0.16)])
        sky_shape(c, lambda m, sc: R.cv2.fillPoly(m, [np.round(beam * sc).astype(np.int32)], 255), lamp, 0.4,
                  c.s * 10)
        sky_glow(c, x, lamp_y, c.s * 160, lamp, 0.8)


def underwater(c: Canvas) -> None:
    far, mid, near = c.layers["far"], c.layers["mid"], c.layers["near"]
    look = c.look
    c.sun_visible = False
    light = mix(look.sky_top, (220, 250, 255), 0.5)
    rays = []
    for _ in range(7):  # light shafts from the surface
        x, wdt = c.rng.uniform(-0.1, 1.1) * c.w, c.rng.uniform(20, 90) * c.s
        rays.append(np.array([(x, 0), (x + wdt, 0), (x + wdt * 3 + c.w * 0.1, c.h), (x + c.w * 0.1, c.h)]))

    def draw(m: np.ndarray, sc: float) -> None:
        for pts in rays:
            R.cv2.fillPoly(m, [np.round(pts * sc).astype(np.int32)], 64)

    sky_shape(c, draw, light, 0.3 if look.night else 0.8, c.s * 16)
    col = c.color("far")
    xs, ys = R.ridge(c.w, c.h * 0.7, c.h * 0.08, c.rng, octaves=3, freq=2)
    R.fill_below(far, xs, ys, col)
    kelp = mix(c.color("mid"), look.lit((40, 110, 70)), 0.5)
    for x in c.rng.uniform(0, 1, 9) * c.w:
        hgt = c.rng.uniform(0.3, 0.6) * c.h
        t = np.linspace(0, 1, 24)
        px = x + np.sin(t * 6 + c.rng.uniform(0, 6)) * c.s * 25 * t
        R.line(mid, np.stack([px, c.h * 0.85 - t * hgt], 1), kelp, c.s * c.rng.uniform(10, 18))
    fish = mix(c.color("mid"), look.sky_top, 0.2)
    for _ in range(int(c.rng.integers(4, 10))):
        x, y, s = c.rng.uniform(0, 1) * c.w, c.rng.uniform(0.15, 0.6) * c.h, c.s * c.rng.uniform(14, 30)
        d = 1 if c.rng.random() < 0.5 else -1
        R.ellipse(mid, x, y, s * 1.6, s * 0.6, fish)
        R.poly(mid, [(x - d * s * 1.4, y), (x - d * s * 2.4, y - s * 0.7), (x - d * s * 2.4, y + s * 0.7)], fish)
    col = c.color("near")
    xs, ys = R.ridge(c.w, c.h * 0.88, c.h * 0.03, c.rng, octaves=3)
    R.fill_below(near, xs, ys, mix(col, look.lit((180, 160, 120)), 0.3))
    c.ground_y = c.h * 0.93
    coral = (look.lit((230, 110, 100)), look.lit((240, 170, 80)), look.lit((170, 90, 200)))
    for i, x in enumerate(c.rng.uniform(0, 1, 6) * c.w):
        base = float(np.interp(x, xs, ys)) + c.s * 6
        for k in range(5):
            a = -np.pi / 2 + (k - 2) * 0.35
            R.line(near, [(x, base), (x + np.cos(a) * c.s * 60, base + np.sin(a) * c.s * 70)], coral[i % 3], c.s * 12)
    R.glaze_circles(near, c.rng.uniform(0, c.w, 40), c.rng.uniform(0, c.h, 40), c.rng.uniform(3, 12, 40) * c.s,
                    mix(light, (255, 255, 255), 0.3), 0.35)
