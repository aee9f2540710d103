"""Pixels for a view: exact sub-pixel resampling of a canvas, fast.

A Ken Burns view is a scale ``s`` and an offset: output pixel x shows canvas
point ``s*x + ox`` (each axis alike). ``cv2.warpAffine`` does that for any
offset but costs ~4 ms per 1080p plane; ``cv2.resize`` given an exact factor
(``fx = 1/s``) costs ~1.2 ms, but maps x to ``(x + 0.5)*s - 0.5 + r`` from the
whole pixel r where its input starts. We get the fractional part anyway: resize
a few extra columns and rows (q of them, cropped away afterwards) and pick the
q for which ``(q + 0.5)*s - 0.5`` lands on the needed fraction. With q < 128 and
s > 1.025 some q nearly always lands within ``TOL``; when none does
(s near a small fraction such as 9/8, or a canvas too small to read from),
that frame falls back to warpAffine, which is exact to 1/32 px. Both interpolate
linearly, so the two paths give the same picture.

Canvases are padded (edge pixels repeated, or transparent for layers) so the
extra rows and columns always have something to read.

A pan or tilt keeps one scale all through the scene; only the offset moves. Such
a canvas (``steady``) keeps each plane resampled at that scale once per
sub-pixel phase (``Phases``), so a frame is a plain crop of one of them: a tenth
of a resample's CPU, with the offset placed within 1/32 px.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .motion import chroma_matrix
from .planes import Frame, Planes

FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
Q = 128  # extra columns/rows searched for the fractional offset
TOL = 0.02  # px: the largest offset error the fast path may make
PAD = 160  # canvas padding (px, every plane): more than Q * the largest scale
_QS = np.arange(Q, dtype=np.float64) + 0.5


def _phase(o: float, s: float) -> tuple[int, int, float]:
    """(q, r, error): the smallest extra count q (the least extra work) whose integer start r
    puts (q+0.5)*s - 0.5 + r within TOL of o; failing that, the closest."""
    v = o - _QS * s + 0.5
    err = np.abs(v - np.round(v))
    within = np.flatnonzero(err <= TOL)
    q = int(within[0]) if within.size else int(np.argmin(err))
    return q, int(np.rint(v[q])), float(v[q] - np.rint(v[q]))


def resample(src: np.ndarray, pad: int, s: float, ox: float, oy: float, dst: np.ndarray, zero: bool = False) -> None:
    """dst[y, x] = src at (s*x + ox, s*y + oy) in unpadded canvas pixels, bilinear."""
    h, w = dst.shape[:2]
    if abs(s - 1.0) < 1e-12 and ox == round(ox) and oy == round(oy):  # a plain crop (still camera)
        x, y = int(ox) + pad, int(oy) + pad
        if 0 <= x and 0 <= y and x + w <= src.shape[1] and y + h <= src.shape[0]:
            np.copyto(dst, src[y : y + h, x : x + w])
            return
    oxp, oyp = ox + pad, oy + pad
    if s > 1.0:
        qx, rx, ex = _phase(oxp, s)
        qy, ry, ey = _phase(oyp, s)
        nx = math.ceil((w + qx - 0.5) * s + 1.5) + 1
        ny = math.ceil((h + qy - 0.5) * s + 1.5) + 1
        if (max(abs(ex), abs(ey)) <= TOL and rx >= 0 and ry >= 0 and rx + nx <= src.shape[1]
                and ry + ny <= src.shape[0]):
            out = cv2.resize(src[ry : ry + ny, rx : rx + nx], None, fx=1.0 / s, fy=1.0 / s,
                             interpolation=cv2.INTER_LINEAR)
            if out.shape[0] >= qy + h and out.shape[1] >= qx + w:
                np.copyto(dst, out[qy : qy + h, qx : qx + w])
                return
    m = np.array([[s, 0.0, oxp], [0.0, s, oyp]])
    border = cv2.BORDER_CONSTANT if zero else cv2.BORDER_REPLICATE
    cv2.warpAffine(src, m, (w, h), dst=dst, flags=FLAGS, borderMode=border, borderValue=0)


PHASES = (16, 8)  # sub-pixel phases per pixel a steady canvas keeps, the most that fit PHASE_BYTES
PHASE_BYTES = 128 << 20  # memory one steady canvas may keep its phases in


class Phases:
    """One plane resampled at a fixed scale ``s``, once per sub-pixel phase of the
    view's offset, made when first needed. Image (jx, jy) holds canvas point
    (s*(X + jx/n), s*(Y + jy/n)) at (X, Y), so the view with offset (ox, oy) is
    the crop at (floor(ox/s), floor(oy/s)) of the image whose phase is nearest the
    remainder: off by at most s/(2n) px (1/32 px for n = 16), 0.018 px RMS.
    A pan moves along one axis, so it uses n images; any other phase (a slide's
    shifted frames) is resampled directly rather than kept."""

    def __init__(self, src: np.ndarray, s: float, n: int, zero: bool) -> None:
        self.src, self.s, self.n, self.zero = src, s, n, zero
        self.width = math.floor((src.shape[1] - 2 * PAD - 1) / s)  # covers the unpadded canvas
        self.height = math.floor((src.shape[0] - 2 * PAD - 1) / s)
        self.images: dict[tuple[int, int], np.ndarray] = {}

    def _split(self, o: float) -> tuple[int, int]:
        u = o / self.s
        k = math.floor(u)
        j = round((u - k) * self.n)
        return (k + 1, 0) if j == self.n else (k, j)

    def draw(self, ox: float, oy: float, dst: np.ndarray) -> bool:
        """dst as ``resample`` would make it, from a kept phase; False when the view is
        off the kept images or would need one more than a pan uses."""
        (kx, jx), (ky, jy) = self._split(ox), self._split(oy)
        h, w = dst.shape
        if kx < 0 or ky < 0 or kx + w > self.width or ky + h > self.height:
            return False
        img = self.images.get((jx, jy))
        if img is None:
            if len(self.images) >= self.n + 1:
                return False
            img = np.empty((self.height, self.width), np.uint8)
            resample(self.src, PAD, self.s, self.s * jx / self.n, self.s * jy / self.n, img, self.zero)
            self.images[(jx, jy)] = img
        np.copyto(dst, img[ky : ky + h, kx : kx + w])
        return True


class Canvas:
    """Opaque planes, padded for ``resample``. ``steady``: every view has the same
    scale (a pan or tilt), so each plane keeps its ``Phases``."""

    def __init__(self, planes: Planes, zero: bool = False, steady: bool = False) -> None:
        border = cv2.BORDER_CONSTANT if zero else cv2.BORDER_REPLICATE
        p = PAD
        self.y = cv2.copyMakeBorder(planes.y, p, p, p, p, border, value=0)
        self.u = cv2.copyMakeBorder(planes.u, p, p, p, p, border, value=0)
        self.v = cv2.copyMakeBorder(planes.v, p, p, p, p, border, value=0)
        self.zero, self.steady = zero, steady
        self._phases: dict[int, Phases] = {}
        self._scale: float | None = None

    def _kept(self, i: int, plane: np.ndarray, s: float) -> Phases | None:
        if self._scale != s:  # a new scale (not a steady camera after all): start again
            self._phases, self._scale = {}, s
        if i not in self._phases:
            h, w = (n - 2 * PAD for n in self.y.shape)
            one = 1.5 * (h / s) * (w / s)  # bytes of one phase, all planes (chroma: a quarter each)
            n = next((n for n in PHASES if n * one <= PHASE_BYTES), 0)
            if n == 0:
                return None
            self._phases[i] = Phases(plane, s, n, self.zero)
        return self._phases[i]

    def sample(self, i: int, s: float, ox: float, oy: float, dst: np.ndarray) -> None:
        """dst = plane i (0 y, 1 u, 2 v) at (s*x + ox, s*y + oy), as ``resample``; a crop
        of a kept phase when steady."""
        plane = (self.y, self.u, self.v)[i]
        kept = self._kept(i, plane, s) if self.steady and s > 1.0 else None
        if kept is None or not kept.draw(ox, oy, dst):
            resample(plane, PAD, s, ox, oy, dst, self.zero)

    def draw(self, m: np.ndarray, frame: Frame) -> None:
        """The whole frame for the luma map ``m`` (see motion.View.matrix)."""
        mc = chroma_matrix(m)
        for i, (mat, dst) in enumerate(((m, frame.y), (mc, frame.u), (mc, frame.v))):
            self.sample(i, mat[0, 0], mat[0, 2], mat[1, 2], dst)


class Layer:
    """An RGBA parallax layer, premultiplied (edges resample without dark fringes, and
    the blend is two saturating uint8 operations), with the box where it is not
    transparent: only that part of the frame is touched. ``planes`` come from
    ``planes.premultiplied_planes`` (uint8 alpha in ``a`` and ``a2``)."""

    def __init__(self, planes: Planes, depth: float, steady: bool = False) -> None:
        assert planes.a is not None and planes.a2 is not None
        self.depth = depth
        self.colour = Canvas(Planes(planes.y, planes.u, planes.v), zero=True, steady=steady)
        # u/v slots: chroma-size alpha (only y and u are read)
        self.alpha = Canvas(Planes(planes.a, planes.a2, planes.a2), zero=True, steady=steady)
        ys, xs = np.nonzero(planes.a)
        self.box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else None

    def composite(self, m: np.ndarray, frame: Frame) -> None:
        if self.box is None:
            return
        s, ox, oy = m[0, 0], m[0, 2], m[1, 2]
        x0, y0, x1, y1 = self.box
        # the box in output pixels (forward map x = (X - ox) / s), padded for the filter, chroma-aligned
        fx0 = max(0, (math.floor((x0 - ox) / s) - 2) & ~1)
        fy0 = max(0, (math.floor((y0 - oy) / s) - 2) & ~1)
        fx1 = min(frame.width, math.ceil((x1 - ox) / s) + 3)
        fy1 = min(frame.height, math.ceil((y1 - oy) / s) + 3)
        fx1, fy1 = fx1 + fx1 % 2, fy1 + fy1 % 2
        if fx1 <= fx0 or fy1 <= fy0:
            return
        mr = m.copy()
        mr[0, 2] += s * fx0
        mr[1, 2] += s * fy0
        mc = chroma_matrix(mr)
        w, h = fx1 - fx0, fy1 - fy0
        keep = np.empty((h, w), np.uint8)
        keep2 = np.empty((h // 2, w // 2), np.uint8)
        self.alpha.sample(0, s, mr[0, 2], mr[1, 2], keep)
        self.alpha.sample(1, s, mc[0, 2], mc[1, 2], keep2)
        cv2.bitwise_not(keep, dst=keep)
        cv2.bitwise_not(keep2, dst=keep2)
        for i, (mat, dst, kp, k) in enumerate(((mr, frame.y, keep, 1), (mc, frame.u, keep2, 2),
                                               (mc, frame.v, keep2, 2))):
            roi = dst[fy0 // k : fy1 // k, fx0 // k : fx1 // k]
            layer = np.empty_like(roi)
            self.colour.sample(i, s, mat[0, 2], mat[1, 2], layer)
            cv2.multiply(roi, kp, dst=roi, scale=1 / 255)  # what shows through
            cv2.add(roi, layer, dst=roi)
