"""Small drawing kit for the illustrator: layers, anti-aliased shapes, soft light.

A layer is an ``(H, W, 4)`` uint8 BGRA array with *straight* (not premultiplied)
alpha, so it can be written to PNG as is and composited by anyone. OpenCV's
anti-aliased fills blend every channel with what is already there; a new layer
is therefore filled with its dominant colour at alpha 0, so edges fade in alpha
without dark fringes. Anything soft (glows, fog, clouds) is computed at a
quarter of the resolution and scaled up: blurs are the expensive part and soft
things do not need detail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import cv2
import numpy as np

SHIFT = 4  # sub-pixel bits for cv2 drawing: coordinates are multiplied by 16
_ONE = 1 << SHIFT

RGB = tuple[float, float, float]


def bgra(rgb: Sequence[float], alpha: float = 1.0) -> tuple[int, int, int, int]:
    r, g, b = (int(round(min(255.0, max(0.0, float(v))))) for v in rgb[:3])
    return (b, g, r, int(round(255 * min(1.0, max(0.0, alpha)))))


def _fill(w: int, h: int, px: tuple[int, int, int, int]) -> np.ndarray:
    # one 32-bit fill: several times faster than ``layer[:] = tuple`` or a broadcast copy
    layer = np.empty((h, w, 4), np.uint8)
    layer.view(np.uint32).fill(int(np.frombuffer(bytes(px), np.uint32)[0]))
    return layer


def new_layer(w: int, h: int, rgb: Sequence[float] = (0, 0, 0)) -> np.ndarray:
    return _fill(w, h, bgra(rgb, 0.0))


def solid(w: int, h: int, rgb: Sequence[float]) -> np.ndarray:
    return _fill(w, h, bgra(rgb, 1.0))


def _fixed(pts: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    return np.round(np.asarray(pts, np.float64) * _ONE).astype(np.int32).reshape(-1, 1, 2)


def poly(layer: np.ndarray, pts: np.ndarray | Sequence[Sequence[float]], rgb: Sequence[float], alpha: float = 1.0) -> None:
    """One filled polygon, anti-aliased, opaque (alpha < 1 writes that alpha, it does not blend)."""
    cv2.fillPoly(layer, [_fixed(pts)], bgra(rgb, alpha), cv2.LINE_AA, shift=SHIFT)


def polys(layer: np.ndarray, shapes: Iterable[np.ndarray | Sequence[Sequence[float]]], rgb: Sequence[float]) -> None:
    for pts in shapes:  # one call each: a multi-contour fillPoly would punch holes where shapes overlap
        poly(layer, pts, rgb)


def ellipse(layer: np.ndarray, cx: float, cy: float, rx: float, ry: float, rgb: Sequence[float],
            angle: float = 0.0, alpha: float = 1.0) -> None:
    cv2.ellipse(layer, (int(cx * _ONE), int(cy * _ONE)), (max(1, int(rx * _ONE)), max(1, int(ry * _ONE))),
                angle, 0, 360, bgra(rgb, alpha), -1, cv2.LINE_AA, SHIFT)


def circle(layer: np.ndarray, cx: float, cy: float, r: float, rgb: Sequence[float], alpha: float = 1.0) -> None:
    cv2.circle(layer, (int(cx * _ONE), int(cy * _ONE)), max(1, int(r * _ONE)), bgra(rgb, alpha), -1, cv2.LINE_AA, SHIFT)


def line(layer: np.ndarray, pts: np.ndarray | Sequence[Sequence[float]], rgb: Sequence[float], width: float, alpha: float = 1.0) -> None:
    cv2.polylines(layer, [_fixed(pts)], False, bgra(rgb, alpha), max(1, int(round(width))), cv2.LINE_AA, SHIFT)


def rect(layer: np.ndarray, x0: float, y0: float, x1: float, y1: float, rgb: Sequence[float], alpha: float = 1.0) -> None:
    poly(layer, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], rgb, alpha)


def lines(layer: np.ndarray, segs: np.ndarray, rgb: Sequence[float], width: float, alpha: float = 1.0) -> None:
    """Many 2-point segments in one call: segs is (N, 2, 2) of (x, y)."""
    if len(segs):
        cv2.polylines(layer, list(_fixed(segs).reshape(-1, 2, 1, 2)), False, bgra(rgb, alpha),
                      max(1, int(round(width))), cv2.LINE_AA, SHIFT)


def _roi(layer: np.ndarray, xs: np.ndarray, ys: np.ndarray, pad: float) -> tuple[int, int, int, int] | None:
    """Whole-pixel box (x0, y0, x1, y1) round some points, padded and clipped to the layer."""
    h, w = layer.shape[:2]
    x0, x1 = max(0, int(np.floor(xs.min() - pad))), min(w, int(np.ceil(xs.max() + pad)) + 1)
    y0, y1 = max(0, int(np.floor(ys.min() - pad))), min(h, int(np.ceil(ys.max() + pad)) + 1)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def glaze_lines(layer: np.ndarray, segs: np.ndarray, rgb: Sequence[float], width: float, alpha: float) -> None:
    """Translucent segments blended over what is there (``lines`` with alpha < 1 would replace
    alpha and punch see-through holes in opaque parts). Works in the segments' box only: shifting
    by whole pixels draws exactly the same pixels."""
    if not len(segs):
        return
    segs = np.asarray(segs, np.float64)
    box = _roi(layer, segs[..., 0], segs[..., 1], width + 2)
    if box is None:
        return
    x0, y0, x1, y1 = box
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.polylines(mask, list(_fixed(segs - (x0, y0)).reshape(-1, 2, 1, 2)), False, 255, max(1, int(round(width))),
                  cv2.LINE_AA, SHIFT)
    blend_sparse(layer[y0:y1, x0:x1], mask, rgb, alpha, cover=True)


def glaze_circles(layer: np.ndarray, xs: np.ndarray, ys: np.ndarray, rs: np.ndarray, rgb: Sequence[float],
                  alpha: float) -> None:
    if not len(xs):
        return
    box = _roi(layer, np.asarray(xs), np.asarray(ys), float(np.max(rs)) + 2)
    if box is None:
        return
    x0, y0, x1, y1 = box
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for x, y, r in zip(xs, ys, rs):
        cv2.circle(mask, (int((x - x0) * _ONE), int((y - y0) * _ONE)), max(1, int(r * _ONE)), 255, -1, cv2.LINE_AA,
                   SHIFT)
    blend_sparse(layer[y0:y1, x0:x1], mask, rgb, alpha, cover=True)


# --------------------------------------------------------------------------- blending


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)


def weight_box(weight: np.ndarray, eps: float = 1 / 512) -> Box | None:
    """The rectangle where a full-size weight map is non-zero (None: nowhere)."""
    rows = np.flatnonzero(weight.max(axis=1) > eps)
    if not len(rows):
        return None
    cols = np.flatnonzero(weight[rows[0] : rows[-1] + 1].max(axis=0) > eps)
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def blend_color(layer: np.ndarray, weight: np.ndarray, rgb: Sequence[float], cover: bool = False,
                box: Box | None = None) -> None:
    """Mix ``rgb`` into the layer's colour by ``weight`` (float32, layer size). With ``cover`` the
    weight also raises alpha (straight-alpha "over"), else alpha is kept. Only the rectangle where
    the weight is non-zero is touched (``box`` when the caller knows it)."""
    h, w = layer.shape[:2]
    if weight.ndim == 1 or weight.shape[0] != h or weight.shape[1] != w:
        weight = np.broadcast_to(weight, (h, w))
    box = box or weight_box(weight)
    if box is None:
        return
    x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(w, box[2]), min(h, box[3])
    if x1 <= x0 or y1 <= y0:
        return
    dst = layer[y0:y1, x0:x1]
    wt = np.ascontiguousarray(weight[y0:y1, x0:x1], np.float32)
    paint = _fill(x1 - x0, y1 - y0, bgra(rgb, 1.0))
    src = np.ascontiguousarray(dst)
    if not cover:
        paint[..., 3] = src[..., 3]
        dst[:] = cv2.blendLinear(paint, src, wt, 1.0 - wt)
        return
    a = src[..., 3].astype(np.float32) * (1.0 / 255)
    out_a = wt + a * (1.0 - wt)
    # straight-alpha "over": colour weighted by each side's share of the new alpha
    share = np.divide(wt, out_a, out=np.ones_like(wt), where=out_a > 1e-6)
    mixed = cv2.blendLinear(paint, src, share, 1.0 - share)
    mixed[..., 3] = np.round(out_a * 255).astype(np.uint8)
    dst[:] = mixed


def blend_rows(layer: np.ndarray, row_weight: np.ndarray, rgb: Sequence[float], levels: int = 96) -> None:
    """Mix ``rgb`` into the colour by a weight that depends only on the row (haze, fog), keeping alpha.
    Rows are grouped by their weight rounded to 1/levels and each group is one saturating
    multiply-add in uint8: many times cheaper than a per-pixel float blend."""
    q = np.round(np.clip(row_weight, 0, 1) * levels).astype(np.int32)
    alpha_rows = layer[..., 3].max(axis=1) > 0
    q[~alpha_rows] = 0
    edges = np.flatnonzero(np.diff(q)) + 1
    b, g, r, _ = bgra(rgb)
    for y0, y1 in zip(np.concatenate([[0], edges]), np.concatenate([edges, [len(q)]])):
        wv = q[y0] / levels
        if wv <= 0:
            continue
        band = layer[y0:y1]
        cv2.multiply(band, (1 - wv, 1 - wv, 1 - wv, 1.0), dst=band)
        cv2.add(band, (b * wv, g * wv, r * wv, 0.0), dst=band)


def blend_sparse(layer: np.ndarray, weight_u8: np.ndarray, rgb: Sequence[float], strength: float,
                 cover: bool = False) -> None:
    """Blend a colour where a uint8 weight is non-zero, touching only those pixels: thin edges
    (rim light, outlines) cover a few percent of the frame."""
    ys, xs = np.nonzero(weight_u8)
    if not len(ys):
        return
    wv = weight_u8[ys, xs].astype(np.float32) * (strength / 255)
    px = layer[ys, xs].astype(np.float32)
    b, g, r, _ = bgra(rgb)
    colour = np.array([b, g, r], np.float32)
    if cover:
        a = px[:, 3] / 255
        out_a = wv + a * (1 - wv)
        share = np.divide(wv, out_a, out=np.ones_like(wv), where=out_a > 1e-6)
        px[:, :3] += (colour - px[:, :3]) * share[:, None]
        px[:, 3] = out_a * 255
    else:
        px[:, :3] += (colour - px[:, :3]) * wv[:, None]
    layer[ys, xs] = np.clip(np.round(px), 0, 255).astype(np.uint8)


def shade_rows(layer: np.ndarray, top: float, bottom: float, y0: int = 0, y1: int | None = None) -> None:
    """Scale colour linearly from ``top`` to ``bottom`` down the rows y0..y1: depth shading."""
    h = layer.shape[0]
    y1 = h if y1 is None else y1
    f = np.ones(h, np.float32)
    f[y0:y1] = np.linspace(top, bottom, max(1, y1 - y0), dtype=np.float32)[: max(0, min(h, y1) - y0)]
    f[y1:] = bottom
    f[:y0] = top
    q = np.round(f * 128).astype(np.int32)
    edges = np.flatnonzero(np.diff(q)) + 1
    for a, b in zip(np.concatenate([[0], edges]), np.concatenate([edges, [h]])):
        v = q[a] / 128
        if v != 1.0:
            band = layer[a:b]
            cv2.multiply(band, (v, v, v, 1.0), dst=band)


def low_res(w: int, h: int, factor: int = 4) -> tuple[int, int]:
    return max(8, w // factor), max(8, h // factor)


def upscale(small: np.ndarray, w: int, h: int) -> np.ndarray:
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def radial(w: int, h: int, cx: float, cy: float, radius: float, power: float = 2.0,
           box: Box | None = None) -> np.ndarray:
    """A float32 falloff 1 -> 0 around (cx, cy) over ``box`` (default the frame), computed at a
    quarter of the size and scaled up: it is smooth, so nothing is lost."""
    x0, y0, x1, y1 = box or (0, 0, w, h)
    bw, bh = x1 - x0, y1 - y0
    sw, sh = max(2, bw // 4), max(2, bh // 4)
    ys = (np.arange(sh, dtype=np.float32) + 0.5) * (bh / sh) + y0 - cy
    xs = (np.arange(sw, dtype=np.float32) + 0.5) * (bw / sw) + x0 - cx
    d = np.sqrt(xs[None, :] ** 2 + ys[:, None] ** 2) / max(radius, 1.0)
    small = np.clip(1.0 - d, 0.0, 1.0) ** power
    return cv2.resize(small.astype(np.float32), (bw, bh), interpolation=cv2.INTER_LINEAR)


def add_glow(layer: np.ndarray, cx: float, cy: float, radius: float, rgb: Sequence[float], strength: float,
             power: float = 2.0, opaque: bool = False) -> None:
    """Soft light: on an opaque layer it brightens, on a transparent one it adds a haze with alpha."""
    h, w = layer.shape[:2]
    x0, y0 = max(0, int(cx - radius)), max(0, int(cy - radius))
    x1, y1 = min(w, int(cx + radius) + 2), min(h, int(cy + radius) + 2)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    g = np.clip(radial(w, h, cx, cy, radius, power, (x0, y0, x1, y1)) * float(strength), 0, 1)
    sub = layer[y0:y1, x0:x1]
    blend_color(sub, g, rgb, cover=not opaque, box=(0, 0, x1 - x0, y1 - y0))


def soft_mask(w: int, h: int, draw: object, blur: float) -> np.ndarray:
    """Draw white shapes on a quarter-size mask with ``draw(mask, scale)`` and blur it: clouds, fog, beams."""
    sw, sh = low_res(w, h)
    small = np.zeros((sh, sw), np.uint8)
    draw(small, sw / w)  # type: ignore[operator]
    if blur > 0:
        small = cv2.GaussianBlur(small, (0, 0), max(0.5, blur * sw / w))
    return upscale(small.astype(np.float32) * (1.0 / 255), w, h)


@lru_cache(maxsize=8)
def vignette(w: int, h: int, strength: float) -> np.ndarray:
    sw, sh = low_res(w, h, 8)
    ys, xs = np.ogrid[0:sh, 0:sw]
    nx, ny = (xs + 0.5) / sw * 2 - 1, (ys + 0.5) / sh * 2 - 1
    d = np.sqrt(nx**2 * 0.85 + ny**2 * 1.0)
    v = 1.0 - strength * np.clip((d - 0.45) / 0.95, 0, 1) ** 1.6
    return upscale(v.astype(np.float32), w, h)


def composite(layers: Sequence[np.ndarray]) -> np.ndarray:
    """Straight-alpha layers, back to front, over black -> BGR uint8."""
    out = layers[0].copy()
    out[..., 3] = 255
    for layer in layers[1:]:
        a = layer[..., 3]
        rows = np.flatnonzero(a.max(axis=1))
        if not len(rows):
            continue
        y0, y1 = int(rows[0]), int(rows[-1]) + 1  # blend only the rectangle this layer touches
        cols = np.flatnonzero(a[y0:y1].max(axis=0))
        x0, x1 = int(cols[0]), int(cols[-1]) + 1
        w = a[y0:y1, x0:x1].astype(np.float32) * (1.0 / 255)
        out[y0:y1, x0:x1] = cv2.blendLinear(layer[y0:y1, x0:x1], out[y0:y1, x0:x1], w, 1.0 - w)
    return cv2.cvtColor(out, cv2.COLOR_BGRA2BGR)


def ridge(w: int, base: float, amp: float, rng: np.random.Generator, octaves: int = 4,
          step: float = 6.0, rough: float = 0.5, freq: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D fractal line across the frame: (xs, ys) for hills, dunes, waves."""
    xs = np.arange(-step * 2, w + step * 3, step, dtype=np.float64)
    ys = np.full_like(xs, base)
    a, f = amp, freq
    for _ in range(octaves):
        knots = rng.uniform(-1, 1, int(f) + 3)
        kx = np.linspace(xs[0], xs[-1], len(knots))
        # smooth interpolation through random knots (cosine), not a sine: no visible period
        idx = np.clip(np.searchsorted(kx, xs) - 1, 0, len(kx) - 2)
        t = (xs - kx[idx]) / (kx[idx + 1] - kx[idx])
        t = (1 - np.cos(t * np.pi)) / 2
        ys += a * (knots[idx] * (1 - t) + knots[idx + 1] * t)
        a *= rough
        f *= 2.1
    return xs, ys


def fill_below(layer: np.ndarray, xs: np.ndarray, ys: np.ndarray, rgb: Sequence[float]) -> None:
    h = layer.shape[0]
    pts = np.concatenate([np.stack([xs, ys], 1), [[xs[-1], h + 4], [xs[0], h + 4]]])
    poly(layer, pts, rgb)
