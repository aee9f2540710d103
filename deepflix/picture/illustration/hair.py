"""Hair and beards that read as hair at every size and in every light.

A smooth cap in the hair's colour reads as a scalp (grey hair on a tan face
reads as bald), and black hair on a night sky disappears. So hair is drawn with
the cues a storyboard artist uses: a hairline of locks with a thin dark edge
and the shadow it casts on the forehead, strands in a darker (or, for dark
hair, lighter) tone, a sheen on the side toward the light, a lightness kept
apart from the skin's, and a back light around the head against the background.
Shapes are given in head units, (u, v) = ((x - hx) / rx, (y - hy) / ry), so
the head is the unit circle.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import raster as R
from .palette import RGB, luma, mix, mul

MIN_GAP = 48.0  # the least luma difference between hair and skin


def separate(hair: RGB, skin: RGB) -> RGB:
    """The hair colour moved away from the skin's lightness when the two are too close (grey
    hair on a tan face): lighter for hair as light as the skin, else darker. A function of
    the character's own colours only, so they look the same in every scene."""
    lh, ls = luma(hair), luma(skin)
    if abs(lh - ls) >= MIN_GAP:
        return hair
    up, down = ls + MIN_GAP, ls - MIN_GAP
    greyish = max(hair) - min(hair) < 60  # mixing a strong colour with white would wash it out
    if lh >= ls - 8 and up <= 245 and (greyish or lh >= ls):  # toward white: grey becomes silver
        return mix(hair, (250, 250, 250), min(1.0, (up - lh) / max(1.0, 250 - lh)))
    # darker (black hair on dark skin stays black, nearer black): the back light separates it then
    return mul(hair, max(0.0, down) / max(1.0, lh))


def tones(hair: RGB) -> tuple[RGB, RGB, RGB]:
    """(strands, sheen, edge) for a hair colour: light hair gets darker strands, dark hair
    lighter ones, or they would not show."""
    if luma(hair) > 100:
        return mul(hair, 0.74), mix(hair, (255, 255, 250), 0.3), mix(hair, (26, 20, 18), 0.62)
    return mix(hair, (150, 150, 160), 0.2), mix(hair, (205, 212, 232), 0.3), mix(hair, (8, 6, 6), 0.6)


def _px(hx: float, hy: float, rx: float, ry: float, uv: np.ndarray) -> np.ndarray:
    return np.stack([hx + uv[:, 0] * rx, hy + uv[:, 1] * ry], 1)


def _arc(crop: np.ndarray, hx: float, hy: float, ax: float, ay: float, a0: float, a1: float, rgb: RGB,
         width: float) -> None:
    cv2.ellipse(crop, (int(hx * 16), int(hy * 16)), (max(1, int(ax * 16)), max(1, int(ay * 16))), 0, a0, a1,
                R.bgra(rgb), max(1, int(round(width))), cv2.LINE_AA, R.SHIFT)


