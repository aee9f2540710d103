"""Portrait sheets: the offline illustrator's drawing of one character (a full
figure and a face close-up on a plain backdrop), and a user's own picture
framed to the same sheet. Both write ``portrait.png`` and ``face.png``."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..models import PortraitRequest, PortraitResult
from .illustration import raster as R
from .illustration.appearance import appearance_for, build_for
from .illustration.figures import FigureLight, Placement, draw_figure
from .illustration.palette import make_look

BACKDROP = (219, 216, 209)  # a studio grey, RGB, so the figure reads as itself
FIGURE_SHARE = 0.6  # the full figure's panel: the sheet's left 60 %; the face is on the right
DIVIDER = (150, 150, 150)  # the line between the panels (BGR = RGB)


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
    fig_w = int(w * FIGURE_SHARE)
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
    _place_face(canvas, crop, fig_w)
    return _write(out, canvas, _face(canvas, fig_w), user=False)


def _face_square(w: int, h: int, fig_w: int) -> tuple[int, int, int]:
    """The face panel's square: x, y, side."""
    panel = w - fig_w
    size = int(min(panel * 0.9, h * 0.9))
    return fig_w + (panel - size) // 2, (h - size) // 2, size


def _place_face(canvas: np.ndarray, face: np.ndarray, fig_w: int) -> None:
    """The face enlarged into the right-hand panel, and the line between the panels."""
    h, w = canvas.shape[:2]
    fx, fy, size = _face_square(w, h, fig_w)
    canvas[fy:fy + size, fx:fx + size] = (cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)
                                          if face.size else 0)
    cv2.line(canvas, (fig_w, int(h * 0.06)), (fig_w, int(h * 0.94)), DIVIDER, 1, cv2.LINE_AA)


def _face(canvas: np.ndarray, fig_w: int) -> np.ndarray:
    h, w = canvas.shape[:2]
    fx, fy, size = _face_square(w, h, fig_w)
    return canvas[fy:fy + size, fx:fx + size].copy()


def compose_sheet(figure: np.ndarray, face: np.ndarray, req: PortraitRequest, out: Path) -> PortraitResult:
    """A sheet from two pictures made apart (an image model's full figure and face close-up),
    laid out as the illustrator's: the figure panel on the left, the face on the right."""
    w, h = req.width, req.height
    fig_w = int(w * FIGURE_SHARE)
    canvas = np.empty((h, w, 3), np.uint8)
    canvas[:] = list(reversed(BACKDROP))
    canvas[:, :fig_w] = cv2.resize(figure, (fig_w, h), interpolation=cv2.INTER_AREA)
    _place_face(canvas, face, fig_w)
    return _write(out, canvas, _face(canvas, fig_w), user=False)


def sheet_figure_box(sheet: np.ndarray) -> tuple[int, int, int, int]:
    """Where the full figure is on a sheet (x, y, w, h): the left panel of a drawn or composed
    sheet (it has the divider line), else a user's picture as it was fitted onto the backdrop."""
    h, w = sheet.shape[:2]
    fig_w = int(w * FIGURE_SHARE)
    col = sheet[int(h * 0.1):int(h * 0.9), min(fig_w, w - 1)].astype(np.int16)
    if col.size and (np.abs(col - np.array(DIVIDER)).max(axis=1) <= 12).mean() > 0.9:
        # the backdrop is one colour along each row: the figure is what differs from its row
        panel = sheet[:, :fig_w - 2].astype(np.int16)  # (the divider bleeds into the last column)
        ys, xs = np.nonzero(np.abs(panel - np.median(panel, axis=1, keepdims=True)).max(axis=2) > 16)
        if not len(xs):
            return 0, 0, fig_w, h
        x0, y0 = max(0, int(xs.min()) - 2), max(0, int(ys.min()) - 2)
        return x0, y0, min(fig_w, int(xs.max()) + 3) - x0, min(h, int(ys.max()) + 3) - y0
    mask = np.any(sheet != np.array(list(reversed(BACKDROP)), np.uint8), axis=2)
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return 0, 0, w, h
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


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
