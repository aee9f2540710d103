"""The ComfyUI provider's real client (httpx + websockets) against a local server on
127.0.0.1 that speaks ComfyUI's HTTP and WebSocket protocol: queueing, progress,
execution errors, rejected workflows, missing nodes, uploads."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

pytest.importorskip("websockets")
starlette = pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")

from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse, Response  # noqa: E402
from starlette.routing import Route, WebSocketRoute  # noqa: E402
from starlette.websockets import WebSocket, WebSocketDisconnect  # noqa: E402

from deepflix.core import config  # noqa: E402
from deepflix.errors import ProviderError, ProviderUnavailable  # noqa: E402
from deepflix.models import CharacterSheet, GenerationParams, PictureRequest, SceneVisual  # noqa: E402
from deepflix.picture.comfyui import ComfyUI  # noqa: E402
from deepflix.provider import StageContext  # noqa: E402

CORE_NODES = ["CheckpointLoaderSimple", "EmptyLatentImage", "CLIPTextEncode", "KSampler", "VAEDecode", "SaveImage",
              "LoadImage", "ImageScale", "VAEEncode"]
COMFY_SAMPLERS = ["euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms", "dpmpp_2m", "dpmpp_sde",
                  "dpmpp_2m_sde", "ddim", "uni_pc", "ipndm"]


class FakeComfy:
    """Just enough of ComfyUI's server: the same routes, bodies and message sequence."""

    def __init__(self) -> None:
        self.nodes = list(CORE_NODES)
        self.mode = "ok"  # ok | error | reject
        self.prompts: list[dict[str, Any]] = []
        self.uploads: dict[str, bytes] = {}
        self.history: dict[str, Any] = {}
        self.images: dict[str, bytes] = {}
        self.sockets: dict[str, WebSocket] = {}
        self.ws_clients: list[str] = []
        self.app = Starlette(routes=[
            Route("/object_info", self.object_info),
            Route("/system_stats", lambda r: JSONResponse({"system": {"os": "posix"}, "devices": []})),
            Route("/prompt", self.prompt, methods=["POST"]),
            Route("/history/{prompt_id}", self.get_history),
            Route("/view", self.view),
            Route("/upload/image", self.upload, methods=["POST"]),
            WebSocketRoute("/ws", self.ws),
        ])

    async def object_info(self, request: Request) -> JSONResponse:
        info: dict[str, Any] = {}
        for n in self.nodes:
            spec: dict[str, Any] = {"required": {}}
            if n == "KSampler":
                spec["required"] = {"seed": ["INT", {"default": 0}], "sampler_name": [COMFY_SAMPLERS],
                                    "scheduler": [["normal", "karras"]]}
            info[n] = {"input": spec, "output": [], "name": n, "display_name": n, "category": "test"}
        return JSONResponse(info)

    async def ws(self, websocket: WebSocket) -> None:
        await websocket.accept()
        cid = websocket.query_params.get("clientId") or uuid.uuid4().hex
        self.sockets[cid] = websocket
        self.ws_clients.append(cid)
        await websocket.send_text(json.dumps({"type": "status", "data": {
            "status": {"exec_info": {"queue_remaining": 0}}, "sid": cid}}))
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            self.sockets.pop(cid, None)

    async def upload(self, request: Request) -> JSONResponse:
        form = await request.form()
        f = form["image"]
        data = await f.read()  # type: ignore[union-attr]
        self.uploads[f.filename] = data  # type: ignore[union-attr]
        assert form.get("type") == "input"
        return JSONResponse({"name": f.filename, "subfolder": "", "type": "input"})  # type: ignore[union-attr]

    async def prompt(self, request: Request) -> JSONResponse:
        body = await request.json()
        wf, cid = body["prompt"], body.get("client_id")
        unknown = [n["class_type"] for n in wf.values() if n["class_type"] not in self.nodes]
        if unknown:
            return JSONResponse({"error": {"type": "invalid_prompt", "message": f"Cannot execute because node "
                                           f"{unknown[0]} does not exist.", "details": "", "extra_info": {}},
                                 "node_errors": {}}, status_code=400)
        if self.mode == "reject":
            return JSONResponse({
                "error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                          "details": "", "extra_info": {}},
                "node_errors": {"4": {"errors": [{"type": "value_not_in_list", "message": "Value not in list",
                                                  "details": "ckpt_name: 'missing.safetensors' not in []",
                                                  "extra_info": {}}],
                                      "dependent_outputs": ["9"], "class_type": "CheckpointLoaderSimple"}}},
                status_code=400)
        pid = str(uuid.uuid4())
        self.prompts.append({"prompt_id": pid, "client_id": cid, "workflow": wf})
        asyncio.get_running_loop().create_task(self.execute(pid, cid, wf))
        return JSONResponse({"prompt_id": pid, "number": len(self.prompts), "node_errors": {}})

    async def execute(self, pid: str, cid: str, wf: dict[str, Any]) -> None:
        ws = self.sockets.get(cid)

        async def send(kind: str, data: dict[str, Any]) -> None:
            if ws is not None:
                await ws.send_text(json.dumps({"type": kind, "data": data}))

        await send("status", {"status": {"exec_info": {"queue_remaining": 1}}, "sid": cid})
        await send("execution_start", {"prompt_id": pid, "timestamp": 0})
        await send("execution_cached", {"nodes": [], "prompt_id": pid, "timestamp": 0})
        await ws.send_bytes(b"\x00\x00\x00\x01\x00\x00\x00\x02preview") if ws else None  # a binary preview frame
        sampler_id = next(k for k, n in wf.items() if n["class_type"] == "KSampler")
        for node_id in wf:
            await send("executing", {"node": node_id, "display_node": node_id, "prompt_id": pid})
            if node_id == sampler_id and self.mode == "error":
                await send("execution_error", {
                    "prompt_id": pid, "node_id": node_id, "node_type": "KSampler", "executed": [],
                    "exception_message": "Allocation on device 0 would exceed allowed memory. (out of memory)\n",
                    "exception_type": "torch.OutOfMemoryError", "traceback": ["..."], "current_inputs": {},
                    "current_outputs": {}})
                self.history[pid] = {"prompt": [], "outputs": {}, "status": {
                    "status_str": "error", "completed": False, "messages": [["execution_error", {
                        "node_id": node_id, "node_type": "KSampler", "exception_message": "out of memory"}]]}}
                return
            if node_id == sampler_id:
                steps = wf[node_id]["inputs"]["steps"]
                for i in range(1, steps + 1):
                    await send("progress", {"value": i, "max": steps, "prompt_id": pid, "node": node_id})
        size = next((n["inputs"] for n in wf.values() if n["class_type"] in ("EmptyLatentImage", "ImageScale")), {})
        seed = wf[sampler_id]["inputs"]["seed"]
        img = np.full((size.get("height", 64), size.get("width", 64), 3), seed % 251, np.uint8)
        fname = f"deepflix_{len(self.images):05d}_.png"
        self.images[fname] = bytes(cv2.imencode(".png", img)[1])
        save_id = next(k for k, n in wf.items() if n["class_type"] == "SaveImage")
        out = {"images": [{"filename": fname, "subfolder": "", "type": "output"}]}
        await send("executed", {"node": save_id, "display_node": save_id, "output": out, "prompt_id": pid})
        self.history[pid] = {"prompt": [len(self.prompts), pid, wf, {}, [save_id]], "outputs": {save_id: out},
                             "status": {"status_str": "success", "completed": True, "messages": []}}
        await send("execution_success", {"prompt_id": pid, "timestamp": 0})
        await send("executing", {"node": None, "prompt_id": pid})

    async def get_history(self, request: Request) -> JSONResponse:
        pid = request.path_params["prompt_id"]
        return JSONResponse({pid: self.history[pid]} if pid in self.history else {})

    async def view(self, request: Request) -> Response:
        q = request.query_params
        data = self.images.get(q.get("filename", ""))
        if data is None or q.get("type") != "output":
            return Response(status_code=404)
        return Response(data, media_type="image/png")


@pytest.fixture(scope="module")
def comfy() -> Any:
    fake = FakeComfy()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fake.app, log_level="error", ws="websockets-sansio", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    fake.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    yield fake
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def use(comfy: FakeComfy, monkeypatch: pytest.MonkeyPatch) -> FakeComfy:
    monkeypatch.setenv("COMFYUI_URL", comfy.url)  # type: ignore[attr-defined]
    config.reload_settings()
    comfy.mode, comfy.nodes = "ok", list(CORE_NODES)
    yield comfy
    monkeypatch.delenv("COMFYUI_URL")
    config.reload_settings()


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
