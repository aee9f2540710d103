"""Light on figures: soft form shading and the shadow they cast on the ground.

Both are cheap by construction: they touch only one figure's box, and the soft
part is computed small and scaled up. Form shading treats the blurred silhouette
as a height field, so every edge of the body and the head turns toward or away
from the light: a soft light side and shadow side, with no per-part bookkeeping.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import raster as R
from .palette import RGB


def form_shade(crop: np.ndarray, light_dir: float, fh: float, top: float, contrast: float = 1.0) -> None:
    """Shade a figure's crop (BGRA, straight alpha) in place: brighter where its surface turns
    toward the light (``light_dir`` +1: from the right) and up, darker where it turns away and
    down, and a little darker toward the feet. ``top`` is the row of the top of the head."""
    h, w = crop.shape[:2]
    a = crop[..., 3]
    # the blur must span about a head's width; work at the size where that is ~3 px
    f = max(4.0, fh * 0.032 / 3.0)
    sw, sh = max(4, int(round(w / f))), max(4, int(round(h / f)))
    small = cv2.resize(a, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32) * (1 / 255)
    sigma = fh * 0.032 * sw / w
    soft = cv2.GaussianBlur(small, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    # a blurred unit step has slope 1 / (sqrt(2 pi) sigma): scale so a plain edge gives ~1
    k = 2.5066 * sigma / 8
    nx = -cv2.Sobel(soft, cv2.CV_32F, 1, 0, ksize=3) * k  # > 0 where the surface faces right
    ny = -cv2.Sobel(soft, cv2.CV_32F, 0, 1, ksize=3) * k  # < 0 where it faces up
    lit = np.clip(nx * (0.9 * light_dir) - ny * 0.35, -1, 1)
    shade = 1 + np.where(lit > 0, 0.18, 0.42) * lit * contrast
    # the body as a whole: a gentle gradient across, and darker low legs (nearer the ground's shade)
    xs = (np.arange(sw, dtype=np.float32) + 0.5) / sw * 2 - 1
    shade *= 1 + 0.09 * xs[None, :] * light_dir
    ys = ((np.arange(sh, dtype=np.float32) + 0.5) * (h / sh) - top) / max(1.0, fh)
    shade *= 1 - 0.14 * np.clip((ys - 0.7) / 0.3, 0, 1)[:, None]
    q = cv2.resize(np.clip(shade * 128, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    m = cv2.merge([q, q, q, np.full_like(q, 128)])
    cv2.multiply(crop, m, dst=crop, scale=1 / 128)


def ground_shadow(layer: np.ndarray, x: float, feet: float, fh: float, light_dir: float, length: float,
                  strength: float, rgb: RGB) -> None:
    """A soft contact shadow under the feet and, with ``strength`` > 0, the figure's shadow cast
    across the ground away from the light, ``length`` x the figure's height long, foreshortened
    (it lies on the ground, seen from eye height) and fading from the feet."""
    H, W = layer.shape[:2]
    dx, dy = -light_dir * length * fh, length * fh * 0.16
    blur = max(1.0, fh * 0.012)
    pad = blur * 3 + fh * 0.03
    x0, x1 = int(max(0, min(x, x + dx) - fh * 0.22 - pad)), int(min(W, max(x, x + dx) + fh * 0.22 + pad))
    y0, y1 = int(max(0, feet - fh * 0.05 - pad)), int(min(H, feet + max(0.0, dy) + fh * 0.05 + pad))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    contact = np.zeros((y1 - y0, x1 - x0), np.uint8)
    ox, oy = x - x0, feet - y0
    R.ellipse(contact, ox, oy, fh * 0.17, fh * 0.024, (255, 255, 255))
    weight = cv2.GaussianBlur(contact, (0, 0), blur).astype(np.float32) * (0.42 / 255)
    if strength > 0 and length > 0.02:
        cast = np.zeros_like(contact)
        ux, uy = dx / max(1e-6, np.hypot(dx, dy)), dy / max(1e-6, np.hypot(dx, dy))
        nx, ny = -uy, ux  # across the shadow
        half_feet, half_shoulders = fh * 0.07, fh * 0.1
        body = [(ox + nx * half_feet, oy + ny * half_feet * 0.3), (ox - nx * half_feet, oy - ny * half_feet * 0.3),
                (ox + dx * 0.8 - nx * half_shoulders, oy + dy * 0.8 - ny * half_shoulders * 0.3),
                (ox + dx * 0.8 + nx * half_shoulders, oy + dy * 0.8 + ny * half_shoulders * 0.3)]
        R.poly(cast, body, (255, 255, 255))
        R.ellipse(cast, ox + dx * 0.9, oy + dy * 0.9, fh * 0.06, fh * 0.06 * 0.45, (255, 255, 255))  # the head
        soft = cv2.GaussianBlur(cast, (0, 0), blur * (1 + length))
        yy, xx = np.mgrid[0 : y1 - y0, 0 : x1 - x0].astype(np.float32)
        along = np.clip(((xx - ox) * ux + (yy - oy) * uy) / max(1.0, np.hypot(dx, dy)), 0, 1)
        weight = np.maximum(weight, soft.astype(np.float32) * (strength / 255) * (1 - 0.55 * along))
    R.blend_color(layer[y0:y1, x0:x1], weight, rgb, cover=True)
