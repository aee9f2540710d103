"""A figure's head: a face, a robot's visor or an animal's muzzle, and headwear, drawn
into the figure's crop (split from figures.py, which places and draws the rest)."""

from __future__ import annotations

import cv2
import numpy as np

from ...models import Appearance
from . import hair as Hair
from . import raster as R
from .palette import RGB, mix, mul


def _robot_head(crop: np.ndarray, head: tuple[float, float], rx: float, ry: float, fh: float, metal: RGB,
                accent: RGB, back: bool) -> None:
    """A boxy metal head: an antenna with a lamp, bolts for ears, a dark visor with two glowing eyes."""
    hx, hy = head
    w, h = rx * 1.1, ry * 0.95
    c = w * 0.3
    R.line(crop, [(hx, hy - h), (hx, hy - h - fh * 0.045)], mul(metal, 0.6), max(1.0, fh * 0.006))
    R.circle(crop, hx, hy - h - fh * 0.045, max(1.5, fh * 0.011), accent)
    R.poly(crop, [(hx - w + c, hy - h), (hx + w - c, hy - h), (hx + w, hy - h + c), (hx + w, hy + h - c),
                  (hx + w - c, hy + h), (hx - w + c, hy + h), (hx - w, hy + h - c), (hx - w, hy - h + c)], metal)
    for d in (-1, 1):
        R.circle(crop, hx + d * w, hy, max(1.0, rx * 0.22), mul(metal, 0.7))
    if back:
        return
    R.rect(crop, hx - w * 0.82, hy - h * 0.34, hx + w * 0.82, hy + h * 0.22, (28, 32, 40))
    glow = (120, 225, 255)
    for d in (-1, 1):
        R.circle(crop, hx + d * w * 0.4, hy - h * 0.06, max(1.0, rx * 0.27), glow, 0.35)
        R.circle(crop, hx + d * w * 0.4, hy - h * 0.06, max(1.0, rx * 0.15), glow)
    if rx > 6:  # a grille for a mouth
        for k in (-1, 0, 1):
            R.line(crop, [(hx + k * w * 0.22, hy + h * 0.45), (hx + k * w * 0.22, hy + h * 0.72)], mul(metal, 0.55),
                   max(1.0, rx * 0.08))


def _animal_head(crop: np.ndarray, head: tuple[float, float], rx: float, ry: float, fur: RGB, shape: str,
                 turn: float, back: bool) -> None:
    """An animal's head in its fur: pointed, round or long ears (or none), and a muzzle with a nose, or a beak."""
    hx, hy = head
    inner = mix(fur, (225, 160, 160), 0.45)
    for d in (-1, 1):
        if shape == "pointed":
            R.poly(crop, [(hx + d * rx * 0.2, hy - ry * 0.7), (hx + d * rx * 0.8, hy - ry * 1.55),
                          (hx + d * rx * 0.98, hy - ry * 0.3)], fur)
            if not back:
                R.poly(crop, [(hx + d * rx * 0.42, hy - ry * 0.66), (hx + d * rx * 0.78, hy - ry * 1.28),
                              (hx + d * rx * 0.84, hy - ry * 0.5)], inner)
        elif shape == "round":
            R.circle(crop, hx + d * rx * 0.72, hy - ry * 0.72, rx * 0.42, fur)
            if not back:
                R.circle(crop, hx + d * rx * 0.72, hy - ry * 0.72, rx * 0.22, inner)
        elif shape == "long":
            R.ellipse(crop, hx + d * rx * 0.38, hy - ry * 1.45, rx * 0.24, ry * 0.75, fur)
            if not back:
                R.ellipse(crop, hx + d * rx * 0.38, hy - ry * 1.4, rx * 0.11, ry * 0.55, inner)
    R.ellipse(crop, hx, hy, rx * 1.05, ry * 0.95, fur)
    if back:
        return
    off = turn * rx * 0.3
    if shape == "beak":
        R.poly(crop, [(hx + off - rx * 0.22, hy + ry * 0.16), (hx + off + rx * 0.22, hy + ry * 0.16),
                      (hx + off * 1.4, hy + ry * 0.58)], (222, 160, 60))
    else:
        R.ellipse(crop, hx + off, hy + ry * 0.4, rx * 0.52, ry * 0.34, mix(fur, (245, 240, 230), 0.6))
        R.ellipse(crop, hx + off * 1.3, hy + ry * 0.22, max(1.0, rx * 0.17), max(1.0, ry * 0.11), (30, 24, 22))
    for d in (-1, 1):
        ex = hx + off + d * rx * 0.42
        R.ellipse(crop, ex, hy - ry * 0.1, max(1.0, rx * 0.14), max(1.0, ry * 0.14), (24, 20, 18))
        if rx > 14:
            R.circle(crop, ex + rx * 0.04, hy - ry * 0.14, max(1.0, rx * 0.04), (255, 255, 255), 0.9)


