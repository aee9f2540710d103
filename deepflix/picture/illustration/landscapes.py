"""Open-air settings: forest, desert, mountains, field (coast, lighthouse and underwater
are waterscapes.py's, re-exported here for the illustrator's table).

Each drawer fills the canvas's far, mid and near layers with silhouettes whose
colour comes from their depth (far things fade into the horizon's haze) and
sets ``ground_y``, where people stand in a wide shot. Sizes are in ``c.s``
units (a thousandth of the short side) so every resolution gets the same picture.
"""

from __future__ import annotations

import numpy as np

from . import raster as R
from .palette import RGB, mix, mul
from .scenery import (
    Canvas,
    grass,
    pine,
    round_tree,
    sky_shape,
)
from .waterscapes import coast, lighthouse, underwater


def forest(c: Canvas) -> None:
    far, mid, near = c.layers["far"], c.layers["mid"], c.layers["near"]
    xs, ys = R.ridge(c.w, c.horizon - c.h * 0.04, c.h * 0.05, c.rng)
    R.fill_below(far, xs, ys, c.color("far", -0.1))
    col = c.color("far")
    for x in np.arange(-20, c.w + 20, c.s * 22) + c.rng.uniform(0, c.s * 10):  # the tree line on the hills
        base = float(np.interp(x, xs, ys)) + c.s * 8
        pine(far, x, base, c.s * c.rng.uniform(40, 75), col, tiers=2)
    col = c.color("mid")
    ground = c.horizon + c.h * 0.12
    R.rect(mid, -5, ground, c.w + 5, c.h + 5, mul(col, 0.95))
    for x in np.sort(c.rng.uniform(-0.05, 1.05, 16)) * c.w:
        pine(mid, x, ground + c.rng.uniform(-0.02, 0.03) * c.h, c.s * c.rng.uniform(220, 380), col)
    if not c.look.night and c.look.clouds < 0.7:  # shafts of light between the trunks
        shafts = []
        for _ in range(4):
            x = c.rng.uniform(0.1, 0.9) * c.w
            wdt = c.rng.uniform(20, 60) * c.s
            slope = -c.light_dir * c.h * 0.35
            shafts.append(np.array([(x, 0), (x + wdt, 0), (x + wdt + slope, c.h), (x + slope, c.h)]))

        def draw(m: np.ndarray, sc: float) -> None:
            for pts in shafts:
                R.cv2.fillPoly(m, [np.round(pts * sc).astype(np.int32)], 255)

        sky_shape(c, draw, c.look.sun, 0.3, c.s * 8)
        m = R.soft_mask(c.w, c.h, draw, c.s * 8)
        R.blend_color(c.layers["far"], m * 0.3, c.look.sun)
    col = c.color("near")
    c.ground_y = c.h * 0.9
    xs, ys = R.ridge(c.w, c.h * 0.9, c.h * 0.02, c.rng, octaves=3)
    R.fill_below(near, xs, ys, col)
    for side in (-1, 1):  # big trunks framing the shot
        if c.rng.random() < 0.8:
            x = c.w * (0.5 + side * c.rng.uniform(0.4, 0.5))
            wdt = c.s * c.rng.uniform(45, 80)
            R.poly(near, [(x - wdt, -5), (x + wdt, -5), (x + wdt * 1.3, c.h + 5), (x - wdt * 1.3, c.h + 5)], col)
    grass(near, c, c.h * 0.9, c.h, mul(col, 1.15))


