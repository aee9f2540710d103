"""The cast stage: one portrait per character, keyed by the visual traits alone,
drawn by the illustrator as its scenes draw the figure, or the user's own picture."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from deepflix.errors import InvalidInput
from deepflix.film.options import FilmOptions
from deepflix.film.plan import PLAN
from deepflix.film.requests import picture_request, portrait_request
from deepflix.models import Character, DialogueLine, Scene, Story
from deepflix.pipeline.uploads import import_portrait
from deepflix.plugins import get_provider
from deepflix.runner import run_stage, stage_key
from deepflix.storage.local import LocalStore


def story() -> Story:
    nadia = Character(id="nadia", name="Nadia", base_traits="a tall woman in her thirties",
                      facial_features="sharp cheekbones, dark eyes", clothing="a red wool coat",
                      distinctive_features="a scar on her chin", role="lead")
    tom = Character(id="tom", name="Tom", base_traits="a short old man", facial_features="a white beard",
                    clothing="a green fisherman's sweater", distinctive_features="a pipe")
    scenes = [Scene(scene_description="On the pier at dawn.", atmosphere="calm", setting="coast",
                    characters=["nadia", "tom"], narration="They meet on the pier.",
                    dialogue=[DialogueLine(speaker="tom", text="You came back.")]),
              Scene(scene_description="Inside the lamp room.", atmosphere="warm", setting="lighthouse",
                    characters=["nadia"], narration="She climbs alone.")]
    return Story(title="The Pier", genre="drama", seed=3, characters=[nadia, tom], scenes=scenes)


def png(w: int, h: int, colour: tuple[int, int, int] = (30, 160, 220), fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(buf, format=fmt)
    return buf.getvalue()


def test_a_portrait_depends_on_the_visual_traits_alone() -> None:
    st, opts = story(), FilmOptions()
    base = portrait_request(st, 0, opts)
    edited = st.model_copy(deep=True)
    edited.scenes[0].narration = "Something else entirely."
    edited.characters[0].voice.pitch_semitones = 4
    edited.characters[0].role = "villain"
    assert portrait_request(edited, 0, opts) == base  # narration, voice, role: no redraw
    edited.characters[0].clothing = "a blue raincoat"
    assert portrait_request(edited, 0, opts) != base
    # each character has a seed of their own, stable when the cast grows
    assert portrait_request(st, 0, opts).params.seed != portrait_request(st, 1, opts).params.seed
    bigger = st.model_copy(deep=True)
    bigger.characters.insert(0, st.characters[1].model_copy(update={"id": "ann", "name": "Ann"}))
    assert portrait_request(bigger, 1, opts).params.seed == base.params.seed


def test_the_plan_draws_the_cast_before_the_pictures() -> None:
    assert PLAN["cast"].per == "character" and PLAN["cast"].kind == "gpu"
    assert "cast" in PLAN["picture"].needs and PLAN["cast"].follows == "picture"


def test_the_illustrator_draws_the_figure_the_same_every_time(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    req = portrait_request(story(), 0, FilmOptions())
    a = run_stage("cast", req, store=store, provider="builtin/illustrator")
    sheet = cv2.imread(str(store.local_path(a.key, a.result.image)))
    face = cv2.imread(str(store.local_path(a.key, a.result.face)))
    assert sheet.shape == (512, 768, 3) and not a.result.user
    backdrop = sheet[5, 5].astype(int)
    figure = np.abs(sheet[:, : int(768 * 0.6)].astype(int) - backdrop).sum(axis=2) > 60
    assert 0.03 < figure.mean() < 0.5  # a figure stands on the backdrop
    assert np.abs(face.astype(int) - backdrop).sum(axis=2).mean() > 20  # the face panel is not empty
    # a red coat reads red: the figure's most saturated pixels lean to red
    hsv = cv2.cvtColor(sheet, cv2.COLOR_BGR2HSV)
    sat = hsv[..., 1] > 120
    assert sat.any() and np.median(sheet[sat][:, 2].astype(int) - sheet[sat][:, 0]) > 40
    b = run_stage("cast", req, store=LocalStore(tmp_path / "other"), provider="builtin/illustrator")
    assert b.key == a.key and not b.cached
    assert Path(LocalStore(tmp_path / "other").local_path(b.key, "portrait.png")).read_bytes() == \
        store.local_path(a.key, "portrait.png").read_bytes()


def test_a_users_portrait_is_taken_as_it_is(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    ref = import_portrait(store, png(300, 400))
    assert import_portrait(store, png(300, 400)) == ref  # the same pixels, one artifact
    st = story()
    st.characters[0].portrait = ref
    req = portrait_request(st, 0, FilmOptions())
    drawn = portrait_request(story(), 0, FilmOptions())
    prov = get_provider("cast", "builtin/illustrator")
    assert stage_key(prov, req) != stage_key(prov, drawn)
    oc = run_stage("cast", req, store=store, provider=prov)
    assert oc.result.user
    sheet = cv2.imread(str(store.local_path(oc.key, oc.result.image)))
    assert tuple(int(v) for v in sheet[256, 384]) == (220, 160, 30)  # the user's blue, BGR, in the middle


@pytest.mark.parametrize("data, words", [
    (b"not an image at all", "not a readable image"),
    (png(1, 1), "1x1 px"),
    (png(100, 100, fmt="GIF"), "GIF"),
])
def test_a_bad_portrait_is_refused_and_stores_nothing(tmp_path: Path, data: bytes, words: str) -> None:
    store = LocalStore(tmp_path / "store")
    with pytest.raises(InvalidInput, match=words):
        import_portrait(store, data)
    assert not [p for p in (tmp_path / "store").rglob("result.json")]


def test_a_portrait_over_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPFLIX_MAX_UPLOAD_BYTES", "1000")
    with pytest.raises(InvalidInput, match="at most 1000"):
        import_portrait(LocalStore(tmp_path), png(400, 400, (1, 2, 3)) + b"\0" * 1000)


def test_pictures_take_references_only_from_providers_that_use_them() -> None:
    st, opts = story(), FilmOptions()
    plain = picture_request(st, 0, opts)
    assert "references" not in plain.model_dump()  # the illustrator's keys are what they were


def _deepflix(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "deepflix", *args], env=env, capture_output=True, text=True,
                          timeout=600)


def test_make_with_a_users_portrait(tmp_path: Path) -> None:
    env = {**os.environ, "DEEPFLIX_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "nadia.png").write_bytes(png(200, 260, (200, 40, 40)))
    one = story().model_copy(update={"scenes": story().scenes[1:]})
    data = one.model_dump(mode="json")
    data["characters"][0]["portrait"] = "nadia.png"  # a path, relative to the story file
    (tmp_path / "story.json").write_text(json.dumps(data))
    proc = _deepflix("make", "--story", str(tmp_path / "story.json"), "--resolution", "360p", "--out",
                     str(tmp_path / "film"), env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = json.loads((tmp_path / "film" / "film.json").read_text())
    cast = manifest["artifacts"]["cast"]
    assert len(cast) == 2
    store = LocalStore(tmp_path / "data" / "store")
    results = [store.load_result(k)["result"] for k in cast]
    assert [r["user"] for r in results] == [True, False]  # Nadia's picture is hers; Tom is drawn
    assert manifest["story"]["characters"][0]["portrait"]["name"] == "portrait.png"

    bad = _deepflix("make", "--story", str(tmp_path / "story.json"), "--resolution", "360p", "--cast",
                    f"Nobody={tmp_path / 'nadia.png'}", "--out", str(tmp_path / "film2"), env=env)
    assert bad.returncode == 2 and "nobody" in bad.stderr and "Nadia, Tom" in bad.stderr, bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    notimg = _deepflix("make", "--story", str(tmp_path / "story.json"), "--cast", f"Nadia={tmp_path / 'story.json'}",
                       "--out", str(tmp_path / "film3"), env=env)
    assert notimg.returncode == 2 and "not a readable image" in notimg.stderr
    assert not (tmp_path / "film3").exists()


def test_the_cast_takes_the_picture_options_only_where_one_provider_makes_both() -> None:
    from deepflix.plugins import stage_options

    same = {"picture": "diffusers/local", "cast": "diffusers/local"}
    opts = {"picture": {"model_path": "/models/sd15"}}
    assert stage_options("cast", same, opts) == {"model_path": "/models/sd15"}  # the portraits' model too
    assert stage_options("cast", same, {**opts, "cast": {"long_side": 512}}) == {"long_side": 512}  # its own first
    # the illustrator's picture options do not fit its portrait provider: none are passed
    drawn = {"picture": "builtin/illustrator", "cast": "builtin/illustrator"}
    assert stage_options("cast", drawn, {"picture": {"layers": False}}) is None
    assert stage_options("picture", drawn, {"picture": {"layers": False}}) == {"layers": False}
