"""A contact sheet: the cast's portraits in a row with their names, above a film's
pictures in a labelled grid, to look at the storyboard.

``deepflix contact-sheet FILM_DIR`` calls ``contact_sheet_for_film``, which reads
the film's ``film.json`` (its ``artifacts.cast`` and ``artifacts.pictures`` are
store keys) and finds each picture through the artifact store.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import InvalidInput

THUMB_W = 480
GAP = 12
CAPTION_H = 58
CAST_H = 200  # a portrait's height in the cast row
NAME_H = 34
BACKGROUND = (24, 22, 20)


def _font() -> Any | None:
    """Source Sans through OpenCV 5's FontFace; None on OpenCV 4 (Hershey is used then)."""
    if not hasattr(cv2, "FontFace"):
        return None
    try:
        path = resources.files("font_source_sans_pro") / "files" / "SourceSansPro-Semibold.ttf"
        return cv2.FontFace(str(path))
    except Exception:  # the font package is missing or unreadable: fall back
        return None


def _text(img: np.ndarray, text: str, x: int, y: int, size: int, colour: tuple[int, int, int], font: Any) -> None:
    if font is not None:
        cv2.putText(img, text, (x, y), colour, font, size)
    else:
        cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, size / 34, colour, 1, cv2.LINE_AA)


def _fit(text: str, width: int, size: int) -> str:
    limit = max(4, int(width / (size * 0.5)))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _read(p: Path) -> np.ndarray:
    img = cv2.imread(str(p), cv2.IMREAD_COLOR)
    if img is None:
        raise InvalidInput(f"contact sheet: cannot read picture {str(p)!r}")
    return img


def _cast_layout(portraits: list[np.ndarray], width: int) -> tuple[list[tuple[int, int, int, int]], int]:
    """Each portrait's (x, y, w, h) at CAST_H high, left to right, wrapping at the sheet's width;
    and the band's height."""
    boxes, x, y = [], GAP, GAP
    for img in portraits:
        w = min(width - 2 * GAP, max(1, round(img.shape[1] * CAST_H / img.shape[0])))
        if x > GAP and x + w > width - GAP:
            x, y = GAP, y + CAST_H + NAME_H + GAP
        boxes.append((x, y, w, CAST_H))
        x += w + GAP
    return boxes, (y + CAST_H + NAME_H if portraits else 0)


def contact_sheet(image_paths: list[Path], out_png: Path, captions: list[str] | None = None,
                  columns: int = 4, cast: list[tuple[Path, str]] | None = None) -> Path:
    """Lay the images out ``columns`` wide, each with its number and caption underneath;
    above them, when given, the ``cast``: each (portrait, name) in a row."""
    if not image_paths:
        raise InvalidInput("contact sheet: no pictures given")
    if captions is not None and len(captions) != len(image_paths):
        raise InvalidInput(f"contact sheet: {len(captions)} captions for {len(image_paths)} pictures")
    images = [_read(p) for p in image_paths]
    portraits = [_read(p) for p, _ in cast or []]
    columns = max(1, min(columns, len(images)))
    h0, w0 = images[0].shape[:2]
    tw, th = THUMB_W, int(round(THUMB_W * h0 / w0))
    rows = (len(images) + columns - 1) // columns
    width = GAP + columns * (tw + GAP)
    boxes, top = _cast_layout(portraits, width)
    sheet = np.empty((top + GAP + rows * (th + CAPTION_H + GAP), width, 3), np.uint8)
    sheet[:] = BACKGROUND
    font = _font()
    for img, (x, y, w, h), (_, name) in zip(portraits, boxes, cast or [], strict=True):
        scale = min(w / img.shape[1], h / img.shape[0])  # (a portrait wider than the sheet is letterboxed)
        nw, nh = max(1, int(img.shape[1] * scale)), max(1, int(img.shape[0] * scale))
        oy = y + (h - nh) // 2
        sheet[oy:oy + nh, x:x + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
        _text(sheet, _fit(name, w, 20), x + 2, y + h + 25, 20, (235, 235, 235), font)
    for i, img in enumerate(images):
        r, k = divmod(i, columns)
        x, y = GAP + k * (tw + GAP), top + GAP + r * (th + CAPTION_H + GAP)
        # letterbox pictures of another shape into the cell
        scale = min(tw / img.shape[1], th / img.shape[0])
        nw, nh = max(1, int(img.shape[1] * scale)), max(1, int(img.shape[0] * scale))
        thumb = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
        ox, oy = x + (tw - nw) // 2, y + (th - nh) // 2
        sheet[oy : oy + nh, ox : ox + nw] = thumb
        _text(sheet, f"{i + 1}", x + 2, y + th + 24, 22, (235, 200, 120), font)
        if captions:
            lines = captions[i].split("\n")
            _text(sheet, _fit(lines[0], tw - 36, 19), x + 30, y + th + 24, 19, (235, 235, 235), font)
            if len(lines) > 1:
                _text(sheet, _fit(lines[1], tw - 36, 16), x + 30, y + th + 47, 16, (160, 160, 160), font)
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out_png), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 6]):
        raise InvalidInput(f"contact sheet: cannot write {str(out_png)!r}")
    return out_png


def contact_sheet_for_film(film_dir: Path, store: Any, out_png: Path | None = None, columns: int = 4) -> Path:
    """The contact sheet of a film folder made by ``deepflix make`` (reads its film.json)."""
    film_dir = Path(film_dir)
    try:
        manifest = json.loads((film_dir / "film.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{film_dir}: cannot read film.json ({exc})") from exc
    keys = manifest.get("artifacts", {}).get("pictures", [])
    if not keys:
        raise InvalidInput(f"{film_dir / 'film.json'} names no pictures")
    scenes = manifest.get("story", {}).get("scenes", [])
    paths, captions = [], []
    for i, key in enumerate(keys):
        stored = store.load_result(key)
        if stored is None:
            raise InvalidInput(f"picture {i + 1} ({key[:12]}…) is not in the store; run `deepflix make` again")
        paths.append(store.local_path(key, stored["result"]["image"]))
        sc = scenes[i] if i < len(scenes) else {}
        first = sc.get("scene_description") or sc.get("location") or ""
        detail = " · ".join(str(sc[k]) for k in ("setting", "time_of_day", "weather", "shot") if sc.get(k))
        captions.append(f"{first}\n{detail}" if detail else first)
    return contact_sheet(paths, out_png or film_dir / "contact_sheet.png", captions, columns,
                         cast=_cast(manifest, store))


def _cast(manifest: dict[str, Any], store: Any) -> list[tuple[Path, str]]:
    """The film's portraits (artifacts.cast, in the story's character order) and names."""
    chars = manifest.get("story", {}).get("characters", [])
    out = []
    for i, key in enumerate(manifest.get("artifacts", {}).get("cast") or []):
        stored = store.load_result(key) if key else None
        if stored is None:
            raise InvalidInput(f"portrait {i + 1} ({str(key)[:12]}…) is not in the store; run `deepflix make` again")
        name = chars[i].get("name", "") if i < len(chars) else ""
        out.append((store.local_path(key, stored["result"]["image"]), str(name)))
    return out
