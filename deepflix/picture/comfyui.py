"""comfyui/workflow: pictures from a ComfyUI server (the seed's image backend).

Speaks ComfyUI's own API: ``GET /object_info`` to check that the workflow's node
types exist, ``POST /upload/image`` for a reference image, ``POST /prompt``
(a workflow in API format plus our ``client_id``), progress and errors from the
``/ws?clientId=`` WebSocket, ``GET /history/{prompt_id}`` for the outputs and
``GET /view`` for the image bytes.

Workflows are API-format JSON (ComfyUI's "Export (API)"). A shipped template is
named by file stem (``workflows/*.json``), or ``workflow`` is a path to a user's
file. Values are injected by node type and title: every KSampler gets the seed,
steps, cfg and sampler; the CLIPTextEncode titled "positive"/"negative" gets the
prompts built from the scene and the character sheets; EmptyLatentImage and
ImageScale get the size; a LoadImage titled "reference" gets the uploaded
reference (the illustrator's drawing of the scene or of the main character,
which pins down composition and costume colours).
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import cv2
import httpx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..errors import InvalidInput, ProviderBadOutput, ProviderError, ProviderTimeout, ProviderUnavailable
from ..hookspecs import hookimpl
from ..models import PictureRequest, PictureResult, SceneVisual
from ..provider import StageContext
from .base import PictureProvider
from .prompts import model_size, negative_prompt, positive_prompt, scene_seed

# our sampler names -> ComfyUI's KSampler sampler_name
SAMPLERS = {
    "euler": "euler", "euler_ancestral": "euler_ancestral", "heun": "heun", "dpm_2": "dpm_2",
    "dpm_2_ancestral": "dpm_2_ancestral", "lms": "lms", "dpmpp_2m": "dpmpp_2m", "dpmpp_sde": "dpmpp_sde",
    "dpmpp_2m_sde": "dpmpp_2m_sde", "ddim": "ddim", "uni_pc": "uni_pc", "pndm": "ipndm",
}
TEMPLATES = ("txt2img_sd15", "txt2img_sdxl", "reference_img2img", "reference_ipadapter")


def load_workflow(name: str) -> dict[str, Any]:
    """A shipped template by name, or an API-format workflow file by path."""
    if name in TEMPLATES:
        text = (resources.files("deepflix.picture.workflows") / f"{name}.json").read_text()
    else:
        path = Path(name).expanduser()
        if not path.is_file():
            raise InvalidInput(f"comfyui: workflow {name!r} is neither a template ({', '.join(TEMPLATES)}) nor a file")
        text = path.read_text()
    try:
        wf = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"comfyui: workflow {name!r} is not JSON: {exc}") from exc
    if not isinstance(wf, dict) or not all(isinstance(n, dict) and "class_type" in n for n in wf.values()):
        raise InvalidInput(f"comfyui: workflow {name!r} is not in API format (export it with 'Save (API)')")
    return wf


def _title(node: dict[str, Any]) -> str:
    return str(node.get("_meta", {}).get("title", "")).lower()


def inject(wf: dict[str, Any], *, positive: str, negative: str, seed: int, steps: int, cfg: float, sampler: str,
           width: int, height: int, checkpoint: str | None, reference: str | None) -> dict[str, Any]:
    wf = copy.deepcopy(wf)
    for node in wf.values():
        ct, inputs, title = node["class_type"], node.setdefault("inputs", {}), _title(node)
        if ct in ("KSampler", "KSamplerAdvanced"):
            inputs["seed" if ct == "KSampler" else "noise_seed"] = seed
            inputs.update(steps=steps, cfg=cfg, sampler_name=sampler)
        elif ct == "CLIPTextEncode" and title in ("positive", "negative"):
            inputs["text"] = positive if title == "positive" else negative
        elif ct in ("EmptyLatentImage", "ImageScale"):
            inputs.update(width=width, height=height)
        elif ct == "CheckpointLoaderSimple" and checkpoint:
            inputs["ckpt_name"] = checkpoint
        elif ct == "LoadImage" and title == "reference":
            if reference is None:
                raise InvalidInput("comfyui: the workflow has a 'reference' LoadImage but no reference was made")
            inputs["image"] = reference
        elif ct == "SaveImage":
            inputs["filename_prefix"] = "deepflix"
    return wf


def needs_reference(wf: dict[str, Any]) -> bool:
    return any(n["class_type"] == "LoadImage" and _title(n) == "reference" for n in wf.values())


class ComfyUI(PictureProvider):
    provider_id = "comfyui/workflow"
    version = "1"

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        workflow: str = Field("txt2img_sd15", description=f"a template ({', '.join(TEMPLATES)}) or a workflow file")
        checkpoint: str | None = Field(None, description="ckpt_name for CheckpointLoaderSimple; default: the workflow's")
        long_side: int = Field(768, ge=256, le=2048, description="generate at this long side, then scale to the film")
        reference: Literal["scene", "character"] = Field(
            "scene", description="what the illustrator draws as the reference: the scene, or the main character")
        scheduler: str | None = Field(None, description="KSampler scheduler; default: the workflow's")
        negative: str = ""
        timeout_s: float = Field(600.0, gt=0)

    # ------------------------------------------------------------------ plumbing

    def _url(self) -> str:
        from ..core import config

        return config.settings.comfyui_url.rstrip("/")

    def _call(self, client: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response:
        url = self._url()
        try:
            resp = client.request(method, url + path, **kw)
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(f"ComfyUI at {url} timed out on {method} {path}") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(
                f"ComfyUI is not reachable at {url} ({type(exc).__name__}): start it, or set COMFYUI_URL"
            ) from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            ra = resp.headers.get("retry-after")
            raise ProviderUnavailable(f"ComfyUI {method} {path} answered {resp.status_code}",
                                      retry_after=float(ra) if ra and ra.replace(".", "").isdigit() else None)
        return resp

    def check_nodes(self, client: httpx.Client, wf: dict[str, Any]) -> dict[str, Any]:
        """Fail before queueing when the server lacks a node type the workflow uses."""
        resp = self._call(client, "GET", "/object_info")
        if resp.status_code != 200:
            raise ProviderBadOutput(f"ComfyUI GET /object_info answered {resp.status_code}")
        info = resp.json()
        missing = sorted({n["class_type"] for n in wf.values()} - set(info))
        if missing:
            raise ProviderError(
                f"ComfyUI at {self._url()} lacks the node types {', '.join(missing)} that workflow "
                f"{self.options.workflow!r} needs: install those custom nodes or choose another workflow"
            )
        return info  # type: ignore[no-any-return]

    def upload(self, client: httpx.Client, png: bytes, name: str) -> str:
        resp = self._call(client, "POST", "/upload/image", files={"image": (name, png, "image/png")},
                          data={"overwrite": "true", "type": "input"})
        if resp.status_code != 200:
            raise ProviderError(f"ComfyUI POST /upload/image answered {resp.status_code}: {resp.text[:200]}")
        body = resp.json()
        return f"{body['subfolder']}/{body['name']}" if body.get("subfolder") else str(body["name"])

    def queue(self, client: httpx.Client, wf: dict[str, Any], client_id: str) -> str:
        resp = self._call(client, "POST", "/prompt", json={"prompt": wf, "client_id": client_id})
        if resp.status_code != 200:
            raise ProviderError(f"ComfyUI rejected the workflow: {_describe_rejection(resp)}")
        return str(resp.json()["prompt_id"])

    def wait(self, ws: Any, prompt_id: str, ctx: StageContext) -> None:
        """Follow the WebSocket until our prompt finishes; raise on its execution_error."""
        from websockets.exceptions import ConnectionClosed

        deadline = time.monotonic() + self.options.timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProviderTimeout(f"ComfyUI did not finish prompt {prompt_id} in {self.options.timeout_s:.0f}s")
            try:
                raw = ws.recv(timeout=left)
            except TimeoutError as exc:
                raise ProviderTimeout(f"ComfyUI did not finish prompt {prompt_id} in {self.options.timeout_s:.0f}s") from exc
            except ConnectionClosed as exc:
                raise ProviderUnavailable(f"ComfyUI closed the WebSocket while running prompt {prompt_id}") from exc
            if isinstance(raw, bytes):  # binary frames are live previews
                continue
            msg = json.loads(raw)
            kind, data = msg.get("type"), msg.get("data") or {}
            if data.get("prompt_id") not in (None, prompt_id):
                continue  # another client's prompt on a shared server
            if kind == "status":
                remaining = data.get("status", {}).get("exec_info", {}).get("queue_remaining")
                if remaining:
                    ctx.progress(0.0, f"queued ({remaining} in queue)")
            elif kind == "progress" and data.get("max"):
                ctx.progress(float(data["value"]) / float(data["max"]), f"step {data['value']}/{data['max']}")
            elif kind == "execution_error":
                raise ProviderError(
                    f"ComfyUI node {data.get('node_id')} ({data.get('node_type')}) failed: "
                    f"{data.get('exception_type', 'error')}: {str(data.get('exception_message', '')).strip()}"
                )
            elif kind == "execution_interrupted":
                raise ProviderUnavailable(f"ComfyUI interrupted prompt {prompt_id}")
            elif kind == "execution_success" or (kind == "executing" and data.get("node") is None
                                                 and data.get("prompt_id") == prompt_id):
                return

    def poll(self, client: httpx.Client, prompt_id: str) -> None:
        """Without a WebSocket: poll /history until the prompt is there."""
        deadline = time.monotonic() + self.options.timeout_s
        while time.monotonic() < deadline:
            if prompt_id in self._call(client, "GET", f"/history/{prompt_id}").json():
                return
            time.sleep(0.5)
        raise ProviderTimeout(f"ComfyUI did not finish prompt {prompt_id} in {self.options.timeout_s:.0f}s")

    def fetch_image(self, client: httpx.Client, prompt_id: str) -> np.ndarray:
        entry = self._call(client, "GET", f"/history/{prompt_id}").json().get(prompt_id)
        if not entry:
            raise ProviderBadOutput(f"ComfyUI history has no prompt {prompt_id}")
        status = entry.get("status", {})
        if status.get("status_str") == "error":
            raise ProviderError(f"ComfyUI prompt {prompt_id} ended in error: {_history_error(status)}")
        for output in entry.get("outputs", {}).values():
            for img in output.get("images", []):
                if img.get("type", "output") != "output":
                    continue
                resp = self._call(client, "GET", "/view", params={
                    "filename": img["filename"], "subfolder": img.get("subfolder", ""), "type": "output"})
                if resp.status_code != 200:
                    raise ProviderBadOutput(f"ComfyUI GET /view {img['filename']} answered {resp.status_code}")
                pic = cv2.imdecode(np.frombuffer(resp.content, np.uint8), cv2.IMREAD_COLOR)
                if pic is None:
                    raise ProviderBadOutput(f"ComfyUI image {img['filename']} is not a readable image")
                return pic
        raise ProviderBadOutput(f"ComfyUI prompt {prompt_id} produced no output image (does it end in SaveImage?)")

    # ------------------------------------------------------------------ the stage

    def reference_png(self, request: PictureRequest, width: int, height: int) -> bytes:
        from .illustrator import render

        if self.options.reference == "character" and request.characters:
            main = request.characters[0]
            scene = SceneVisual(scene_description=f"portrait of {main.name}", atmosphere="neutral",
                                setting="interior", time_of_day="day", shot="medium", characters=[main.id])
            req = request.model_copy(update={"scene": scene, "characters": [main], "scene_index": 0})
        else:
            req = request
        req = req.model_copy(update={"width": width, "height": height})
        ok, buf = cv2.imencode(".png", render(req).image)
        return bytes(buf)

    def generate(self, request: PictureRequest, ctx: StageContext) -> PictureResult:
        o = self.options
        template = load_workflow(o.workflow)
        width, height = model_size(request.width, request.height, o.long_side)
        sampler = SAMPLERS[request.params.sampler]
        client_id = uuid.uuid4().hex
        with httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0)) as client:
            info = self.check_nodes(client, template)
            _check_choice(info, template, "sampler_name", sampler)
            reference = None
            if needs_reference(template):
                name = f"deepflix_{o.reference}_{scene_seed(request):08x}_{request.scene_index}.png"
                reference = self.upload(client, self.reference_png(request, width, height), name)
            wf = inject(template, positive=positive_prompt(request), negative=negative_prompt(o.negative),
                        seed=scene_seed(request), steps=request.params.steps, cfg=request.params.cfg_scale,
                        sampler=sampler, width=width, height=height, checkpoint=o.checkpoint, reference=reference)
            if o.scheduler:
                for node in wf.values():
                    if node["class_type"] in ("KSampler", "KSamplerAdvanced"):
                        node["inputs"]["scheduler"] = o.scheduler
            ws = self._connect(client_id)
            try:
                prompt_id = self.queue(client, wf, client_id)
                ctx.progress(0.0, f"queued {prompt_id}")
                if ws is not None:
                    self.wait(ws, prompt_id, ctx)
                else:
                    self.poll(client, prompt_id)
            finally:
                if ws is not None:
                    ws.close()
            pic = self.fetch_image(client, prompt_id)
        pic = cv2.resize(pic, (request.width, request.height), interpolation=cv2.INTER_LANCZOS4)
        cv2.imwrite(str(Path(ctx.out_dir) / "image.png"), pic, [cv2.IMWRITE_PNG_COMPRESSION, 3])
        return PictureResult(image="image.png", width=request.width, height=request.height)

    def _connect(self, client_id: str) -> Any | None:
        """The progress WebSocket, opened before queueing so no message is missed; None when the
        ``websockets`` package is not installed (then /history is polled)."""
        try:
            from websockets.sync.client import connect
        except ImportError:
            return None
        url = self._url()
        ws_url = ("wss://" if url.startswith("https://") else "ws://") + url.split("://", 1)[1] + f"/ws?clientId={client_id}"
        try:
            return connect(ws_url, open_timeout=10, max_size=None)
        except OSError as exc:
            raise ProviderUnavailable(f"ComfyUI WebSocket is not reachable at {ws_url}: check COMFYUI_URL") from exc

    def health(self) -> dict[str, Any]:
        try:
            with httpx.Client(timeout=5.0) as client:
                ok = self._call(client, "GET", "/system_stats").status_code == 200
        except ProviderError as exc:
            return {"provider": self.provider_id, "ok": False, "error": str(exc)}
        return {"provider": self.provider_id, "ok": ok, "url": self._url()}


def _check_choice(info: dict[str, Any], wf: dict[str, Any], field: str, value: str) -> None:
    """A sampler the server does not offer fails now, naming what it offers."""
    for node in wf.values():
        spec = info.get(node["class_type"], {}).get("input", {})
        choices = (spec.get("required", {}) or {}).get(field)
        if choices and isinstance(choices[0], list) and value not in choices[0]:
            raise InvalidInput(f"ComfyUI's {node['class_type']} has no {field} {value!r}; it offers {', '.join(choices[0])}")


def _describe_rejection(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return f"HTTP {resp.status_code}: {resp.text[:200]}"
    err = body.get("error", {})
    parts = [str(err.get("message", "")) + (f" ({err['details']})" if err.get("details") else "")]
    for node_id, ne in (body.get("node_errors") or {}).items():
        for e in ne.get("errors", []):
            parts.append(f"node {node_id} ({ne.get('class_type', '?')}): {e.get('message', '')} {e.get('details', '')}".strip())
    return "; ".join(p for p in parts if p) or f"HTTP {resp.status_code}"


def _history_error(status: dict[str, Any]) -> str:
    for name, data in status.get("messages", []):
        if name == "execution_error":
            return f"node {data.get('node_id')} ({data.get('node_type')}): {data.get('exception_message', '').strip()}"
    return "unknown error"


@hookimpl
def register_picture_providers(register):  # type: ignore[no-untyped-def]
    register(ComfyUI)