def cap(crop: np.ndarray, style: str, head: tuple[float, float], rx: float, ry: float, hair: RGB, skin: RGB,
        light_dir: float, sweep: float) -> None:
    """The hair over the top of the head, its hairline of locks, strands and sheen."""
    hx, hy = head
    strand, sheen, edge = tones(hair)
    detail = rx >= 9  # strands and sheen only where there are pixels for them
    lw = max(1.0, rx * 0.04)
    if style == "curly":
        ring = np.linspace(np.pi * 0.95, np.pi * 2.05, 9)
        cx, cy = np.cos(ring) * 0.95, np.sin(ring) * 0.8 - 0.1
        for u, v in zip(cx, cy):  # the hairline's shadow on the skin first
            R.circle(crop, hx + u * rx, hy + (v + 0.1) * ry, rx * 0.36, mul(skin, 0.8))
        for u, v in zip(cx, cy):
            R.circle(crop, hx + u * rx, hy + v * ry, rx * 0.36, hair)
        if detail:
            for u, v in zip(cx, cy):  # a curl in each puff, and a glint on the lit ones
                _arc(crop, hx + u * rx, hy + v * ry, rx * 0.2, rx * 0.2, 20, 200, strand, lw)
                if u * light_dir > 0.2:
                    _arc(crop, hx + u * rx, hy + v * ry, rx * 0.26, rx * 0.26, 250, 300, sheen, lw * 1.5)
        return
    # the outline: an arc over the crown down to the temples, short sideburns, then the hairline
    th = np.radians(np.linspace(172, 368, 36))
    outer = np.stack([np.cos(th) * 1.08, -0.18 + np.sin(th) * 0.93], 1)
    n_locks = 5
    base_u = np.linspace(0.84, -0.84, 2 * n_locks + 1)
    base_v = -0.52 + 0.22 * base_u**2
    tips = np.arange(1, 2 * n_locks, 2)  # every other point hangs down as a lock, swept to one side
    fringe = np.stack([base_u, base_v], 1)
    fringe[tips, 0] += sweep * 0.1
    fringe[tips, 1] += (0.2 - 0.05 * np.abs(base_u[tips])) * np.array([0.85, 1.1, 0.7, 1.0, 0.8])[::int(sweep)]
    right = np.array([[0.97, -0.2], [0.95, 0.16], [0.82, 0.14], [0.84, -0.32]])
    left = np.array([[-0.84, -0.32], [-0.82, 0.14], [-0.95, 0.16], [-0.97, -0.2]])
    line_uv = np.concatenate([right[1:], fringe, left[:-1]])  # the edge the face sees
    hairline = _px(hx, hy, rx, ry, line_uv)
    R.line(crop, hairline + (0, ry * 0.07), mul(skin, 0.78), ry * 0.12)  # shadow cast on the forehead
    R.poly(crop, _px(hx, hy, rx, ry, np.concatenate([outer, right, fringe, left])), hair)
    if detail:
        for u_tip, v_tip in fringe[tips]:  # strands from the crown to each lock, over the dome
            t = np.linspace(0, 1, 9)[:, None]
            p0, p2 = np.array([u_tip * 0.25 - sweep * 0.15, -1.02]), np.array([u_tip, v_tip - 0.06])
            p1 = np.array([u_tip * 1.25, -0.92])
            R.line(crop, _px(hx, hy, rx, ry, (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2), strand, lw)
        a0, a1 = (285, 328) if light_dir > 0 else (212, 255)
        _arc(crop, hx, hy - ry * 0.2, rx * 0.74, ry * 0.64, a0, a1, sheen, rx * 0.09)
    R.line(crop, hairline, edge, lw)


def beard(crop: np.ndarray, head: tuple[float, float], rx: float, ry: float, turn: float, hair: RGB, skin: RGB,
          light_dir: float) -> None:
    """A full beard round the jaw with the cheeks left bare, a moustache, strands and an edge."""
    hx, hy = head
    strand, sheen, edge = tones(hair)
    lw = max(1.0, rx * 0.04)
    shift = turn * 0.35  # the face's centre moves with the turn; the jaw's sides do not
    th = np.radians(np.linspace(2, 178, 30))
    outer = np.stack([np.cos(th) * 1.01 + shift * 0.4 * np.sin(th), 0.1 + np.sin(th) * 1.04], 1)
    top_u = np.array([-0.96, -0.78, -0.5, -0.26, 0.0, 0.26, 0.5, 0.78, 0.96])
    top_v = np.array([0.12, 0.3, 0.44, 0.36, 0.3, 0.36, 0.44, 0.3, 0.12])
    top = np.stack([top_u + shift * (1 - np.abs(top_u)), top_v], 1)
    R.poly(crop, _px(hx, hy, rx, ry, np.concatenate([outer, top])), hair)
    if rx >= 9:
        # short flicks across the beard, pointing out and down, staggered in two rows
        for row, (r0, n) in enumerate(((0.62, 7), (0.86, 6))):
            for t in np.linspace(0.12, 0.88, n) + (0.04 if row else 0.0):
                a = np.pi * (1 - t)  # right (0) to left (pi) under the chin
                u, v = np.cos(a) * r0 + shift * 0.4, 0.1 + np.sin(a) * r0
                du, dv = np.cos(a) * 0.14, np.sin(a) * 0.16
                R.line(crop, _px(hx, hy, rx, ry, np.array([[u, v], [u + du + 0.03, v + dv]])), strand, lw)
        a0, a1 = (28, 58) if light_dir > 0 else (122, 152)
        _arc(crop, hx + shift * rx * 0.4, hy + ry * 0.16, rx * 0.84, ry * 0.84, a0, a1, sheen, rx * 0.07)
    R.line(crop, _px(hx, hy, rx, ry, top), edge, lw)
    moustache = mul(hair, 0.9) if luma(hair) > 100 else mix(hair, (150, 150, 160), 0.12)
    for d in (-1, 1):
        cx, cy = hx + (shift + d * 0.21) * rx, hy + ry * 0.36
        R.ellipse(crop, cx, cy, rx * 0.3, ry * 0.1, moustache, d * 12)
        cv2.ellipse(crop, (int(cx * 16), int(cy * 16)), (max(1, int(rx * 0.3 * 16)), max(1, int(ry * 0.1 * 16))),
                    d * 12, 0, 180, R.bgra(edge), max(1, int(round(lw))), cv2.LINE_AA, R.SHIFT)


def back_light(crop: np.ndarray, head: tuple[float, float], rx: float, ry: float, rgb: RGB, strength: float) -> None:
    """A thin light just inside the head's silhouette, both sides: separates dark hair from a
    dark background (and any hair from one of its own colour). Only the head's box is touched."""
    hx, hy = head
    h, w = crop.shape[:2]
    x0, x1 = max(0, int(hx - rx * 1.6)), min(w, int(hx + rx * 1.6) + 2)
    y0, y1 = max(0, int(hy - ry * 1.7)), min(h, int(hy + ry * 1.2) + 2)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return
    roi = crop[y0:y1, x0:x1]
    a = np.ascontiguousarray(roi[..., 3])
    k = max(1, int(round(rx * 0.07)))
    edge = cv2.subtract(a, cv2.erode(a, np.ones((2 * k + 1, 2 * k + 1), np.uint8)))
    # strongest over the crown, fading down the sides to nothing at the chin
    fade = np.clip((hy + ry * 0.3 - (np.arange(y0, y1) + 0.5)) / (ry * 1.0), 0, 1)
    edge = (edge * fade[:, None]).astype(np.uint8)
    R.blend_sparse(roi, edge, rgb, strength)
