"""Built settings: city, night street, interior, village, space.

Same contract as ``landscapes``: fill far, mid and near, set ``ground_y``.
"""

from __future__ import annotations

import numpy as np

from . import raster as R
from .palette import RGB, mix, mul
from .scenery import Canvas, grass, house, is_lit_hour, pine, round_tree, sky_glow


def _windows(c: Canvas, layer: np.ndarray, x0: float, y0: float, x1: float, y1: float, wall: RGB,
             cell: float, lit: float) -> None:
    """A grid of windows on a facade; at night some are lit."""
    night = is_lit_hour(c)
    dark = mul(wall, 0.7)
    cols = max(1, int((x1 - x0) / cell))
    rows = max(1, int((y1 - y0) / (cell * 1.3)))
    ox = x0 + ((x1 - x0) - cols * cell) / 2
    on = c.rng.random((rows, cols)) < (lit if night else 0.35)
    for r in range(rows):
        for k in range(cols):
            wx, wy = ox + k * cell + cell * 0.25, y0 + r * cell * 1.3 + cell * 0.35
            colour = (c.lit_window() if night else mix(c.look.sky_horizon, wall, 0.35)) if on[r, k] else dark
            R.rect(layer, wx, wy, wx + cell * 0.5, wy + cell * 0.7, colour)


def city(c: Canvas) -> None:
    far, mid, near = c.layers["far"], c.layers["mid"], c.layers["near"]
    for layer, depth, count, hmin, hmax in ((far, "far", 26, 0.1, 0.32), (mid, "mid", 9, 0.25, 0.6)):
        col = c.color(depth)
        xs = np.sort(c.rng.uniform(-0.05, 1.0, count)) * c.w
        base = c.horizon + (c.h * 0.12 if depth == "mid" else c.h * 0.02)
        for x in xs:
            wdt = c.w * c.rng.uniform(0.04, 0.09) * (1.8 if depth == "mid" else 1)
            top = base - c.h * c.rng.uniform(hmin, hmax)
            shade = mul(col, c.rng.uniform(0.88, 1.08))
            R.rect(layer, x, top, x + wdt, base + 2, shade)
            if c.rng.random() < 0.25:  # spires and antennas
                R.rect(layer, x + wdt * 0.45, top - c.h * 0.05, x + wdt * 0.55, top, shade)
            if depth == "mid":
                _windows(c, layer, x + wdt * 0.06, top + c.s * 20, x + wdt * 0.94, base - c.s * 30, shade, c.s * 26, 0.45)
            elif is_lit_hour(c):  # far windows are specks of light
                n = int(wdt * (base - top) / (c.s * c.s * 900))
                px, py = c.rng.uniform(x, x + wdt, n), c.rng.uniform(top, base, n)
                for a, b in zip(px, py):
                    R.rect(layer, a, b, a + c.s * 5, b + c.s * 7, c.lit_window())
        if depth == "far":
            R.rect(layer, -5, base, c.w + 5, c.h + 5, col)
    col = c.color("near")
    R.rect(mid, -5, c.horizon + c.h * 0.12, c.w + 5, c.h + 5, mix(c.color("mid"), col, 0.5))
    # the street in front: pavement, kerb, lamp posts
    R.rect(near, -5, c.h * 0.86, c.w + 5, c.h + 5, col)
    R.rect(near, -5, c.h * 0.86, c.w + 5, c.h * 0.875, mix(col, c.look.sky_horizon, 0.3))
    c.ground_y = c.h * 0.93
    _lamps(c, near, c.h * 0.93, c.s * 330, 2)


def _lamps(c: Canvas, layer: np.ndarray, base: float, height: float, count: int) -> None:
    col = mul(c.color("near"), 0.8)
    lamp = c.look.grade((255, 214, 150))
    on = is_lit_hour(c)
    for x in (np.arange(count) + c.rng.uniform(0.2, 0.8)) / count * c.w:
        R.line(layer, [(x, base), (x, base - height), (x + height * 0.12, base - height)], col, c.s * 9)
        R.ellipse(layer, x + height * 0.12, base - height + c.s * 8, c.s * 16, c.s * 9, lamp if on else col)
        if on:
            sky_glow(c, x + height * 0.12, base - height, c.s * 150, lamp, 0.6)
            R.add_glow(layer, x + height * 0.12, base - height, c.s * 120, lamp, 0.35)


