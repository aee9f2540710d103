"""The ComfyUI provider's real client (httpx + websockets) against a local server on
127.0.0.1 that speaks ComfyUI's HTTP and WebSocket protocol (comfy_fake_server): queueing,
progress, execution errors, rejected workflows, missing nodes, uploads."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

pytest.importorskip("websockets")
starlette = pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")

from comfy_fake_server import FakeComfy, pointed_at, serve  # noqa: E402

from deepflix.core import config  # noqa: E402
from deepflix.errors import ProviderError, ProviderUnavailable  # noqa: E402
from deepflix.models import CharacterSheet, GenerationParams, PictureRequest, SceneVisual  # noqa: E402
from deepflix.picture.comfyui import ComfyUI  # noqa: E402
from deepflix.provider import StageContext  # noqa: E402


@pytest.fixture(scope="module")
def comfy() -> Any:
    yield from serve(FakeComfy())


@pytest.fixture
def use(comfy: FakeComfy, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeComfy]:
    yield from pointed_at(comfy, monkeypatch)


def _request(**kw: Any) -> PictureRequest:
    keeper = CharacterSheet(id="keeper", name="Elias", base_traits="old lighthouse keeper", facial_features="grey beard",
                            clothing="navy sweater", distinctive_features="brass spyglass")
    base = dict(scene=SceneVisual(scene_description="The keeper finds a bottle on the shore", atmosphere="hopeful",
                                  setting="coast", time_of_day="dawn", shot="medium", characters=["keeper"]),
                characters=[keeper], genre="drama", width=640, height=360,
                params=GenerationParams(seed=42, sampler="dpmpp_2m", steps=6, cfg_scale=5.5))
    base.update(kw)
    return PictureRequest(**base)  # type: ignore[arg-type]


def test_queues_follows_progress_and_fetches_the_image(use: FakeComfy, tmp_path: Path) -> None:
    seen: list[tuple[float, str]] = []
    ctx = StageContext(out_dir=tmp_path, progress=lambda f, m="": seen.append((f, m)))
    res = ComfyUI().generate(_request(), ctx)
    img = cv2.imread(str(tmp_path / res.image))
    assert img.shape == (360, 640, 3) and (res.width, res.height) == (640, 360)
    sent = use.prompts[-1]
    assert sent["client_id"] in use.ws_clients  # the socket was opened with our clientId before queueing
    ks = sent["workflow"]["3"]["inputs"]
    assert (ks["steps"], ks["cfg"], ks["sampler_name"]) == (6, 5.5, "dpmpp_2m")
    texts = {n["_meta"]["title"]: n["inputs"]["text"] for n in sent["workflow"].values() if n["class_type"] == "CLIPTextEncode"}
    assert "bottle on the shore" in texts["positive"] and "Elias (old lighthouse keeper" in texts["positive"]
    assert "watermark" in texts["negative"]
    lat = sent["workflow"]["5"]["inputs"]
    assert lat["width"] % 64 == 0 and lat["height"] % 64 == 0 and max(lat["width"], lat["height"]) == 768
    steps = [f for f, m in seen if m.startswith("step")]
    assert steps == pytest.approx([i / 6 for i in range(1, 7)])
    # the same character gets the same seed in another scene
    ComfyUI().generate(_request(scene_index=5), StageContext(out_dir=tmp_path))
    assert use.prompts[-1]["workflow"]["3"]["inputs"]["seed"] == ks["seed"]


def test_reference_workflow_uploads_the_illustrators_drawing(use: FakeComfy, tmp_path: Path) -> None:
    ComfyUI({"workflow": "reference_img2img"}).generate(_request(), StageContext(out_dir=tmp_path))
    wf = use.prompts[-1]["workflow"]
    name = wf["10"]["inputs"]["image"]
    assert name in use.uploads
    ref = cv2.imdecode(np.frombuffer(use.uploads[name], np.uint8), cv2.IMREAD_COLOR)
    assert ref.shape[:2] == (wf["11"]["inputs"]["height"], wf["11"]["inputs"]["width"])
    assert ref.std() > 10  # a drawing, not a blank


def test_missing_nodes_fail_before_queueing(use: FakeComfy, tmp_path: Path) -> None:
    before, uploads = len(use.prompts), len(use.uploads)
    with pytest.raises(ProviderError) as err:
        ComfyUI({"workflow": "reference_ipadapter", "reference": "character"}).generate(
            _request(), StageContext(out_dir=tmp_path))
    assert "IPAdapter, IPAdapterUnifiedLoader" in str(err.value) and not err.value.transient
    assert (len(use.prompts), len(use.uploads)) == (before, uploads)  # nothing uploaded, nothing queued
    use.nodes += ["IPAdapterUnifiedLoader", "IPAdapter"]  # once installed, the same workflow runs
    ComfyUI({"workflow": "reference_ipadapter", "reference": "character"}).generate(
        _request(), StageContext(out_dir=tmp_path))
    name = use.prompts[-1]["workflow"]["10"]["inputs"]["image"]
    assert "character" in name and name in use.uploads


def test_execution_error_names_the_node(use: FakeComfy, tmp_path: Path) -> None:
    use.mode = "error"
    with pytest.raises(ProviderError) as err:
        ComfyUI().generate(_request(), StageContext(out_dir=tmp_path))
    assert "node 3 (KSampler)" in str(err.value) and "out of memory" in str(err.value)


def test_rejected_workflow_quotes_the_node_errors(use: FakeComfy, tmp_path: Path) -> None:
    use.mode = "reject"
    with pytest.raises(ProviderError) as err:
        ComfyUI({"checkpoint": "missing.safetensors"}).generate(_request(), StageContext(out_dir=tmp_path))
    assert "node 4 (CheckpointLoaderSimple)" in str(err.value) and "missing.safetensors" in str(err.value)


def test_unknown_sampler_on_the_server_fails_early(use: FakeComfy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("deepflix.picture.comfyui", fromlist=["SAMPLERS"]).SAMPLERS, "pndm", "pndm")
    from deepflix.errors import InvalidInput

    with pytest.raises(InvalidInput, match="no sampler_name 'pndm'"):
        ComfyUI().generate(_request(params=GenerationParams(sampler="pndm")), StageContext(out_dir=tmp_path))


def test_connection_refused_names_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    monkeypatch.setenv("COMFYUI_URL", f"http://127.0.0.1:{port}")
    config.reload_settings()
    try:
        with pytest.raises(ProviderUnavailable, match="COMFYUI_URL") as err:
            ComfyUI().generate(_request(), StageContext(out_dir=tmp_path))
        assert err.value.transient
        assert ComfyUI().health()["ok"] is False
    finally:
        monkeypatch.delenv("COMFYUI_URL")
        config.reload_settings()
