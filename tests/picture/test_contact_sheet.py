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


def test_the_cast_in_a_row_above_the_storyboard(tmp_path: Path) -> None:
    from deepflix.models import PortraitRequest
    from deepflix.picture.contact_sheet import CAST_H, NAME_H
    from deepflix.picture.illustrator import IllustratorPortrait

    store = LocalStore(tmp_path / "store")
    people = [CharacterSheet(id=f"c{i}", name=name, base_traits="a tall woman", facial_features="dark eyes",
                             clothing=f"a {coat} coat", distinctive_features="a scar")
              for i, (name, coat) in enumerate((("Ada", "red"), ("Bo", "green")))]
    cast = [run_stage("cast", PortraitRequest(character=c, genre="drama", width=384, height=256), store=store,
                      provider=IllustratorPortrait()).key for c in people]
    scene = SceneVisual(scene_description="Ada and Bo", atmosphere="calm", setting="coast", characters=["c0", "c1"])
    req = PictureRequest(scene=scene, characters=people, genre="drama", width=320, height=180)
    pictures = [run_stage("picture", req, store=store, provider=Illustrator()).key]
    film = tmp_path / "film"
    film.mkdir()
    story = {"scenes": [scene.model_dump(mode="json")], "characters": [c.model_dump(mode="json") for c in people]}
    (film / "film.json").write_text(json.dumps({"story": story, "artifacts": {"pictures": pictures, "cast": cast}}))
    sheet = cv2.imread(str(contact_sheet_for_film(film, store)))
    band = GAP + CAST_H + NAME_H  # both portraits (300 px wide each) do not fit one 504-px row: two rows
    th = THUMB_W * 180 // 320
    assert sheet.shape[:2] == (band + CAST_H + NAME_H + GAP + GAP + th + CAPTION_H + GAP, GAP + THUMB_W + GAP)
    for row, key in enumerate(cast):  # each portrait, shrunk, where the row puts it
        stored = store.load_result(key)
        assert stored is not None
        portrait = cv2.imread(str(store.local_path(key, stored["result"]["image"])))
        want = cv2.resize(portrait, (300, CAST_H), interpolation=cv2.INTER_AREA)
        y = GAP + row * (CAST_H + NAME_H + GAP)
        got = sheet[y:y + CAST_H, GAP:GAP + 300]
        assert np.abs(got.astype(int) - want.astype(int)).mean() < 1.0
        assert sheet[y + CAST_H:y + CAST_H + NAME_H, GAP:GAP + 300].max() > 150  # the name under it
    # the storyboard starts below the cast
    top = band + CAST_H + NAME_H + GAP + GAP
    stored = store.load_result(pictures[0])
    assert stored is not None
    pic = cv2.resize(cv2.imread(str(store.local_path(pictures[0], stored["result"]["image"]))), (THUMB_W, th),
                     interpolation=cv2.INTER_AREA)
    assert np.abs(sheet[top:top + th, GAP:GAP + THUMB_W].astype(int) - pic.astype(int)).mean() < 1.0
    (film / "film.json").write_text(json.dumps({"story": story, "artifacts": {"pictures": pictures, "cast": ["0" * 64]}}))
    with pytest.raises(InvalidInput, match="portrait 1"):
        contact_sheet_for_film(film, store)