def _face(crop: np.ndarray, app: Appearance, head: tuple[float, float], rx: float, ry: float, fh: float,
          turn: float, skin: RGB, hair: RGB, accent: RGB, light_dir: float) -> None:
    hx, hy = head
    off = turn * rx * 0.35
    lw = max(1.0, rx * 0.06)
    if app.accessory == "beard":  # jaw to jaw under bare cheeks, and a moustache
        Hair.beard(crop, head, rx, ry, turn, hair, skin, light_dir)
    if rx < 3:
        return
    eye = mix(hair, (20, 16, 14), 0.75)
    for d in (-1, 1):
        ex = hx + off + d * rx * 0.38
        R.ellipse(crop, ex, hy + ry * 0.04, max(1.0, rx * 0.12), max(1.0, ry * 0.1), eye)
        if rx > 14:
            R.line(crop, [(ex - rx * 0.17, hy - ry * 0.14), (ex + rx * 0.17, hy - ry * 0.17 - d * ry * 0.02)],
                   mix(hair, eye, 0.3), max(1.0, rx * 0.075))
            R.circle(crop, ex + rx * 0.035, hy + ry * 0.01, max(1.0, rx * 0.035), (255, 255, 255), 0.9)
    if rx > 10:
        R.line(crop, [(hx + off * 1.3, hy + ry * 0.06), (hx + off * 1.5 + turn * rx * 0.06, hy + ry * 0.26)],
               mul(skin, 0.72), lw)
        mouth = mul(skin, 0.55) if app.accessory != "beard" else mix(hair, (20, 16, 14), 0.6)
        R.line(crop, [(hx + off - rx * 0.18, hy + ry * 0.44), (hx + off, hy + ry * 0.48),
                      (hx + off + rx * 0.18, hy + ry * 0.44)], mouth, lw)
        R.ellipse(crop, hx - rx * 0.98 * (1 if turn >= 0 else -1), hy + ry * 0.08, rx * 0.14, ry * 0.2, mul(skin, 0.85))
    if app.accessory == "glasses":
        frame = mix(accent, (25, 25, 30), 0.5)
        for d in (-1, 1):
            ex = hx + off + d * rx * 0.38
            cv2.ellipse(crop, (int(ex * 16), int((hy + ry * 0.04) * 16)), (int(rx * 0.26 * 16), int(ry * 0.2 * 16)),
                        0, 0, 360, R.bgra(frame), max(1, int(rx * 0.07)), cv2.LINE_AA, R.SHIFT)
        R.line(crop, [(hx + off - rx * 0.12, hy + ry * 0.04), (hx + off + rx * 0.12, hy + ry * 0.04)], frame, lw)