def _dune_profile(c: Canvas, base: float, amp: float, n: int,
                  d: float) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float, float, float]]]:
    """A row of dunes: the silhouette (xs, ys) and each dune's (crest x, crest y, trough x, trough y)
    on its lee side ``d`` (+1: right). The windward side rises in a smooth curve to a crest that
    breaks sharply down the steeper lee face, as wind-built dunes do."""
    gap = c.w * 1.3 / n
    crests = (np.arange(n + 2) - 1 + c.rng.uniform(-0.25, 0.25, n + 2)) * gap - c.w * 0.15
    tops = base - amp * c.rng.uniform(0.55, 1.0, n + 2)
    lows = base + amp * c.rng.uniform(0.15, 0.45, n + 1)
    troughs = crests[:-1] + np.diff(crests) * (0.32 if d > 0 else 0.68)  # near the crest whose lee falls to it
    kx_a, ky_a = np.empty(2 * n + 3), np.empty(2 * n + 3)
    kx_a[0::2], kx_a[1::2], ky_a[0::2], ky_a[1::2] = crests, troughs, tops, lows
    # each crest's lee trough: the next one to the right (d > 0) or the one before it (d < 0)
    k0 = 0 if d > 0 else 1
    dunes = [(crests[k + k0], tops[k + k0], troughs[k], lows[k]) for k in range(n + 1)]
    xs = np.arange(-c.w * 0.15, c.w * 1.15, max(2.0, c.s * 5))
    idx = np.clip(np.searchsorted(kx_a, xs) - 1, 0, len(kx_a) - 2)
    t = np.clip((xs - kx_a[idx]) / (kx_a[idx + 1] - kx_a[idx]), 0, 1)
    # lee faces (crest -> trough going right with d > 0, or trough -> crest with d < 0) break at the crest
    from_crest = ky_a[idx] < ky_a[idx + 1]
    sharp = np.where(from_crest, 1 - (1 - t) ** 2, t**2)
    smooth = (1 - np.cos(t * np.pi)) / 2
    lee = (from_crest & (d > 0)) | (~from_crest & (d < 0))
    e = np.where(lee, sharp, smooth)
    ys = ky_a[idx] + (ky_a[idx + 1] - ky_a[idx]) * e
    return xs, ys, dunes


def _dunes(c: Canvas, layer: np.ndarray, base: float, amp: float, n: int, sand: RGB, shadow: RGB,
           glint: RGB, ripples: int) -> None:
    d = -c.light_dir  # the lee faces are the ones turned from the sun
    xs, ys, dunes = _dune_profile(c, base, amp, n, d)
    R.fill_below(layer, xs, ys, sand)
    t = np.linspace(0, 1, 20)[:, None]
    reach = amp * 2.4  # how far down the dune the lines run before they go straight (behind the next row)

    def down(x0: float, y0: float, sweep: float) -> np.ndarray:
        """A line from a crest or a trough down the dune toward us, curving to the lee side."""
        return np.concatenate([x0 + d * sweep * np.sin(t * np.pi / 2) ** 0.8, y0 + t * reach], 1)

    for cx, cy, tx, ty in dunes:
        # the crest line snakes down from the top and the trough line follows it: between them the
        # lee face, turned from the sun, in shade; the windward face beyond the trough is lit
        span = abs(tx - cx)
        crest, foot = down(cx, cy, span * 0.55), down(tx, ty, span * 0.2)
        sel = ((xs - cx) * d >= 0) & ((xs - tx) * d <= 0)
        lee = np.stack([xs[sel], ys[sel]], 1)
        lee = lee if d > 0 else lee[::-1]
        tail = [[foot[-1, 0], c.h + 5], [crest[-1, 0], c.h + 5]]
        R.poly(layer, np.concatenate([[[cx, cy]], lee, foot, tail, crest[::-1]]), shadow)
        R.glaze_lines(layer, np.stack([crest[:-1], crest[1:]], 1)[:14] - [d * c.s * 3, 0], glint, c.s * 4, 0.55)
    if ripples:  # wind ripples on the lit faces: shallow arcs, thinner with distance
        x = c.rng.uniform(0, c.w, ripples)
        y = np.interp(x, xs, ys) + c.rng.uniform(0.15, 1.0, ripples) * amp * 1.3
        ln = c.rng.uniform(30, 80, ripples) * c.s * (amp / (c.h * 0.07))
        bow = ln * 0.12
        segs = np.concatenate([np.stack([np.stack([x - ln, y + bow], 1), np.stack([x, y], 1)], 1),
                               np.stack([np.stack([x, y], 1), np.stack([x + ln, y + bow * 0.5], 1)], 1)])
        R.glaze_lines(layer, segs, shadow, c.s * 2, 0.35)


