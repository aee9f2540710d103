"""People: where they stand for each shot, and how one person is drawn.

A figure is flat shapes in the character's own colours (skin, hair, top,
bottom, accent) in fixed proportions set by their build and height, so the
same person reads the same in every scene. The scene's light only tints them a
little, then adds shading away from the light, a rim of light on the lit side
and a dark outline: the storyboard look, and what keeps a character
recognisable at night. Each figure is drawn into a crop of its own and laid on
the figures layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ...creatures import ANIMALS
from ...models import Appearance
from . import hair as Hair
from . import raster as R
from .appearance import Build
from .heads import _animal_head, _face, _headwear, _robot_head
from .palette import RGB, Look, hex_rgb, luma, mix, mul
from .shading import form_shade, ground_shadow

SHOULDER = {"slim": 0.095, "average": 0.112, "broad": 0.138}
MAX_FIGURES = {"wide": 6, "aerial": 8, "medium": 4, "close": 2, "over_the_shoulder": 2}


@dataclass
class Placement:
    index: int  # which character (position in the request's list)
    x: float  # centre, px
    feet: float  # y of the soles, px (may be below the frame)
    fh: float  # full height of the figure, px
    back: bool = False  # seen from behind (over-the-shoulder foreground)
    turn: float = 0.0  # -1..1: face turned to the left / right
    pose: int = 0


def layout(shot: str, heights: list[float], w: int, h: int, ground: float, rng: np.random.Generator) -> list[Placement]:
    """Where each character stands for this kind of shot (close shots show fewer people)."""
    n = min(len(heights), MAX_FIGURES.get(shot, 4))
    if n == 0:
        return []
    if shot == "over_the_shoulder" and n == 2:
        side = 1.0 if rng.random() < 0.5 else -1.0
        fh_front = h * 1.45
        return [
            Placement(1, w * (0.5 - side * 0.2), h * 0.16 + fh_front * heights[1], fh_front * heights[1],
                      turn=side * 0.6, pose=int(rng.integers(4))),
            Placement(0, w * (0.5 + side * 0.36), h * 0.4 + h * 2.8 * heights[0], h * 2.8 * heights[0], back=True),
        ]
    if shot == "over_the_shoulder":
        shot = "medium"
    if shot == "close":
        fh, top = h * 3.3, h * 0.1
        xs = [0.5 + rng.uniform(-0.1, 0.1)] if n == 1 else [0.3, 0.7]
    elif shot == "medium":
        fh, top = h * 1.35, h * 0.14
        xs = {1: [0.5 + (1 if rng.random() < 0.5 else -1) * 0.14], 2: [0.32, 0.68], 3: [0.2, 0.5, 0.8],
              4: [0.14, 0.38, 0.62, 0.86]}[n]
    elif shot == "aerial":
        fh, top = h * 0.13, 0.0
        xs = list(np.linspace(0.3, 0.7, n)) if n > 1 else [0.5]
    else:
        fh, top = h * 0.33, 0.0
        spread = min(0.62, 0.16 * n + 0.1)
        xs = list(np.linspace(0.5 - spread / 2, 0.5 + spread / 2, n)) if n > 1 else [0.5 + rng.uniform(-0.15, 0.15)]
    out = []
    for i in range(n):
        x = (xs[i] + (rng.uniform(-0.025, 0.025) if shot in ("wide", "aerial") else 0.0)) * w
        f = fh * heights[i]
        if shot in ("wide", "aerial"):
            back_row = (i % 2 == 1) and n > 2  # alternate rows give a little depth
            feet = (ground if shot == "wide" else h * 0.78) - (h * 0.05 if back_row else 0)
            f *= 0.88 if back_row else 1.0
        else:
            # medium: feet on one (unseen) floor, so a taller person stands taller; close: faces line up
            feet = top + fh * (1.05 if shot == "medium" else heights[i])
        turn = float(np.clip((w / 2 - x) / (w / 2), -1, 1)) * 0.7 if n > 1 else rng.uniform(-0.4, 0.4)
        pose = int(rng.integers(4)) if shot != "close" else 0  # a raised arm would cross a close-up face
        out.append(Placement(i, x, feet, f, turn=turn, pose=pose))
    # draw the farther (higher feet) first
    return sorted(out, key=lambda p: (p.feet, p.fh))


@dataclass
class FigureLight:
    look: Look
    light_dir: float  # +1 light from the right
    strength: float = 0.4  # how much the scene's ambient colour tints clothes and skin
    tint: RGB = (1.0, 1.0, 1.0)  # the room's light, indoors (dim and cool in grey weather)
    key_colour: RGB | None = None  # rim light when it is not the sun's (a lamp)
    cast: float = 0.0  # how dark the shadow cast on the ground is (0: only a contact shadow)
    cast_length: float = 0.5  # its length, in figure heights (long when the sun is low)

    @property
    def key(self) -> RGB:
        return self.key_colour if self.key_colour is not None else self.look.key

    def rgb(self, c: RGB, k: float = 1.0) -> RGB:
        c = self.look.lit(c, self.strength)
        return (c[0] * self.tint[0] * k, c[1] * self.tint[1] * k, c[2] * self.tint[2] * k)

    def col(self, hex_colour: str, k: float = 1.0) -> RGB:
        return self.rgb(hex_rgb(hex_colour), k)


def draw_shadow(layer: np.ndarray, pl: Placement, light: FigureLight) -> None:
    """A soft contact shadow under the feet and the shadow cast away from the light; drawn for
    everyone before anyone, so no shadow covers a person."""
    if pl.feet < layer.shape[0] + pl.fh * 0.02 and not pl.back:
        colour = mul(mix(light.look.sky_top, (20, 20, 28), 0.6), 0.5)  # shadows take the sky's colour
        ground_shadow(layer, pl.x, pl.feet, pl.fh, light.light_dir, light.cast_length, light.cast, colour)


def draw_figure(layer: np.ndarray, app: Appearance, build: Build, pl: Placement, light: FigureLight) -> list[int] | None:
    """Draw one person on the figures layer; return their box [x, y, w, h] in the frame, or None if unseen."""
    H, W = layer.shape[:2]
    fh = pl.fh
    top = pl.feet - fh
    x0, x1 = int(max(0, pl.x - fh * 0.42)), int(min(W, pl.x + fh * 0.42))
    y0, y1 = int(max(0, top - fh * 0.08)), int(min(H, pl.feet + fh * 0.04))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    crop = R.new_layer(x1 - x0, y1 - y0, light.col(app.top))
    cx, ty = pl.x - x0, top - y0

    def P(u: float, v: float) -> tuple[float, float]:
        return (cx + u * fh, ty + v * fh)

    skin = light.col(app.skin)
    hair = light.rgb(Hair.separate(hex_rgb(app.hair), hex_rgb(app.skin)))  # never the skin's lightness
    top_c, bottom, accent = light.col(app.top), light.col(app.bottom), light.col(app.accent)
    shoes = mix(bottom, (20, 18, 16), 0.6)
    sw = SHOULDER[app.build]
    ww = sw * (0.86 if app.build == "broad" else 0.78)
    arm_w = fh * (0.046 if app.build == "broad" else 0.038)
    turn = pl.turn if not pl.back else 0.0
    hx = turn * 0.012  # the head turns a little toward where they look
    if app.accessory == "cape":
        R.poly(crop, [P(-sw + 0.01, 0.18), P(sw - 0.01, 0.18), P(sw * 1.7, 0.86), P(-sw * 1.7, 0.86)], mul(accent, 0.8))
    if app.hair_style in ("long", "ponytail") and not pl.back:
        if app.hair_style == "long":
            R.poly(crop, [P(hx - 0.066, 0.05), P(hx + 0.066, 0.05), P(hx + 0.075, 0.26), P(hx - 0.075, 0.26)], hair)
        else:
            side = -1 if turn >= 0 else 1
            R.line(crop, [P(hx + side * 0.04, 0.04), P(hx + side * 0.085, 0.1), P(hx + side * 0.075, 0.22)], hair,
                   fh * 0.035)
    if app.hair_style == "hooded":
        R.ellipse(crop, *P(hx, 0.072), fh * 0.074, fh * 0.088, mul(top_c, 0.8))
    shape = ANIMALS[build.species][2] if build.kind == "animal" and build.species in ANIMALS else ""
    if shape in ("pointed", "long"):  # a tail behind, on the side they face away from (round-eared: none seen)
        side = -1.0 if turn >= 0 else 1.0
        if shape == "long":
            R.circle(crop, *P(side * (ww + 0.02), 0.5), fh * 0.035, mix(skin, (245, 242, 236), 0.6))
        else:  # bushy: a leaf shape hanging out and down from the hip
            bx, by, length, width = side * ww * 0.7, 0.45, 0.2, 0.042
            ux, uy = side * 0.72, 0.7  # along the tail, and across it
            vx, vy = -uy * side, ux * side

            def leaf(t0: float) -> list[tuple[float, float]]:  # the tail from t0 (0: the hip) to its tip
                ts = [t0 + (1 - t0) * k / 14 for k in range(15)]
                half = [width * math.sin(math.pi * t) ** 0.7 + 0.012 * (1 - t) for t in ts]
                a = [P(bx + ux * t * length + vx * w, by + uy * t * length + vy * w) for t, w in zip(ts, half)]
                b = [P(bx + ux * t * length - vx * w, by + uy * t * length - vy * w) for t, w in zip(ts, half)]
                return a + b[::-1]

            R.poly(crop, leaf(0.0), skin)
            if build.species == "fox":  # the white tip
                R.poly(crop, leaf(0.74), (238, 234, 226))
    # legs and shoes; a walking pose spreads them
    spread = 0.035 if pl.pose in (1, 3) else 0.0
    leg = mul(bottom, 0.95)
    for d in (-1, 1):
        hip = ww * 0.45 * d
        foot = hip + d * spread + d * 0.01
        R.poly(crop, [P(hip - 0.032, 0.5), P(hip + 0.032, 0.5), P(foot + 0.02, 0.955), P(foot - 0.022, 0.955)],
               leg if not build.skirt else mix(skin, bottom, 0.5))
        R.ellipse(crop, *P(foot + d * 0.008, 0.965), fh * 0.034, fh * 0.017, shoes)
    # hips, and a skirt or a long coat over them
    R.poly(crop, [P(-ww, 0.45), P(ww, 0.45), P(ww * 1.02, 0.53), P(-ww * 1.02, 0.53)], bottom)
    if build.skirt:
        R.poly(crop, [P(-ww, 0.44), P(ww, 0.44), P(ww * 1.6, 0.74), P(-ww * 1.6, 0.74)], bottom)
    if app.accessory == "coat" or build.long_coat:
        R.poly(crop, [P(-ww, 0.44), P(ww, 0.44), P(ww * 1.3, 0.76), P(-ww * 1.3, 0.76)], mul(top_c, 0.92))
        R.line(crop, [P(0, 0.46), P(0, 0.75)], mul(top_c, 0.7), max(1.0, fh * 0.006))
    # torso: rounded shoulders down to the waist
    torso = [P(-sw + 0.025, 0.165), P(sw - 0.025, 0.165), P(sw, 0.2), P(ww, 0.47), P(-ww, 0.47), P(-sw, 0.2)]
    R.poly(crop, torso, top_c)
    R.line(crop, [P(-ww * 0.98, 0.46), P(ww * 0.98, 0.46)], accent if app.accessory != "coat" else mul(top_c, 0.6),
           fh * 0.016)  # belt
    if app.accessory == "coat" or build.long_coat:  # lapels in the accent colour
        R.poly(crop, [P(-0.045, 0.17), P(0, 0.3), P(-0.02, 0.17)], accent)
        R.poly(crop, [P(0.045, 0.17), P(0, 0.3), P(0.02, 0.17)], accent)
    # arms: the pose says where the hands are
    arm = mul(top_c, 0.86)
    for d in (-1, 1):
        sh = P(d * (sw - 0.022), 0.19)
        if pl.back:
            elbow, hand = P(d * (sw + 0.01), 0.33), P(d * (sw - 0.005), 0.47)
        elif pl.pose == 2 and d == (1 if turn >= 0 else -1):  # one arm raised: pointing, waving
            elbow, hand = P(d * (sw + 0.07), 0.17), P(d * (sw + 0.1), 0.06)
        elif pl.pose == 3 and d == (-1 if turn >= 0 else 1):  # holding something in front
            elbow, hand = P(d * (sw + 0.02), 0.33), P(d * (sw - 0.06), 0.36)
        else:
            elbow, hand = P(d * (sw + 0.018), 0.33), P(d * (sw + 0.022), 0.47)
        R.line(crop, [sh, elbow, hand], mul(top_c, 0.55), arm_w + max(2.0, fh * 0.006))  # the sleeve's edge
        R.line(crop, [sh, elbow, hand], arm, arm_w)
        R.circle(crop, *hand, fh * 0.021, skin)
    # neck, scarf, head
    R.rect(crop, *P(hx * 0.5 - 0.022, 0.12), *P(hx * 0.5 + 0.022, 0.175), mul(skin, 0.85))
    if app.accessory == "scarf":
        R.ellipse(crop, *P(0, 0.165), fh * 0.05, fh * 0.018, accent)
        R.poly(crop, [P(0.02, 0.165), P(0.05, 0.165), P(0.06, 0.3), P(0.03, 0.3)], mul(accent, 0.9))
    head = P(hx, 0.075)
    rx, ry = fh * 0.05, fh * 0.064
    if build.kind == "robot":
        _robot_head(crop, head, rx, ry, fh, skin, accent, pl.back)
    elif build.kind == "animal":
        _animal_head(crop, head, rx, ry, skin, shape, turn, pl.back)
    elif pl.back:
        R.ellipse(crop, *head, rx, ry, hair if app.hair_style != "bald" else mul(skin, 0.9))
        if app.hair_style in ("long", "ponytail"):
            R.poly(crop, [P(-0.062, 0.06), P(0.062, 0.06), P(0.07, 0.25), P(-0.07, 0.25)], hair)
    else:
        R.ellipse(crop, *head, rx, ry, skin)
        _face(crop, app, head, rx, ry, fh, turn, skin, hair, accent, light.light_dir)
    _headwear(crop, app, head, rx, ry, fh, hair, skin, accent, top_c, pl.back, light.light_dir, build.hat)
    _finish(crop, light, fh, min(W, H) / 1000, ty, head, rx, ry)
    _lay(layer, crop, x0, y0)
    a = crop[..., 3] > 40
    rows, cols = np.flatnonzero(a.any(axis=1)), np.flatnonzero(a.any(axis=0))
    if not len(rows):
        return None
    return [int(x0 + cols[0]), int(y0 + rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]


def _finish(crop: np.ndarray, light: FigureLight, fh: float, unit: float, top: float,
            head: tuple[float, float], rx: float, ry: float) -> None:
    """Form shading from the light's side, a rim of light on that side, a back light round the
    head (so hair never melts into the background), then a thin dark outline."""
    form_shade(crop, light.light_dir, fh, top)
    a = crop[..., 3]
    k = int(np.clip(fh * 0.004, 1, 3.5 * unit))
    shift = np.zeros_like(a)
    d = int(round(-light.light_dir * max(1.0, min(fh * 0.005, 5 * unit))))
    if d > 0:
        shift[:, d:] = a[:, :-d]
    elif d < 0:
        shift[:, :d] = a[:, -d:]
    R.blend_sparse(crop, cv2.subtract(a, shift), mix(light.key, (255, 255, 255), 0.35), 0.6)
    if rx >= 8:  # strongest where the background is dark
        dark = light.look.night or luma(light.look.sky_horizon) < 100
        Hair.back_light(crop, head, rx, ry, mix(light.key, (255, 255, 255), 0.5), 0.65 if dark else 0.22)
    outline = cv2.subtract(cv2.dilate(a, np.ones((2 * k + 1, 2 * k + 1), np.uint8)), a)
    R.blend_sparse(crop, outline, mix(light.look.haze, (10, 10, 14), 0.85), 0.9, cover=True)


def _over(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    sa = src[..., 3:4].astype(np.float32) / 255
    da = dst[..., 3:4].astype(np.float32) / 255
    out_a = sa + da * (1 - sa)
    rgb = (src[..., :3] * sa + dst[..., :3] * da * (1 - sa)) / np.maximum(out_a, 1e-6)
    out = np.empty_like(src)
    out[..., :3] = np.clip(rgb, 0, 255).astype(np.uint8)
    out[..., 3] = np.round(out_a[..., 0] * 255).astype(np.uint8)
    return out


def _lay(layer: np.ndarray, crop: np.ndarray, x0: int, y0: int) -> None:
    """Straight-alpha "over" of a crop onto the figures layer; where the layer is still empty
    (most of it) that is a plain copy, so the float blend runs only where something is."""
    h, w = crop.shape[:2]
    dst = layer[y0 : y0 + h, x0 : x0 + w]
    da = dst[..., 3]
    rows = np.flatnonzero(da.max(axis=1))
    if not len(rows):
        dst[:] = crop
        return
    cols = np.flatnonzero(da[rows[0] : rows[-1] + 1].max(axis=0))
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    keep = dst[r0:r1, c0:c1].copy()
    dst[:] = crop
    dst[r0:r1, c0:c1] = _over(crop[r0:r1, c0:c1], keep)