def _headwear(crop: np.ndarray, app: Appearance, head: tuple[float, float], rx: float, ry: float, fh: float,
              hair: RGB, skin: RGB, accent: RGB, top_c: RGB, back: bool, light_dir: float, hat: str = "brim") -> None:
    hx, hy = head
    style = app.hair_style
    if not back and style not in ("bald", "hooded"):  # the hair over the top of the head
        if style == "bun":  # behind the crown, so the cap's outline runs over it
            R.circle(crop, hx, hy - ry * 1.05, rx * 0.45, hair)
        sweep = 1.0 if int(app.skin[-2:], 16) % 2 else -1.0  # which way the locks fall: always theirs
        Hair.cap(crop, style, head, rx, ry, hair, skin, light_dir, sweep)
    if style == "hooded":
        cv2.ellipse(crop, (int(hx * 16), int((hy - ry * 0.1) * 16)), (int(rx * 1.28 * 16), int(ry * 1.15 * 16)),
                    0, 180, 360, R.bgra(mul(top_c, 0.8)), -1, cv2.LINE_AA, R.SHIFT)
    if app.accessory == "hat" and hat != "brim":  # the shape the words name (appearance.HAT_SHAPES)
        _shaped_hat(crop, hat, hx, hy, rx, ry, accent, back)
    elif app.accessory == "hat":
        R.ellipse(crop, hx, hy - ry * 0.62, rx * 1.65, ry * 0.2, mul(accent, 0.9))
        R.poly(crop, [(hx - rx * 0.95, hy - ry * 0.62), (hx + rx * 0.95, hy - ry * 0.62), (hx + rx * 0.8, hy - ry * 1.5),
                      (hx - rx * 0.8, hy - ry * 1.5)], accent)
        R.rect(crop, hx - rx * 0.93, hy - ry * 0.85, hx + rx * 0.93, hy - ry * 0.7, mul(accent, 0.6))
    elif app.accessory == "helmet":
        cv2.ellipse(crop, (int(hx * 16), int((hy - ry * 0.05) * 16)), (int(rx * 1.18 * 16), int(ry * 1.12 * 16)),
                    0, 180, 360, R.bgra(accent), -1, cv2.LINE_AA, R.SHIFT)
        R.rect(crop, hx - rx * 1.18, hy - ry * 0.12, hx + rx * 1.18, hy + ry * 0.02, mul(accent, 0.7))


def _dome(crop: np.ndarray, hx: float, hy: float, rx: float, ry: float, colour: RGB) -> None:
    cv2.ellipse(crop, (int(hx * 16), int(hy * 16)), (int(rx * 16), int(ry * 16)), 0, 180, 360, R.bgra(colour), -1,
                cv2.LINE_AA, R.SHIFT)


def _shaped_hat(crop: np.ndarray, hat: str, hx: float, hy: float, rx: float, ry: float, accent: RGB,
                back: bool) -> None:
    """A peaked cap (a dome and a bill), a knitted hat with a bobble, or a pointed hat."""
    if hat == "cap":
        _dome(crop, hx, hy - ry * 0.38, rx * 1.06, ry * 0.72, accent)
        if not back:
            R.ellipse(crop, hx + rx * 0.75, hy - ry * 0.4, rx * 0.8, ry * 0.13, mul(accent, 0.75))
    elif hat == "knit":
        _dome(crop, hx, hy - ry * 0.3, rx * 1.1, ry * 0.9, accent)
        R.rect(crop, hx - rx * 1.1, hy - ry * 0.45, hx + rx * 1.1, hy - ry * 0.22, mul(accent, 0.7))
        R.circle(crop, hx, hy - ry * 1.25, rx * 0.3, mul(accent, 1.2))
    elif hat == "pointed":
        R.ellipse(crop, hx, hy - ry * 0.62, rx * 1.55, ry * 0.18, mul(accent, 0.9))
        R.poly(crop, [(hx - rx * 0.85, hy - ry * 0.62), (hx + rx * 0.85, hy - ry * 0.62), (hx + rx * 0.35, hy - ry * 2.7)],
               accent)
