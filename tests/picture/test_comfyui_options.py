"""The ComfyUI provider's options are settable: DEEPFLIX_COMFYUI_* settings, a film's picture
options (run_stage options=, FilmOptions.provider_options), and `deepflix make --picture-option`;
a bad one fails before any work; the time limits stay out of the cache key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

pytest.importorskip("websockets")
pytest.importorskip("uvicorn")

from comfy_fake_server import FakeComfy, serve, wait_idle  # noqa: E402

from deepflix.cli import app  # noqa: E402
from deepflix.core import config  # noqa: E402
from deepflix.errors import InvalidInput  # noqa: E402
from deepflix.models import CharacterSheet, GenerationParams, PictureRequest, SceneVisual  # noqa: E402
from deepflix.picture.comfyui import ComfyUI  # noqa: E402
from deepflix.runner import run_stage, stage_key  # noqa: E402
from deepflix.storage.local import LocalStore  # noqa: E402


@pytest.fixture(scope="module")
def comfy() -> Any:
    yield from serve(FakeComfy())


def _request() -> PictureRequest:
    k = CharacterSheet(id="k", name="Elias", base_traits="old keeper", facial_features="beard", clothing="sweater",
                       distinctive_features="spyglass")
    return PictureRequest(scene=SceneVisual(scene_description="a bottle on the shore", atmosphere="hopeful",
                                            setting="coast", time_of_day="dawn", shot="medium", characters=["k"]),
                          characters=[k], genre="drama", width=128, height=128, params=GenerationParams(steps=9))


def test_settings_and_film_options_reach_the_workflow(comfy: FakeComfy, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMFYUI_URL", comfy.url)  # type: ignore[attr-defined]
    monkeypatch.setenv("DEEPFLIX_COMFYUI_CHECKPOINT", "mine.safetensors")
    monkeypatch.setenv("DEEPFLIX_COMFYUI_STEPS", "2")
    monkeypatch.setenv("DEEPFLIX_COMFYUI_SCHEDULER", "karras")
    config.reload_settings()
    try:
        wait_idle(comfy)
        comfy.reset()
        run_stage("picture", _request(), store=LocalStore(tmp_path), provider="comfyui/workflow",
                  options={"width": 192, "height": 128, "cfg": 3.0})
        wf = comfy.prompts[-1]["workflow"]
        assert wf["4"]["inputs"]["ckpt_name"] == "mine.safetensors"
        assert (wf["3"]["inputs"]["steps"], wf["3"]["inputs"]["scheduler"], wf["3"]["inputs"]["cfg"]) == (2, "karras", 3.0)
        assert (wf["5"]["inputs"]["width"], wf["5"]["inputs"]["height"]) == (192, 128)
        # the picture depends on the checkpoint, not on how long it may take
        req = _request()
        assert stage_key(ComfyUI(), req) == stage_key(ComfyUI({"timeout_s": 5}), req)
        assert stage_key(ComfyUI(), req) != stage_key(ComfyUI({"checkpoint": "other.safetensors"}), req)
    finally:
        for name in ("COMFYUI_URL", "DEEPFLIX_COMFYUI_CHECKPOINT", "DEEPFLIX_COMFYUI_STEPS", "DEEPFLIX_COMFYUI_SCHEDULER"):
            monkeypatch.delenv(name)
        config.reload_settings()


@pytest.mark.parametrize("option", ["bogus=1", "steps=0", "workflow=/nonexistent/wf.json", "width=512"])
def test_a_bad_picture_option_fails_before_any_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    option: str) -> None:
    monkeypatch.setenv("DEEPFLIX_DATA_DIR", str(tmp_path / "data"))
    config.reload_settings()
    try:
        res = CliRunner().invoke(app, ["make", "a keeper finds a bottle", "-n", "1", "--out", str(tmp_path / "film"),
                                       "--picture-provider", "comfyui/workflow", "--picture-option", option])
    finally:
        monkeypatch.delenv("DEEPFLIX_DATA_DIR")
        config.reload_settings()
    assert isinstance(res.exception, InvalidInput) and "bad options" in str(res.exception)  # exit 2 from deepflix
    assert not (tmp_path / "data" / "store").exists() and not list((tmp_path / "film").glob("*"))  # nothing made