def night_street(c: Canvas) -> None:
    """A street in one-point perspective: facades converge on the vanishing point."""
    far, mid, near = c.layers["far"], c.layers["mid"], c.layers["near"]
    vx, vy = c.w * (0.5 + c.rng.uniform(-0.08, 0.08)), c.horizon
    col = c.color("far")
    for x in np.linspace(vx - c.w * 0.12, vx + c.w * 0.12, 8):
        R.rect(far, x, vy - c.h * c.rng.uniform(0.05, 0.16), x + c.w * 0.035, vy + 2, col)
    road = mix(c.color("near"), (20, 20, 26), 0.4)
    R.poly(near, [(vx - c.w * 0.02, vy), (vx + c.w * 0.02, vy), (c.w * 1.1, c.h + 5), (-c.w * 0.1, c.h + 5)], road)
    c.ground_y = c.h * 0.93
    for side in (-1, 1):
        wall = mul(c.color("mid"), c.rng.uniform(0.85, 1.05))
        edge_x = vx + side * c.w * 0.06
        outer = c.w * (0.5 + side * 0.6)
        top_far, top_near = vy - c.h * 0.16, -c.h * 0.1
        bot_far, bot_near = vy + c.h * 0.02, c.h * 0.9
        R.poly(mid, [(edge_x, top_far), (outer, top_near), (outer, bot_near), (edge_x, bot_far)], wall)
        # windows in perspective: columns shrink toward the vanishing point
        for k in range(7):
            t0 = (k + 0.25) / 7.5
            t1 = t0 + 0.5 / 7.5
            xa, xb = edge_x + (outer - edge_x) * t0 ** 1.6, edge_x + (outer - edge_x) * t1 ** 1.6
            ya_t = top_far + (top_near - top_far) * t0 ** 1.6
            yb_t = top_far + (top_near - top_far) * t1 ** 1.6
            ya_b = bot_far + (bot_near - bot_far) * t0 ** 1.6
            yb_b = bot_far + (bot_near - bot_far) * t1 ** 1.6
            for r in range(3):
                f0, f1 = 0.12 + r * 0.24, 0.26 + r * 0.24
                lit = c.rng.random() < (0.55 if is_lit_hour(c) else 0.3)
                colr = c.lit_window() if lit and is_lit_hour(c) else mix(wall, c.look.sky_horizon, 0.25 if lit else 0)
                if not lit:
                    colr = mul(wall, 0.7)
                R.poly(mid, [(xa, ya_t + (ya_b - ya_t) * f0), (xb, yb_t + (yb_b - yb_t) * f0),
                             (xb, yb_t + (yb_b - yb_t) * f1), (xa, ya_t + (ya_b - ya_t) * f1)], colr)
    # lamps on both kerbs, shrinking with distance, and their reflections on the wet road
    lamp = c.look.grade((255, 210, 140))
    on = is_lit_hour(c)
    for k in range(4):
        t = (k + 1) / 4.5
        for side in (-1, 1):
            x = vx + side * (c.w * 0.03 + c.w * 0.5 * t ** 1.4)
            base = vy + (c.h * 0.95 - vy) * t ** 1.4
            hgt = c.h * 0.55 * t ** 1.4
            pole = mul(c.color("near"), 0.7)
            R.line(near, [(x, base), (x, base - hgt)], pole, max(1.0, c.s * 10 * t))
            R.circle(near, x, base - hgt, max(2.0, c.s * 14 * t), lamp if on else pole)
            if on:
                sky_glow(c, x, base - hgt, c.s * 220 * t, lamp, 0.7)
                R.add_glow(mid, x, base - hgt, c.s * 200 * t, lamp, 0.45)
                if c.look.rain > 0 or c.rng.random() < 0.7:  # wet asphalt mirrors the lamp
                    seg = np.array([[[x, base + c.s * 8], [x + side * c.s * 6, min(c.h, base + hgt * 0.6)]]])
                    R.glaze_lines(near, seg, lamp, c.s * 14 * t, 0.5)


def _room_light(c: Canvas, night: bool) -> tuple[RGB, bool]:
    """What the weather outside does to a room: (colour multiplier, lamp on). Grey weather
    lets in a dimmer, cooler light and someone switches the lamp on; at night the lamp rules
    and the window barely counts."""
    look = c.look
    if look.lightning:
        m, gloomy = (0.55, 0.6, 0.74), True
    elif look.rain > 0:
        m, gloomy = (0.68, 0.72, 0.82), True
    elif look.snow > 0:
        m, gloomy = (0.8, 0.85, 0.97), True
    elif look.clouds > 0.5:
        m, gloomy = (0.84, 0.86, 0.92), False
    elif look.fog > 0.3:
        m, gloomy = (0.86, 0.88, 0.93), False
    else:
        m, gloomy = (1.0, 1.0, 1.0), False
    if night:
        m = mix(m, (1.0, 1.0, 1.0), 0.6)
    return m, night or gloomy


