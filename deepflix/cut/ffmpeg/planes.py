"""Pictures as BT.709 YUV 4:2:0 planes: what the encoder takes, made once per source.

Everything after this module works on Y (full size) and U, V (half size)
planes. Warping, cross-fading and alpha blending are linear, so they give the
same result on YUV as on RGB converted afterwards; working in YUV skips a colour
conversion per frame and warps 1.5 bytes per pixel instead of 3.

Chroma siting: everywhere (canvases, overlays, the encoded frame) chroma
sample (i, j) sits at luma (2i, 2j + 0.5), H.264's default "left" siting: so
a still camera's frame is a plain copy of its canvas, and ``motion.chroma_matrix``
is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ...errors import InvalidInput

KR, KB = 0.2126, 0.0722  # BT.709
KG = 1.0 - KR - KB
BLACK = (16, 128, 128)  # limited-range black in Y, U, V


def _rgb_to_yuv_matrix() -> np.ndarray:
    """3x4 matrix for cv2.transform: B, G, R (OpenCV order) in 0..255 -> Y, U, V limited range."""
    y = np.array([KB, KG, KR]) * 219 / 255
    u = (np.array([1.0, 0, 0]) - np.array([KB, KG, KR])) / (2 * (1 - KB)) * 224 / 255
    v = (np.array([0, 0, 1.0]) - np.array([KB, KG, KR])) / (2 * (1 - KR)) * 224 / 255
    m = np.zeros((3, 4), np.float32)
    m[0, :3], m[1, :3], m[2, :3] = y, u, v
    m[:, 3] = (16.0, 128.0, 128.0)
    return m


BGR_TO_YUV = _rgb_to_yuv_matrix()
YUV_TO_BGR = np.linalg.inv(np.vstack([BGR_TO_YUV.astype(np.float64), [0, 0, 0, 1]]))[:3].astype(np.float32)


@dataclass
class Planes:
    """One picture as planes; ``a``/``a2``: alpha (uint8) at luma and chroma size, for layers and overlays,
    whose Y, U, V are then premultiplied by it."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    a: np.ndarray | None = None
    a2: np.ndarray | None = None

    @property
    def width(self) -> int:
        return int(self.y.shape[1])

    @property
    def height(self) -> int:
        return int(self.y.shape[0])


class Frame:
    """Views of one contiguous yuv420p buffer (the bytes piped to ffmpeg)."""

    def __init__(self, buf: np.ndarray, width: int, height: int) -> None:
        n = width * height
        self.buf = buf
        self.width, self.height = width, height
        self.y = buf[:n].reshape(height, width)
        self.u = buf[n : n + n // 4].reshape(height // 2, width // 2)
        self.v = buf[n + n // 4 : n + n // 2].reshape(height // 2, width // 2)

    @property
    def planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.y, self.u, self.v

    def fill(self, yuv: tuple[int, int, int] = BLACK) -> None:
        for p, val in zip(self.planes, yuv):
            p.fill(val)

    def copy_from(self, other: Frame) -> None:
        np.copyto(self.buf, other.buf)

    def to_rgb(self) -> np.ndarray:
        return planes_to_rgb(Planes(self.y, self.u, self.v))


def bgr_to_planes(bgr: np.ndarray) -> Planes:
    """An opaque BGR uint8 image (even width and height) -> planes. All in uint8:
    cv2.transform rounds and saturates itself (a float detour costs ~5x as much)."""
    h, w = bgr.shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"planes need even sizes, got {w}x{h}")
    yuv = cv2.transform(np.ascontiguousarray(bgr[:, :, :3]), BGR_TO_YUV)
    y, u, v = cv2.split(yuv)
    return Planes(y, _subsample(u), _subsample(v))


def premultiplied_planes(bgr_pm: np.ndarray, alpha: np.ndarray) -> Planes:
    """Premultiplied BGR (colour * alpha) and alpha, uint8 -> premultiplied Y, U, V and
    alpha at both sizes (uint8 in ``a``/``a2``). The colour matrix's offsets are
    premultiplied too (Y = 16 + ... becomes 16*alpha + ...)."""
    m = np.zeros((3, 4), np.float32)
    m[:, :3] = BGR_TO_YUV[:, :3]
    m[:, 3] = BGR_TO_YUV[:, 3] / 255.0
    yuv = cv2.transform(cv2.merge((*cv2.split(np.ascontiguousarray(bgr_pm)), alpha)), m)
    y, u, v = cv2.split(yuv)
    return Planes(y, _subsample(u), _subsample(v), alpha, _subsample(alpha))


_KX = np.array([0.25, 0.5, 0.25], np.float32)
_KY = np.array([0.0, 0.5, 0.5], np.float32)


def _subsample(full: np.ndarray) -> np.ndarray:
    """Full-size chroma (or alpha) -> half size, left-sited: column i from luma columns
    2i-1..2i+1 (1/4, 1/2, 1/4), row j from luma rows 2j and 2j+1."""
    f = cv2.sepFilter2D(full, -1, _KX, _KY, borderType=cv2.BORDER_REFLECT)
    return np.ascontiguousarray(f[::2, ::2])


def planes_to_rgb(p: Planes) -> np.ndarray:
    """Back to RGB (for posters, checks and pictures of frames)."""
    h, w = p.y.shape
    u = cv2.resize(p.u, (w, h), interpolation=cv2.INTER_LINEAR)
    v = cv2.resize(p.v, (w, h), interpolation=cv2.INTER_LINEAR)
    yuv = np.dstack([p.y, u, v]).astype(np.float32)
    bgr = cv2.transform(yuv, YUV_TO_BGR)
    return np.clip(bgr[:, :, ::-1] + 0.5, 0, 255).astype(np.uint8)


def read_image(path: Path) -> np.ndarray:
    """BGR or BGRA uint8, whatever the file's depth; a clear error for an unreadable file."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise InvalidInput(f"cannot read picture {path.name!r}: not an image OpenCV can decode")
    if img.dtype == np.uint16:
        img = (img / 257).astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return img


def cover(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale to cover width x height (keeping the aspect), centre-crop; area filter when
    shrinking, cubic when enlarging (done once per scene, so quality over speed)."""
    h, w = img.shape[:2]
    scale = max(width / w, height / h)
    sw, sh = max(width, round(w * scale)), max(height, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(img, (sw, sh), interpolation=interp)
    x0, y0 = (sw - width) // 2, (sh - height) // 2
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])


def mix(a: np.ndarray, b: np.ndarray, t: float, dst: np.ndarray) -> None:
    """dst = a * (1 - t) + b * t (a cross-fade of two planes)."""
    cv2.addWeighted(a, 1.0 - t, b, t, 0.0, dst=dst)


def fade_to(frame: Frame, t: float, colour: tuple[int, int, int] = BLACK) -> None:
    """Fade the whole frame towards a flat colour (t=1: all colour)."""
    if t <= 0:
        return
    for p, c in zip(frame.planes, colour):
        cv2.addWeighted(p, 1.0 - t, p, 0.0, c * t, dst=p)