def desert(c: Canvas) -> None:
    far, mid, near = c.layers["far"], c.layers["mid"], c.layers["near"]
    look = c.look
    col = c.color("far", -0.1)
    for _ in range(int(c.rng.integers(1, 4))):  # mesas
        x, wdt, hgt = c.rng.uniform(0, 1) * c.w, c.rng.uniform(0.08, 0.2) * c.w, c.rng.uniform(0.04, 0.1) * c.h
        R.poly(far, [(x - wdt * 0.7, c.horizon + 2), (x - wdt * 0.45, c.horizon - hgt), (x + wdt * 0.4, c.horizon - hgt),
                     (x + wdt * 0.7, c.horizon + 2)], col)
    R.rect(far, -5, c.horizon, c.w + 5, c.h + 5, c.color("far"))
    lit_side = look.lit((240, 196, 136))
    # how deep the shade is: a low sun carves the dunes, a high or veiled one flattens them
    depth_of_shade = (0.5 + 0.45 * (1 - look.sun_height)) * (1 - 0.6 * look.clouds)
    cool = mix(look.sky_top, (70, 80, 120), 0.4)
    for layer, base, amp, depth, n, rip in ((mid, c.horizon + c.h * 0.05, c.h * 0.035, 0.45, 5, 0),
                                            (mid, c.horizon + c.h * 0.14, c.h * 0.055, 0.62, 4, 25),
                                            (near, c.h * 0.83, c.h * 0.075, 0.85, 3, 40)):
        sand = mix(look.depth(depth), lit_side, 0.55)
        shadow = mix(sand, mix(mul(sand, 0.55), cool, 0.3), depth_of_shade * (0.6 + 0.4 * depth))
        glint = mix(sand, mix(look.sun, (255, 255, 255), 0.3), 0.5 * (1 - look.clouds * 0.7))
        _dunes(c, layer, base, amp, n, sand, shadow, glint, rip)
    c.ground_y = c.h * 0.92
    for _ in range(int(c.rng.integers(1, 3))):  # a saguaro
        x, hgt = c.rng.uniform(0.05, 0.95) * c.w, c.s * c.rng.uniform(140, 260)
        col = mix(c.color("near"), look.lit((60, 90, 50)), 0.5)
        R.line(near, [(x, c.h * 0.93), (x, c.h * 0.93 - hgt)], col, c.s * 26)
        for d in (-1, 1):
            y = c.h * 0.93 - hgt * c.rng.uniform(0.35, 0.6)
            R.line(near, [(x, y), (x + d * hgt * 0.2, y), (x + d * hgt * 0.2, y - hgt * 0.3)], col, c.s * 18)


