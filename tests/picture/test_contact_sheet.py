"""Contact sheets of a film's pictures, from paths and from a film folder + store."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from deepflix.errors import InvalidInput
from deepflix.models import CharacterSheet, PictureRequest, SceneVisual
from deepflix.picture.contact_sheet import CAPTION_H, GAP, THUMB_W, contact_sheet, contact_sheet_for_film
from deepflix.picture.illustrator import Illustrator
from deepflix.runner import run_stage
from deepflix.storage.local import LocalStore


def test_grid_of_pictures_with_captions(tmp_path: Path) -> None:
    paths = []
    for i, colour in enumerate(((0, 0, 255), (0, 255, 0), (255, 0, 0), (0, 255, 255), (255, 255, 255))):
        p = tmp_path / f"{i}.png"
        cv2.imwrite(str(p), np.full((90, 160, 3), colour, np.uint8))
        paths.append(p)
    out = contact_sheet(paths, tmp_path / "sheet.png", [f"scene {i}\ncoast · dusk" for i in range(5)], columns=2)
    sheet = cv2.imread(str(out))
    th = THUMB_W * 90 // 160
    assert sheet.shape[:2] == (GAP + 3 * (th + CAPTION_H + GAP), GAP + 2 * (THUMB_W + GAP))
    # the third picture (blue) sits first in the second row
    y = GAP + (th + CAPTION_H + GAP) + th // 2
    assert tuple(sheet[y, GAP + THUMB_W // 2]) == (255, 0, 0)
    caption = sheet[GAP + th : GAP + th + CAPTION_H, GAP : GAP + THUMB_W]
    assert caption.max() > 150  # text was written under the picture
    with pytest.raises(InvalidInput):
        contact_sheet([], tmp_path / "x.png")
    with pytest.raises(InvalidInput, match="cannot read"):
        contact_sheet([tmp_path / "missing.png"], tmp_path / "x.png")


def test_contact_sheet_of_a_film_folder(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    who = CharacterSheet(id="k", name="Keeper", base_traits="old man", facial_features="grey beard",
                         clothing="yellow raincoat", distinctive_features="pipe")
    scenes, keys = [], []
    for i, setting in enumerate(("lighthouse", "coast", "interior")):
        scene = SceneVisual(scene_description=f"scene {i + 1}", atmosphere="calm", setting=setting, characters=["k"])
        req = PictureRequest(scene=scene, characters=[who], genre="drama", width=320, height=180, scene_index=i)
        keys.append(run_stage("picture", req, store=store, provider=Illustrator()).key)
        scenes.append(scene.model_dump(mode="json"))
    film = tmp_path / "film"
    film.mkdir()
    (film / "film.json").write_text(json.dumps({"story": {"scenes": scenes}, "artifacts": {"pictures": keys}}))
    out = contact_sheet_for_film(film, store)
    assert out == film / "contact_sheet.png" and cv2.imread(str(out)).shape[1] == GAP + 3 * (THUMB_W + GAP)
    (film / "film.json").write_text(json.dumps({"artifacts": {"pictures": ["0" * 64]}}))
    with pytest.raises(InvalidInput, match="not in the store"):
        contact_sheet_for_film(film, store)
