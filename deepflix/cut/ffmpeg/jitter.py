"""How far frames stray from the camera's ideal smooth path (a measurement).

For each frame we know the ideal view (scale s, offset ox, oy: output pixel x
shows canvas point s*x + ox). We register the frame against the canvas with
OpenCV's ECC (an affine fit, started from the ideal view) and take, at a 5x5
grid of points over the frame, the distance between where the fit and the ideal
put them, in output pixels. A renderer that rounds to whole pixels (ffmpeg's
zoompan) strays by up to half a pixel, changing from frame to frame: jitter.

``path_error`` returns per-frame RMS distances; ``jitter`` summarises them as the
RMS over frames, and also after removing a constant bias (which the eye cannot
see as shake).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .motion import View


def _grid(width: int, height: int, n: int = 5) -> np.ndarray:
    xs = np.linspace(width * 0.1, width * 0.9, n)
    ys = np.linspace(height * 0.1, height * 0.9, n)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel(), np.ones(gx.size)])


def frame_error(frame_y: np.ndarray, canvas_y: np.ndarray, view: View) -> np.ndarray:
    """(dx, dy) per grid point, in output pixels: fitted minus ideal position."""
    ideal = np.array([[view.s, 0, view.ox], [0, view.s, view.oy]], np.float32)
    warp = ideal.copy()
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 200, 1e-7)
    _, warp = cv2.findTransformECC(frame_y.astype(np.float32), canvas_y.astype(np.float32), warp,  # type: ignore[call-overload]
                                   cv2.MOTION_AFFINE, criteria, None, 1)  # no pre-blur: exact sub-pixel fit
    pts = _grid(frame_y.shape[1], frame_y.shape[0])
    return (warp.astype(np.float64) @ pts - ideal.astype(np.float64) @ pts) / view.s


def path_error(frames_y: Sequence[np.ndarray], canvas_y: np.ndarray, views: Sequence[View]) -> np.ndarray:
    """Per frame, the RMS distance (output pixels) over the grid."""
    out = []
    for f, v in zip(frames_y, views):
        d = frame_error(f, canvas_y, v)
        out.append(float(np.sqrt(np.mean(np.sum(d**2, axis=0)))))
    return np.array(out)


@dataclass
class Jitter:
    rms: float  # RMS distance from the ideal path, over all frames and grid points
    unbiased: float  # the same after removing each point's mean offset (a still shift is not shake)
    worst: float

    def __str__(self) -> str:
        return f"{self.rms:.3f} px RMS ({self.unbiased:.3f} px without bias, worst frame {self.worst:.3f} px)"


def jitter(frames_y: Sequence[np.ndarray], canvas_y: np.ndarray, views: Sequence[View]) -> Jitter:
    errs = np.stack([frame_error(f, canvas_y, v) for f, v in zip(frames_y, views)])  # frames x 2 x points
    dist = np.sqrt(np.sum(errs**2, axis=1))
    centred = errs - errs.mean(axis=0, keepdims=True)
    return Jitter(rms=float(np.sqrt(np.mean(dist**2))),
                  unbiased=float(np.sqrt(np.mean(np.sum(centred**2, axis=1)))),
                  worst=float(np.sqrt(np.mean(dist**2, axis=1)).max()))
