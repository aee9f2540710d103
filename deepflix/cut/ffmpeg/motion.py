"""Ken Burns motion: the camera's smooth path through a scene's canvas.

Each scene's picture is rendered once into a canvas a little larger than the
frame (the zoom margin); a ``View`` says which part of it each frame shows, as
an exact scale and sub-pixel offset (warp.py turns it into pixels). Unlike
ffmpeg's zoompan, which rounds the crop to whole pixels, nothing on the path is
rounded, so the motion does not jitter. Every view samples the canvas at a
scale of at least 1, never enlarging it.

The path eases in and out (zero speed at both ends), so a scene held at its
opening framing during the transition into it starts moving without a jolt.
With parallax layers, each depth follows the same path scaled by its depth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def ease(u: float) -> float:
    """Cosine ease in/out: 0 -> 1 with zero speed at both ends."""
    u = min(1.0, max(0.0, u))
    return 0.5 - 0.5 * math.cos(math.pi * u)


MAX_AMOUNT = 0.15


def move_amount(duration: float) -> float:
    """How far a move goes (zoom ratio - 1, or pan distance / frame size): enough to be
    seen in a short scene, never a rush in a long one."""
    return min(MAX_AMOUNT, max(0.06, 0.05 + 0.007 * duration))


def zoom_margin(move: str) -> float:
    """The canvas margin does not depend on the scene's length, and neither does the
    opening framing: a transition can show the next scene without knowing its length.
    3% beyond the widest move keeps every view's scale above 1.025, where the fast
    resampler (warp.py) can place it exactly."""
    return 1.0 if move == "static" else 1.0 + MAX_AMOUNT + 0.03


STEADY_MOVES = ("pan_left", "pan_right", "tilt_up", "tilt_down")  # one scale throughout: see warp.Phases


def canvas_size(width: int, height: int, margin: float) -> tuple[int, int]:
    """Even canvas size that holds the frame at the move's widest view."""
    cw = math.ceil(width * margin - 1e-9)
    ch = math.ceil(height * margin - 1e-9)
    return cw + cw % 2, ch + ch % 2


@dataclass(frozen=True)
class View:
    """Output pixel (x, y) shows canvas point (s*x + ox, s*y + oy)."""

    s: float
    ox: float
    oy: float

    def matrix(self, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
        """The luma inverse map; (dx, dy) shifts the frame's content by that many output pixels."""
        return np.array([[self.s, 0.0, self.ox - self.s * dx], [0.0, self.s, self.oy - self.s * dy]])


def chroma_matrix(m: np.ndarray) -> np.ndarray:
    """Luma inverse map -> the map for half-size chroma planes. Chroma (i, j) sits at
    luma (2i, 2j + 0.5) in both the frame and the canvas (see planes.py)."""
    s, ox, oy = m[0, 0], m[0, 2], m[1, 2]
    return np.array([[s, 0.0, ox / 2], [0.0, s, (oy + 0.5 * s - 0.5) / 2]])


class Camera:
    """One scene's move through its canvas, for progress u in [0, 1].

    Every move starts from a framing fixed by the move alone (push_in: the whole
    picture; pull_out: the tightest; pans and tilts: one side) and goes
    ``amount`` of the way (which grows with the scene's length). Zooms are
    geometric, so their speed looks even."""

    def __init__(self, move: str, amount: float, width: int, height: int, canvas_w: int, canvas_h: int) -> None:
        self.move, self.amount = move, min(amount, MAX_AMOUNT)
        self.width, self.height = width, height
        self.cw, self.ch = canvas_w, canvas_h
        self.s_wide = min((canvas_w - 1) / (width - 1), (canvas_h - 1) / (height - 1))  # the whole canvas
        self.s_tight = max(1.0, self.s_wide / (1.0 + MAX_AMOUNT))  # ~1.026: see zoom_margin
        self.s_pan = max(1.0, self.s_wide / (1.0 + 0.8 * MAX_AMOUNT))  # a little wider than 1:1
        self.travel_x = (canvas_w - 1) - self.s_pan * (width - 1)
        self.travel_y = (canvas_h - 1) - self.s_pan * (height - 1)

    def _path(self, e: float) -> tuple[float, float, float]:
        """(s, cx, cy): canvas pixels per output pixel and the view's centre, in canvas pixels."""
        cx, cy = (self.cw - 1) / 2, (self.ch - 1) / 2
        m, a = self.move, self.amount
        go = e * a / MAX_AMOUNT  # share of the full travel
        if m == "push_in":
            return self.s_wide * (1.0 + a) ** -e, cx, cy
        if m == "pull_out":
            return self.s_tight * (1.0 + a) ** e, cx, cy
        if m in ("pan_left", "pan_right"):
            d = self.travel_x * (0.5 - go)  # pan_left: the view moves left
            return self.s_pan, cx + (d if m == "pan_left" else -d), cy
        if m in ("tilt_up", "tilt_down"):
            d = self.travel_y * (0.5 - go)
            return self.s_pan, cx, cy + (d if m == "tilt_up" else -d)
        return 1.0, cx, cy  # static

    def view(self, u: float, depth: float = 1.0) -> View:
        e = ease(u)
        s, cx, cy = self._path(e)
        if depth != 1.0:  # parallax: the same move, amplified
            s0, cx0, cy0 = self._path(0.0)
            s = s0 * (s / s0) ** depth
            cx, cy = cx0 + depth * (cx - cx0), cy0 + depth * (cy - cy0)
        return View(s, cx - s * (self.width - 1) / 2, cy - s * (self.height - 1) / 2)