def interior(c: Canvas) -> None:
    """A room: the sky (and the weather) shows through a window cut in the back wall."""
    far, mid, near = c.layers["far"], c.layers["mid"], c.layers["near"]
    look = c.look
    night = is_lit_hour(c)
    c.indoor = True
    light, lamp_on = _room_light(c, night)
    c.room_light = light

    def room(col: RGB, k: float = 1.0) -> RGB:  # a colour under the room's light
        return (col[0] * light[0] * k, col[1] * light[1] * k, col[2] * light[2] * k)

    wall = look.lit((168, 140, 110) if c.rng.random() < 0.5 else (120, 138, 142), 0.6 if night else 1.0)
    wall = room(wall, 0.7 if night else 1.0)
    floor_y = c.h * 0.72
    R.rect(far, -5, -5, c.w + 5, floor_y + 2, wall)
    wx = c.w * (0.5 - c.light_dir * c.rng.uniform(0.12, 0.26))
    ww, wh = c.w * 0.16, c.h * 0.34
    wy = c.h * 0.18
    frame = mul(wall, 0.55)
    if not night:  # daylight from the window falls on the wall around it, grey and cool in grey weather
        R.add_glow(far, wx, wy + wh * 0.5, ww * 1.5, mix(look.sky_horizon, (235, 240, 250), 0.4),
                   0.22 if light[0] < 0.95 else 0.14, opaque=True)
    R.rect(far, wx - ww / 2 - c.s * 12, wy - c.s * 12, wx + ww / 2 + c.s * 12, wy + wh + c.s * 12, frame)
    R.rect(far, wx - ww / 2, wy, wx + ww / 2, wy + wh, (0, 0, 0), 0.0)  # the hole: sky shows through
    c.windows.append((wx - ww / 2, wy, wx + ww / 2, wy + wh))
    R.rect(far, wx - c.s * 5, wy, wx + c.s * 5, wy + wh, frame)
    R.rect(far, wx - ww / 2, wy + wh * 0.45, wx + ww / 2, wy + wh * 0.45 + c.s * 10, frame)
    R.rect(far, wx - ww / 2 - c.s * 18, wy + wh + c.s * 4, wx + ww / 2 + c.s * 18, wy + wh + c.s * 16,
           mul(frame, 1.2))  # the sill
    c.sun_xy = (wx + c.rng.uniform(-0.3, 0.3) * ww, wy + wh * 0.3)
    # a picture and a shelf on the wall
    px = c.w * (0.5 + c.light_dir * c.rng.uniform(0.12, 0.3))
    R.rect(far, px - c.s * 90, c.h * 0.2, px + c.s * 90, c.h * 0.36, frame)
    R.rect(far, px - c.s * 80, c.h * 0.2 + c.s * 10, px + c.s * 80, c.h * 0.36 - c.s * 10,
           mix(room(look.lit((120, 150, 110))), wall, 0.4))
    floor = room(look.lit((120, 84, 56), 0.6 if night else 1.0), 0.6 if night else 0.9)
    R.poly(mid, [(-5, floor_y), (c.w + 5, floor_y), (c.w + 5, c.h + 5), (-5, c.h + 5)], floor)
    for k in range(-8, 9):  # floorboards converging to the centre
        R.line(mid, [(c.w / 2 + k * c.w * 0.05, floor_y), (c.w / 2 + k * c.w * 0.16, c.h)], mul(floor, 0.8), c.s * 3)
    R.rect(mid, -5, floor_y - c.s * 14, c.w + 5, floor_y + c.s * 2, mul(wall, 0.6))  # skirting board
    if not night and light[0] > 0.95 and look.clouds < 0.5:  # clear day: the window's patch of sun on the floor
        d = -c.light_dir * c.w * 0.08
        R.glaze_lines(mid, np.array([[[wx + d, floor_y + c.h * 0.05], [wx + d * 1.6, floor_y + c.h * 0.16]]]),
                      mix(look.sun, (255, 255, 255), 0.3), ww * 0.9, 0.18)
    c.ground_y = c.h * 0.92
    # furniture: a table with a lamp, a shelf of books
    furn = room(look.lit((92, 62, 40), 0.6 if night else 1.0), 0.75)
    tx = c.w * (0.5 + c.light_dir * c.rng.uniform(0.28, 0.38))
    ty = floor_y + c.h * 0.05
    R.rect(mid, tx - c.s * 160, ty - c.s * 140, tx + c.s * 160, ty - c.s * 120, furn)
    for d in (-1, 1):
        R.rect(mid, tx + d * c.s * 140 - c.s * 8, ty - c.s * 125, tx + d * c.s * 140 + c.s * 8, ty, furn)
    lamp = look.grade((255, 210, 140))
    R.line(mid, [(tx - c.s * 60, ty - c.s * 140), (tx - c.s * 60, ty - c.s * 250)], mul(furn, 0.7), c.s * 6)
    R.poly(mid, [(tx - c.s * 100, ty - c.s * 230), (tx - c.s * 20, ty - c.s * 230), (tx - c.s * 40, ty - c.s * 290),
                 (tx - c.s * 80, ty - c.s * 290)], lamp if lamp_on else mix(lamp, wall, 0.5))
    if lamp_on:
        c.warm_light = True
        c.key_light = mix(lamp, (255, 255, 255), 0.2)
        strength = 1.0 if night else 0.75
        R.add_glow(far, tx - c.s * 60, ty - c.s * 240, c.s * 520, lamp, 0.55 * strength)
        R.add_glow(mid, tx - c.s * 60, ty - c.s * 200, c.s * 380, lamp, 0.35 * strength)
    sx = c.w * (0.5 - c.light_dir * 0.42)
    R.rect(far, sx - c.s * 110, c.h * 0.3, sx + c.s * 110, floor_y, furn)
    for r in range(3):
        y = c.h * 0.3 + (r + 1) * (floor_y - c.h * 0.3) / 3.3
        R.rect(far, sx - c.s * 100, y - c.s * 8, sx + c.s * 100, y, mul(furn, 0.7))
        x = sx - c.s * 95
        while x < sx + c.s * 90:
            bw = c.s * c.rng.uniform(12, 24)
            R.rect(far, x, y - c.s * c.rng.uniform(50, 70), x + bw, y - c.s * 8,
                   room(look.lit(((150, 50, 40), (50, 80, 120), (160, 130, 60), (60, 100, 60))[int(c.rng.integers(4))],
                                 0.6 if night else 1.0)))
            x += bw + c.s * 2
    # a curtain at the frame's edge in front
    cx = c.w * (0.5 + c.light_dir * 0.5)
    R.poly(near, [(cx - c.s * 70, -5), (cx + c.s * 70, -5), (cx + c.s * 90, c.h + 5), (cx - c.s * 40, c.h + 5)],
           room(look.lit((130, 40, 50)), 0.5 if night else 0.8))
    if not lamp_on:  # by day people are lit from the window's side, not the lamp's
        c.light_dir = -c.light_dir


