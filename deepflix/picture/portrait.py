"""Portrait sheets: the offline illustrator's drawing of one character (a full
figure and a face close-up on a plain backdrop), and a user's own picture
framed to the same sheet. Both write ``portrait.png`` and ``face.png``."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..models import PortraitRequest, PortraitResult
from . import raster as R
from .appearance import appearance_for, build_for
from .figures import FigureLight, Placement, draw_figure
from .palette import make_look

BACKDROP = (219, 216, 209)  # a studio grey, RGB, so the figure reads as itself


def _write(out: Path, sheet: np.ndarray, face: np.ndarray, user: bool) -> PortraitResult:
    cv2.imwrite(str(out / "portrait.png"), sheet)
    cv2.imwrite(str(out / "face.png"), face)
    h, w = sheet.shape[:2]
    return PortraitResult(image="portrait.png", face="face.png", width=w, height=h, user=user)


def draw_portrait(req: PortraitRequest, out: Path) -> PortraitResult:
    """The figure as every scene draws it, lit by a plain day: full length on the left
    (60 % of the sheet), the head and shoulders enlarged on the right."""
    w, h = req.width, req.height
    look = make_look("day", "clear", "field", "drama", "", "")  # neutral daylight, whatever the genre
    light = FigureLight(look, 1.0, strength=0.15)
    fig_w = int(w * 0.6)
    layer = R.new_layer(fig_w, h, (0, 0, 0))
    sheet = req.character
    app = appearance_for(sheet)
    pl = Placement(0, fig_w / 2, h * 0.96, h * 0.8 * (app.height or 1.0))  # heights as in the scenes
    box = draw_figure(layer, app, build_for(sheet), pl, light)
    bg = np.empty((h, w, 3), np.uint8)
    bg[:] = list(reversed(BACKDROP))
    left = R.composite([_backdrop(fig_w, h), layer])
    canvas = bg.copy()
    canvas[:, :fig_w] = left
    # the face: the top of the figure's box, square, enlarged into the right-hand panel
    x, y, bw, bh = box if box is not None else (0, 0, fig_w, h)
    side = max(8, int(min(bw, bh * 0.32)))
    cx = x + bw // 2
    x0, y0 = max(0, cx - side // 2), max(0, y - side // 12)
    crop = left[y0:y0 + side, x0:x0 + side]
    panel = w - fig_w
    size = int(min(panel * 0.9, h * 0.9))
    face = cv2.resize(crop, (size, size), interpolation=cv2.INTER_CUBIC) if crop.size else np.zeros((size, size, 3), np.uint8)
    fy, fx = (h - size) // 2, fig_w + (panel - size) // 2
    canvas[fy:fy + size, fx:fx + size] = face
    cv2.line(canvas, (fig_w, int(h * 0.06)), (fig_w, int(h * 0.94)), (150, 150, 150), 1, cv2.LINE_AA)
    return _write(out, canvas, face, user=False)


def _backdrop(w: int, h: int) -> np.ndarray:
    """A soft studio sweep: lighter at the top, a floor shadow at the bottom."""
    layer = R.new_layer(w, h, BACKDROP)
    layer[..., 3] = 255
    R.shade_rows(layer, 1.04, 0.9, int(h * 0.55), h)
    return layer


def frame_user_portrait(src: Path, req: PortraitRequest, out: Path) -> PortraitResult:
    """A user's picture, fitted inside the sheet on the backdrop (never cropped: it is
    their character), and a centred square of it as the face."""
    img = cv2.imread(str(src), cv2.IMREAD_COLOR)
    if img is None:  # validated on the way in; a store that lost it is a transient miss upstream
        raise ValueError(f"cannot read the portrait {src.name}")
    w, h = req.width, req.height
    ih, iw = img.shape[:2]
    scale = min(w / iw, h / ih)
    nw, nh = max(1, round(iw * scale)), max(1, round(ih * scale))
    fitted = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    sheet = np.empty((h, w, 3), np.uint8)
    sheet[:] = list(reversed(BACKDROP))
    y0, x0 = (h - nh) // 2, (w - nw) // 2
    sheet[y0:y0 + nh, x0:x0 + nw] = fitted
    side = min(ih, iw)
    face = img[(ih - side) // 2:(ih + side) // 2, (iw - side) // 2:(iw + side) // 2]
    face = cv2.resize(face, (min(512, side), min(512, side)), interpolation=cv2.INTER_AREA)
    return _write(out, sheet, face, user=True)
