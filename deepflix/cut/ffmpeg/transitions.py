"""Transitions between two scenes, on yuv420p frames.

``out`` holds the outgoing scene's frame, ``b`` the incoming one; ``p`` runs
from 0 (all outgoing) to 1 (all incoming). Edges (wipe, slide, circle) are
anti-aliased over a few pixels and positioned sub-pixel, so they glide rather
than step. A transition plays over the outgoing scene's last moments (its
silent tail), so it never changes the film's length.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from .planes import BLACK, Frame, fade_to, mix

KINDS = ("crossfade", "fade_black", "wipe_left", "slide_up", "circle_open", "cut")


def smooth(p: float) -> float:
    p = min(1.0, max(0.0, p))
    return p * p * (3.0 - 2.0 * p)


def crossfade(out: Frame, b: Frame, p: float) -> None:
    e = smooth(p)
    for pa, pb in zip(out.planes, b.planes):
        mix(pa, pb, e, pa)


def fade_black(out: Frame, b: Frame, p: float) -> None:
    """Down to black over the first half, up into the next scene over the second."""
    if p < 0.5:
        fade_to(out, smooth(2 * p), BLACK)
    else:
        out.copy_from(b)
        fade_to(out, smooth(2 - 2 * p), BLACK)


def _edge_weights(n: int, edge: float, feather: float, scale: float) -> np.ndarray:
    """Weight of the incoming picture per column/row centre c (in plane pixels): 0 before the edge, 1 after."""
    centres = np.arange(n, dtype=np.float32) * scale  # chroma is left-sited: column i at luma 2i
    return np.clip((centres - edge) / feather + 0.5, 0.0, 1.0).astype(np.float32)


def wipe_left(out: Frame, b: Frame, p: float) -> None:
    """The incoming scene sweeps in from the right edge to the left."""
    w = out.width
    feather = max(3.0, w * 0.015)
    edge = (w + feather) * (1.0 - smooth(p)) - feather / 2
    for plane, bp, scale in ((out.y, b.y, 1.0), (out.u, b.u, 2.0), (out.v, b.v, 2.0)):
        wts = _edge_weights(plane.shape[1], edge, feather, scale)
        lo = int(np.searchsorted(wts, 1e-6))  # first column with any of b
        hi = int(np.searchsorted(wts, 1.0 - 1e-6))  # first column all b
        if hi < plane.shape[1]:
            plane[:, hi:] = bp[:, hi:]
        if lo < hi:
            band = wts[lo:hi][None, :].repeat(plane.shape[0], axis=0)
            roi = plane[:, lo:hi]
            cv2.blendLinear(roi, np.ascontiguousarray(bp[:, lo:hi]), 1.0 - band, band, dst=roi)


def slide_offsets(p: float, height: int) -> tuple[float, float]:
    """Content shifts (output pixels, down positive) of the outgoing and incoming frames:
    the incoming scene pushes the outgoing one up and out."""
    d = height * smooth(p)
    return -d, height - d


def slide_join(out: Frame, b: Frame, p: float) -> None:
    """Join the two shifted frames at the moving boundary (anti-aliased row)."""
    boundary = out.height * (1.0 - smooth(p))
    for plane, bp, scale in ((out.y, b.y, 1.0), (out.u, b.u, 2.0), (out.v, b.v, 2.0)):
        rows = plane.shape[0]
        centres = (np.arange(rows, dtype=np.float32) + 0.5) * scale
        wts = np.clip((centres - boundary) / scale + 0.5, 0.0, 1.0)
        full = int(np.searchsorted(wts, 1.0 - 1e-6))
        part = int(np.searchsorted(wts, 1e-6))
        if full < rows:
            plane[full:] = bp[full:]
        for r in range(part, min(full, rows)):
            cv2.addWeighted(plane[r], 1.0 - float(wts[r]), bp[r], float(wts[r]), 0.0, dst=plane[r])


@lru_cache(maxsize=4)
def _distance(width: int, height: int, chroma: bool) -> np.ndarray:
    """Distance (luma pixels) of each sample from the frame centre."""
    if chroma:
        xs = np.arange(width // 2, dtype=np.float32) * 2.0
        ys = np.arange(height // 2, dtype=np.float32) * 2.0 + 0.5
    else:
        xs = np.arange(width, dtype=np.float32)
        ys = np.arange(height, dtype=np.float32)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    d = np.sqrt((xs[None, :] - cx) ** 2 + (ys[:, None] - cy) ** 2)
    d.setflags(write=False)
    return d


def circle_open(out: Frame, b: Frame, p: float) -> None:
    """The incoming scene opens from a growing circle at the centre."""
    w, h = out.width, out.height
    feather = max(2.0, min(w, h) * 0.012)
    radius = smooth(p) * (float(np.hypot(w, h)) / 2 + feather)
    if radius <= 0:
        return
    for plane, bp, chroma in ((out.y, b.y, False), (out.u, b.u, True), (out.v, b.v, True)):
        dist = _distance(w, h, chroma)
        scale = 2 if chroma else 1
        r = (radius + feather) / scale + 2
        cy, cx = plane.shape[0] / 2, plane.shape[1] / 2
        y0, y1 = max(0, int(cy - r)), min(plane.shape[0], int(cy + r) + 1)
        x0, x1 = max(0, int(cx - r)), min(plane.shape[1], int(cx + r) + 1)
        wts = np.clip((np.float32(radius) - dist[y0:y1, x0:x1]) / np.float32(feather) + np.float32(0.5), 0, 1)
        wts = wts.astype(np.float32, copy=False)
        roi = plane[y0:y1, x0:x1]
        cv2.blendLinear(roi, np.ascontiguousarray(bp[y0:y1, x0:x1]), 1.0 - wts, wts, dst=roi)


def blend(kind: str, out: Frame, b: Frame, p: float) -> None:
    """Every kind but slide_up, which needs the shifted renders (see slide_offsets)."""
    if kind == "crossfade":
        crossfade(out, b, p)
    elif kind == "fade_black":
        fade_black(out, b, p)
    elif kind == "wipe_left":
        wipe_left(out, b, p)
    elif kind == "circle_open":
        circle_open(out, b, p)
    elif kind == "slide_up":
        slide_join(out, b, p)
    elif kind == "cut":
        if p >= 0.5:
            out.copy_from(b)
    else:
        raise ValueError(f"unknown transition {kind!r}")