def village(c: Canvas) -> None:
    far, mid, near = c.layers["far"], c.layers["mid"], c.layers["near"]
    xs, ys = R.ridge(c.w, c.horizon - c.h * 0.03, c.h * 0.06, c.rng, octaves=3, freq=2)
    R.fill_below(far, xs, ys, c.color("far"))
    for x in c.rng.uniform(0, 1, 12) * c.w:
        pine(far, x, float(np.interp(x, xs, ys)) + 4, c.s * c.rng.uniform(30, 60), c.color("far", 0.05), 2)
    ground = c.horizon + c.h * 0.1
    grass_col = mix(c.color("mid"), c.look.lit((92, 120, 64)), 0.4)
    R.rect(mid, -5, ground - c.s * 4, c.w + 5, c.h + 5, grass_col)
    walls = [c.look.lit(v) for v in ((214, 200, 170), (190, 160, 120), (226, 214, 196), (170, 150, 130))]
    roofs = [c.look.lit(v) for v in ((150, 60, 44), (90, 70, 60), (120, 80, 50), (70, 74, 90))]
    dim = 0.6 if c.look.night else 1.0
    x = -c.rng.uniform(0, 0.1) * c.w
    while x < c.w:
        wdt = c.w * c.rng.uniform(0.09, 0.15)
        if c.rng.random() < 0.2:  # a church tower among the houses
            R.rect(mid, x, ground - c.h * 0.38, x + wdt * 0.5, ground, mul(walls[0], dim * 0.9))
            R.poly(mid, [(x - wdt * 0.05, ground - c.h * 0.38), (x + wdt * 0.25, ground - c.h * 0.52),
                         (x + wdt * 0.55, ground - c.h * 0.38)], mul(roofs[3], dim))
            x += wdt * 0.6
            continue
        i = int(c.rng.integers(len(walls)))
        house(c, mid, x, ground, wdt, c.h * c.rng.uniform(0.1, 0.16), mul(walls[i], dim), mul(roofs[i], dim), 0.7)
        x += wdt * c.rng.uniform(1.05, 1.3)
    col = mix(c.color("near"), grass_col, 0.4)
    xs, ys = R.ridge(c.w, c.h * 0.87, c.h * 0.015, c.rng, octaves=2)
    R.fill_below(near, xs, ys, col)
    path = mix(c.look.lit((170, 150, 120)), col, 0.4)
    R.poly(near, [(c.w * 0.42, c.h * 0.87), (c.w * 0.58, c.h * 0.87), (c.w * 0.75, c.h + 5), (c.w * 0.25, c.h + 5)], path)
    c.ground_y = c.h * 0.94
    grass(near, c, c.h * 0.88, c.h, mul(col, 1.1), 0.6)
    if c.rng.random() < 0.7:
        round_tree(near, c.w * (0.5 - c.light_dir * 0.45), c.h * 0.97, c.s * 520, mul(col, 0.8), c.rng)


