"""A local server on 127.0.0.1 that speaks ComfyUI's HTTP and WebSocket protocol, in the real
server's order (ComfyUI 0.3.x ``main.prompt_worker`` and ``execution.PromptExecutor``):

- one worker runs the queue in order of ``number``; ``POST /prompt`` takes a client's own ``prompt_id``;
- ``execution_start`` when a prompt starts (not when it is queued); ``status`` with ``queue_remaining``
  (pending + running) broadcast whenever the queue changes;
- ``execution_success`` is sent BEFORE the prompt is recorded in ``/history``; the record comes a
  little later (``history_lag``), and ``executing`` with ``node: null`` after it;
- ``GET/POST /queue`` (``delete``), ``POST /interrupt`` (with a ``prompt_id``: only if that one runs;
  without one: a global interrupt, recorded so a test can forbid it), ``POST /history`` (``delete``);
- messages for a prompt go only to the socket of the client that queued it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

CORE_NODES = ["CheckpointLoaderSimple", "EmptyLatentImage", "CLIPTextEncode", "KSampler", "VAEDecode", "SaveImage",
              "LoadImage", "ImageScale", "VAEEncode", "PreviewImage"]
# the core nodes the cast_* reference workflows use besides (ComfyUI's nodes.py and comfy_extras)
CORE_NODES += ["EmptyImage", "ImageCrop", "ImageCompositeMasked", "ConditioningSetArea", "ConditioningCombine",
               "SolidMask", "MaskComposite", "UNETLoader", "DualCLIPLoader", "VAELoader", "FluxKontextImageScale",
               "ReferenceLatent", "FluxGuidance", "EmptySD3LatentImage"]
IPADAPTER_NODES = ["IPAdapterUnifiedLoader", "IPAdapterAdvanced"]  # the ComfyUI_IPAdapter_plus custom pack
OUTPUT_NODES = {"SaveImage": "output", "PreviewImage": "temp"}
COMFY_SAMPLERS = ["euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms", "dpmpp_2m", "dpmpp_sde",
                  "dpmpp_2m_sde", "ddim", "uni_pc", "ipndm"]
COMFY_SCHEDULERS = ["simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal"]


class FakeComfy:
    def __init__(self) -> None:
        self.sockets: dict[str, WebSocket] = {}
        self.ws_clients: list[str] = []
        self.images: dict[str, bytes] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wake: asyncio.Event | None = None
        self.reset()
        self.app = Starlette(routes=[
            Route("/object_info", self.object_info),
            Route("/system_stats", lambda r: JSONResponse({"system": {"os": "posix"}, "devices": []})),
            Route("/prompt", self.prompt, methods=["POST"]),
            Route("/queue", self.get_queue, methods=["GET"]),
            Route("/queue", self.post_queue, methods=["POST"]),
            Route("/interrupt", self.interrupt, methods=["POST"]),
            Route("/history", self.post_history, methods=["POST"]),
            Route("/history/{prompt_id}", self.get_history),
            Route("/view", self.view),
            Route("/upload/image", self.upload, methods=["POST"]),
            WebSocketRoute("/ws", self.ws),
        ])

    def reset(self) -> None:
        self.nodes = list(CORE_NODES)
        self.output_nodes = dict(OUTPUT_NODES)  # node type -> the folder it writes to (a subclass adds video nodes)
        self.mode = "ok"  # ok | error | reject
        self.step_s = 0.0  # seconds per sampling step
        self.history_lag = 0.15  # seconds from execution_success to the history record (the real order)
        self.end_before_history = False  # an odd server: `executing` null before the record
        self.prompts: list[dict[str, Any]] = []  # every accepted POST /prompt
        self.calls: list[tuple[str, str, Any]] = []  # POST /queue, /interrupt, /history bodies
        self.uploads: dict[str, bytes] = {}
        self.history: dict[str, Any] = {}
        self.pending: list[list[Any]] = []  # [number, prompt_id, workflow, {"client_id": ...}, outputs]
        self.running: list[Any] | None = None
        self.interrupt_flag = False
        self.number = 0

    def idle(self) -> bool:
        return not self.pending and self.running is None

    # ------------------------------------------------------------------ routes

    async def object_info(self, request: Request) -> JSONResponse:
        info: dict[str, Any] = {}
        for n in self.nodes:
            spec: dict[str, Any] = {"required": {}}
            if n == "KSampler":
                spec["required"] = {"seed": ["INT", {"default": 0}], "sampler_name": [COMFY_SAMPLERS, {}],
                                    "scheduler": [COMFY_SCHEDULERS, {}]}
            info[n] = {"input": spec, "output": [], "name": n, "display_name": n, "category": "test",
                       "output_node": n in self.output_nodes}
        return JSONResponse(info)

    async def ws(self, websocket: WebSocket) -> None:
        await websocket.accept()
        cid = websocket.query_params.get("clientId") or uuid.uuid4().hex
        self.sockets[cid] = websocket
        self.ws_clients.append(cid)
        await websocket.send_text(json.dumps({"type": "status", "data": {
            "status": {"exec_info": {"queue_remaining": self.remaining()}}, "sid": cid}}))
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            if self.sockets.get(cid) is websocket:
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
        dangling = [(k, name) for k, n in wf.items() for name, v in n.get("inputs", {}).items()
                    if isinstance(v, list) and len(v) == 2 and isinstance(v[1], int) and str(v[0]) not in wf]
        if dangling:  # as the real server's validation does for a link to a node that is not there
            k, name = dangling[0]
            return JSONResponse({"error": {"type": "prompt_outputs_failed_validation", "message":
                                           "Prompt outputs failed validation", "details": "", "extra_info": {}},
                                 "node_errors": {k: {"errors": [{"type": "bad_linked_input", "message":
                                                                 "Bad linked input", "details": name}],
                                                     "class_type": wf[k]["class_type"]}}}, status_code=400)
        outputs = [k for k, n in wf.items() if n["class_type"] in self.output_nodes]
        if not outputs:
            return JSONResponse({"error": {"type": "prompt_no_outputs", "message": "Prompt has no outputs",
                                           "details": "", "extra_info": {}}, "node_errors": {}}, status_code=400)
        if self.mode == "reject":
            return JSONResponse({
                "error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                          "details": "", "extra_info": {}},
                "node_errors": {"4": {"errors": [{"type": "value_not_in_list", "message": "Value not in list",
                                                  "details": "ckpt_name: 'missing.safetensors' not in []",
                                                  "extra_info": {}}],
                                      "dependent_outputs": ["9"], "class_type": "CheckpointLoaderSimple"}}},
                status_code=400)
        pid = str(body.get("prompt_id") or uuid.uuid4())
        self.number += 1
        self.prompts.append({"prompt_id": pid, "client_id": cid, "workflow": wf})
        self.pending.append([self.number, pid, wf, {"client_id": cid}, outputs])
        self._ensure_worker()
        await self.queue_updated()
        assert self.wake is not None
        self.wake.set()
        return JSONResponse({"prompt_id": pid, "number": self.number, "node_errors": {}})

    async def get_queue(self, request: Request) -> JSONResponse:
        return JSONResponse({"queue_running": [self.running] if self.running else [], "queue_pending": self.pending})

    async def post_queue(self, request: Request) -> Response:
        body = await request.json()
        self.calls.append(("POST", "/queue", body))
        for pid in body.get("delete", []):
            self.pending = [it for it in self.pending if it[1] != pid]
        await self.queue_updated()
        return Response(status_code=200)

    async def interrupt(self, request: Request) -> Response:
        body = await request.json() if await request.body() else {}
        self.calls.append(("POST", "/interrupt", body))
        pid = body.get("prompt_id")
        if pid is None or (self.running and self.running[1] == pid):
            self.interrupt_flag = True
        return Response(status_code=200)

    async def post_history(self, request: Request) -> Response:
        body = await request.json()
        self.calls.append(("POST", "/history", body))
        for pid in body.get("delete", []):
            self.history.pop(pid, None)
        return Response(status_code=200)

    async def get_history(self, request: Request) -> JSONResponse:
        pid = request.path_params["prompt_id"]
        return JSONResponse({pid: self.history[pid]} if pid in self.history else {})

    async def view(self, request: Request) -> Response:
        q = request.query_params
        data = self.images.get(q.get("filename", ""))
        if data is None or q.get("type") != "output":
            return Response(status_code=404)
        kind = {".mp4": "video/mp4", ".webm": "video/webm", ".webp": "image/webp"}.get(os.path.splitext(q["filename"])[1], "image/png")
        return Response(data, media_type=kind)

    # ------------------------------------------------------------------ the worker

    def remaining(self) -> int:
        return len(self.pending) + (1 if self.running else 0)

    async def queue_updated(self) -> None:
        for cid in list(self.sockets):
            await self.send("status", {"status": {"exec_info": {"queue_remaining": self.remaining()}}, "sid": cid}, cid)

    async def send(self, kind: str, data: dict[str, Any], cid: str | None) -> None:
        ws = self.sockets.get(cid) if cid else None
        if ws is not None:
            try:
                await ws.send_text(json.dumps({"type": kind, "data": data}))
            except Exception:  # the client went away mid-run, as clients do
                self.sockets.pop(cid, None)  # type: ignore[arg-type]

    def _ensure_worker(self) -> None:
        if self.wake is None:
            self.loop = asyncio.get_running_loop()
            self.wake = asyncio.Event()
            self.loop.create_task(self.worker())

    async def worker(self) -> None:
        assert self.wake is not None
        while True:
            if not self.pending:
                self.wake.clear()
                await self.wake.wait()
                continue
            self.pending.sort(key=lambda it: it[0])
            item = self.running = self.pending.pop(0)
            self.interrupt_flag = False
            await self.queue_updated()
            status = await self.execute(item)
            if self.end_before_history:
                await self.send("executing", {"node": None, "prompt_id": item[1]}, item[3]["client_id"])
            await asyncio.sleep(self.history_lag)
            self.history[item[1]] = {"prompt": item, "outputs": status.pop("outputs"), "status": status}
            self.running = None
            await self.queue_updated()
            if not self.end_before_history:
                await self.send("executing", {"node": None, "prompt_id": item[1]}, item[3]["client_id"])

    async def execute(self, item: list[Any]) -> dict[str, Any]:
        _, pid, wf, extra, outputs = item
        cid = extra["client_id"]
        msgs: list[Any] = []

        def fail(kind: str, data: dict[str, Any]) -> dict[str, Any]:
            msgs.append([kind, data])
            return {"status_str": "error", "completed": False, "messages": msgs, "outputs": {}}

        await self.send("execution_start", {"prompt_id": pid, "timestamp": 0}, cid)
        await self.send("execution_cached", {"nodes": [], "prompt_id": pid, "timestamp": 0}, cid)
        ws = self.sockets.get(cid)
        if ws is not None:
            await ws.send_bytes(b"\x00\x00\x00\x01\x00\x00\x00\x02preview")  # a binary preview frame
        sampler_id = next(k for k, n in wf.items() if n["class_type"] == "KSampler")
        for node_id in wf:
            await self.send("executing", {"node": node_id, "display_node": node_id, "prompt_id": pid}, cid)
            if node_id == sampler_id and self.mode == "error":
                data = {"prompt_id": pid, "node_id": node_id, "node_type": "KSampler", "executed": [],
                        "exception_message": "Allocation on device 0 would exceed allowed memory. (out of memory)\n",
                        "exception_type": "torch.OutOfMemoryError", "traceback": ["..."], "current_inputs": {},
                        "current_outputs": {}}
                await self.send("execution_error", data, cid)
                return fail("execution_error", data)
            if node_id == sampler_id:
                steps = wf[node_id]["inputs"]["steps"]
                for i in range(1, steps + 1):
                    await asyncio.sleep(self.step_s)
                    if self.interrupt_flag:
                        data = {"prompt_id": pid, "node_id": node_id, "node_type": "KSampler", "executed": []}
                        for c in list(self.sockets):  # broadcast, as the real server does
                            await self.send("execution_interrupted", data, c)
                        return fail("execution_interrupted", data)
                    await self.send("progress", {"value": i, "max": steps, "prompt_id": pid, "node": node_id}, cid)
        size = next((n["inputs"] for n in wf.values() if n["class_type"] in ("EmptyLatentImage", "ImageScale")), {})
        seed = wf[sampler_id]["inputs"]["seed"]
        out_all: dict[str, Any] = {}
        for out_id in outputs:
            img = np.full((size.get("height", 64), size.get("width", 64), 3), seed % 251, np.uint8)
            fname = f"deepflix_{len(self.images):05d}_.png"
            self.images[fname] = bytes(cv2.imencode(".png", img)[1])
            out = {"images": [{"filename": fname, "subfolder": "", "type": OUTPUT_NODES[wf[out_id]["class_type"]]}]}
            await self.send("executed", {"node": out_id, "display_node": out_id, "output": out, "prompt_id": pid}, cid)
            out_all[out_id] = out
        msgs.append(["execution_success", {"prompt_id": pid}])
        await self.send("execution_success", {"prompt_id": pid, "timestamp": 0}, cid)  # before the history
        return {"status_str": "success", "completed": True, "messages": msgs, "outputs": out_all}


def serve(fake: FakeComfy) -> Iterator[FakeComfy]:
    """Run ``fake`` on an ephemeral port for a fixture: yields it with ``fake.url`` set."""
    import uvicorn

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


def wait_idle(fake: FakeComfy, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not fake.idle() and time.monotonic() < deadline:
        time.sleep(0.02)


def pointed_at(fake: FakeComfy, monkeypatch: Any) -> Iterator[FakeComfy]:
    """For a fixture: COMFYUI_URL set to ``fake``, with a fresh queue and history (no test reuses another's prompt)."""
    from deepflix.core import config

    monkeypatch.setenv("COMFYUI_URL", fake.url)  # type: ignore[attr-defined]
    config.reload_settings()
    wait_idle(fake)
    fake.reset()
    yield fake
    wait_idle(fake)
    monkeypatch.delenv("COMFYUI_URL")
    config.reload_settings()