def mountains(c: Canvas) -> None:
    far, mid, near = c.layers["far"], c.layers["mid"], c.layers["near"]
    snow = c.look.lit((236, 240, 250))
    for layer, depth, base, height, n in ((far, "far", c.horizon, c.h * 0.3, 5), (mid, "mid", c.horizon + c.h * 0.1,
                                                                                 c.h * 0.22, 4)):
        col = c.color(depth, -0.1 if depth == "far" else 0)
        xs = np.sort(np.concatenate([[-0.1, 1.1], c.rng.uniform(0, 1, n * 2)])) * c.w
        ys = np.array([base - (height * c.rng.uniform(0.5, 1.0) if i % 2 else height * c.rng.uniform(0.1, 0.3))
                       for i in range(len(xs))])
        ys[0] = ys[-1] = base
        fine_x, fine_y = R.ridge(c.w, 0, c.h * 0.012, c.rng, octaves=3, freq=20)
        px = np.linspace(xs[0], xs[-1], 300)
        py = np.interp(px, xs, ys) + np.interp(px, fine_x, fine_y)
        R.poly(layer, np.concatenate([np.stack([px, py], 1), [[px[-1], c.h + 5], [px[0], c.h + 5]]]), col)
        cap = mix(col, snow, 0.55 if depth == "far" else 0.75)
        for i in range(1, len(xs) - 1, 2):  # snow caps on the high peaks
            if base - ys[i] > height * 0.6:
                d = (base - ys[i]) * 0.22
                sel = (px > xs[i] - d * 1.6) & (px < xs[i] + d * 1.6)
                top = np.stack([px[sel], py[sel]], 1)
                if len(top) > 2:
                    jag = ys[i] + d * (0.8 + 0.35 * np.sin(np.linspace(0, 9, len(top))))
                    R.poly(layer, np.concatenate([top, np.stack([top[::-1, 0], np.maximum(jag, top[::-1, 1])], 1)]), cap)
        # the shaded flank away from the light
        R.shade_rows(layer, 1.0, 0.8, int(base - height), int(base))
    col = c.color("near")
    xs, ys = R.ridge(c.w, c.h * 0.84, c.h * 0.05, c.rng, octaves=3, freq=2)
    R.fill_below(near, xs, ys, col)
    c.ground_y = c.h * 0.92
    for x in c.rng.uniform(0, 1, 5) * c.w:
        base = float(np.interp(x, xs, ys)) + c.s * 10
        pine(near, x, base, c.s * c.rng.uniform(120, 220), mul(col, 0.9))


def field(c: Canvas) -> None:
    far, mid, near = c.layers["far"], c.layers["mid"], c.layers["near"]
    xs, ys = R.ridge(c.w, c.horizon, c.h * 0.035, c.rng, octaves=3, freq=2)
    R.fill_below(far, xs, ys, c.color("far"))
    for x in c.rng.uniform(0, 1, 10) * c.w:  # a far hedge of trees
        round_tree(far, x, float(np.interp(x, xs, ys)) + 2, c.s * c.rng.uniform(30, 55), c.color("far", 0.05), c.rng)
    green = c.look.lit((118, 150, 64))
    gold = c.look.lit((214, 180, 90))
    for k in range(3):  # rolling fields in alternating crops
        xs, ys = R.ridge(c.w, c.horizon + c.h * (0.04 + k * 0.07), c.h * 0.03, c.rng, octaves=2, freq=2)
        R.fill_below(mid, xs, ys, mix(green if k % 2 else gold, c.color("mid"), 0.55 - k * 0.15))
    if c.rng.random() < 0.8:
        x = c.w * (0.5 + c.light_dir * c.rng.uniform(0.15, 0.35))
        round_tree(mid, x, c.horizon + c.h * 0.13, c.s * 260, c.color("mid", 0.1), c.rng)
    col = mix(c.color("near"), green, 0.3)
    xs, ys = R.ridge(c.w, c.h * 0.86, c.h * 0.02, c.rng, octaves=3)
    R.fill_below(near, xs, ys, col)
    c.ground_y = c.h * 0.92
    grass(near, c, c.h * 0.86, c.h, mix(col, gold, 0.3), 1.3)
    if c.rng.random() < 0.6:  # a fence along the bottom
        fence = mul(col, 0.7)
        y = c.h * 0.95
        for x in np.arange(c.rng.uniform(0, 60) * c.s, c.w, 140 * c.s):
            R.rect(near, x, y - 90 * c.s, x + 10 * c.s, y + 10 * c.s, fence)
        R.line(near, [(0, y - 70 * c.s), (c.w, y - 66 * c.s)], fence, 7 * c.s)
        R.line(near, [(0, y - 35 * c.s), (c.w, y - 32 * c.s)], fence, 7 * c.s)


__all__ = ["coast", "desert", "field", "forest", "lighthouse", "mountains", "underwater"]