def space(c: Canvas) -> None:
    far, mid, near = c.layers["far"], c.layers["mid"], c.layers["near"]
    look = c.look
    c.sun_visible = False
    # a planet with a lit crescent and a ring
    px, py = c.w * (0.5 - c.light_dir * c.rng.uniform(0.15, 0.3)), c.h * c.rng.uniform(0.22, 0.4)
    r = c.s * c.rng.uniform(140, 260)
    body = look.grade(((190, 120, 80), (90, 140, 200), (170, 160, 200), (120, 180, 140))[int(c.rng.integers(4))])
    ring = mix(body, (230, 220, 200), 0.5)
    tilt = c.rng.uniform(-25, 25)
    R.ellipse(far, px, py, r * 2.1, r * 0.45, ring, tilt, 0.8)
    R.ellipse(far, px, py, r * 1.75, r * 0.3, (0, 0, 0), tilt, 0.0)
    R.circle(far, px, py, r, mul(body, 0.35))
    R.circle(far, px + c.light_dir * r * 0.25, py - r * 0.12, r * 0.88, body)
    for k in range(3):  # bands across the lit face
        R.ellipse(far, px + c.light_dir * r * 0.25, py - r * 0.4 + k * r * 0.35, r * 0.8, r * 0.05,
                  mix(body, mix(body, (255, 255, 255), 0.2), 0.9))
    front = R.new_layer(c.w, c.h, ring)  # the near half of the ring crosses in front of the planet
    R.ellipse(front, px, py, r * 2.1, r * 0.45, ring, tilt)
    R.ellipse(front, px, py, r * 1.75, r * 0.3, ring, tilt, 0.0)
    R.rect(front, -5, -5, c.w + 5, py, ring, 0.0)
    R.blend_color(far, front[..., 3].astype(np.float32) / 255 * 0.85, ring, cover=True)
    R.circle(far, c.w * (0.5 + c.light_dir * 0.35), c.h * 0.15, c.s * 30, mix(body, (200, 200, 210), 0.6))
    # a station or ship silhouette
    sx, sy = c.w * (0.5 + c.light_dir * c.rng.uniform(0.1, 0.3)), c.h * c.rng.uniform(0.3, 0.5)
    hull = mix(c.color("mid"), (150, 160, 180), 0.3)
    R.ellipse(mid, sx, sy, c.s * 110, c.s * 24, hull)
    R.poly(mid, [(sx - c.s * 80, sy), (sx - c.s * 150, sy - c.s * 50), (sx - c.s * 120, sy)], hull)
    R.poly(mid, [(sx - c.s * 80, sy), (sx - c.s * 150, sy + c.s * 50), (sx - c.s * 120, sy)], hull)
    R.circle(mid, sx - c.s * 118, sy, c.s * 10, look.grade((120, 220, 255)))
    R.add_glow(mid, sx - c.s * 130, sy, c.s * 60, look.grade((120, 220, 255)), 0.6)
    # a cratered moon surface to stand on
    col = c.color("near")
    xs, ys = R.ridge(c.w, c.h * 0.84, c.h * 0.03, c.rng, octaves=3, freq=2)
    R.fill_below(near, xs, ys, mix(col, (130, 128, 140), 0.35))
    c.ground_y = c.h * 0.93
    for _ in range(6):
        x, y = c.rng.uniform(0, 1) * c.w, c.rng.uniform(0.88, 0.99) * c.h
        rr = c.s * c.rng.uniform(30, 90)
        R.ellipse(near, x, y, rr, rr * 0.25, mul(col, 0.7))
        R.ellipse(near, x, y - rr * 0.06, rr * 0.85, rr * 0.18, mix(col, (130, 128, 140), 0.2))
