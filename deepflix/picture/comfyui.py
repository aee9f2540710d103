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
import uuid
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import cv2
import httpx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import InvalidInput, ProviderBadOutput, ProviderError, ProviderTimeout, ProviderUnavailable
from ..hookspecs import hookimpl
from ..models import PictureRequest, PictureResult, SceneVisual
from ..provider import StageContext
from .base import PictureProvider
from .comfyui_prompt import PromptRun, prompt_id_for
from .prompts import model_size, negative_prompt, positive_prompt, scene_seed

# our sampler names -> ComfyUI's KSampler sampler_name
SAMPLERS = {
    "euler": "euler", "euler_ancestral": "euler_ancestral", "heun": "heun", "dpm_2": "dpm_2",
    "dpm_2_ancestral": "dpm_2_ancestral", "lms": "lms", "dpmpp_2m": "dpmpp_2m", "dpmpp_sde": "dpmpp_sde",
    "dpmpp_2m_sde": "dpmpp_2m_sde", "ddim": "ddim", "uni_pc": "uni_pc", "pndm": "ipndm",
}
TEMPLATES = ("txt2img_sd15", "txt2img_sdxl", "reference_img2img", "reference_ipadapter")
_SERVER_IDS: dict[str, str] = {}  # our prompt_id -> the server's, for a server that does not take ours


def _setting(name: str) -> Any:
    """A default read from the settings when the options are made (so tests and the CLI can reload them)."""
    def get() -> Any:
        from ..core import config

        return getattr(config.settings, f"deepflix_comfyui_{name}")
    return get


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
        # defaults are the operator's DEEPFLIX_COMFYUI_* settings; a film's picture options override them
        model_config = ConfigDict(extra="forbid", validate_default=True)
        workflow: str = Field(default_factory=_setting("workflow"),
                              description=f"a template ({', '.join(TEMPLATES)}) or an API-format workflow file")
        checkpoint: str | None = Field(default_factory=_setting("checkpoint"),
                                       description="ckpt_name for CheckpointLoaderSimple; default: the workflow's")
        long_side: int = Field(default_factory=_setting("long_side"), ge=64, le=2048,
                               description="generate at this long side (the film's aspect), then scale to the film")
        width: int | None = Field(default_factory=_setting("width"), ge=64, le=2048, multiple_of=8,
                                  description="generate at exactly this width (with height), then scale to the film")
        height: int | None = Field(default_factory=_setting("height"), ge=64, le=2048, multiple_of=8)
        reference: Literal["scene", "character"] = Field(
            "scene", description="what the illustrator draws as the reference: the scene, or the main character")
        steps: int | None = Field(default_factory=_setting("steps"), ge=1, le=150,
                                  description="sampling steps; default: the film's steps")
        sampler: str | None = Field(default_factory=_setting("sampler"),
                                    description="KSampler sampler_name, any the server offers; default: the film's")
        scheduler: str | None = Field(default_factory=_setting("scheduler"),
                                      description="KSampler scheduler; default: the workflow's")
        cfg: float | None = Field(default_factory=_setting("cfg"), ge=0.0, le=30.0,
                                  description="classifier-free guidance; default: the film's cfg_scale")
        negative: str = ""
        timeout_s: float = Field(default_factory=_setting("timeout_s"), gt=0,
                                 description="the longest one picture may run, counted from when it starts executing")
        queue_timeout_s: float = Field(default_factory=_setting("queue_timeout_s"), gt=0,
                                       description="the longest it may wait in the server's queue before it starts")

        @field_validator("workflow")
        @classmethod
        def _workflow(cls, v: str) -> str:
            if v not in TEMPLATES and not Path(v).expanduser().is_file():
                raise ValueError(f"workflow {v!r} is neither a template ({', '.join(TEMPLATES)}) nor a file")
            return v

        @model_validator(mode="after")
        def _size(self) -> ComfyUI.Options:
            if (self.width is None) != (self.height is None):
                raise ValueError("give width and height together (or neither: long_side and the film's aspect)")
            return self

    def cache_identity(self) -> dict[str, Any]:
        """The time limits do not change the picture: changing them redraws nothing."""
        ident = super().cache_identity()
        for name in ("timeout_s", "queue_timeout_s"):
            ident["options"].pop(name, None)
        return ident

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

    def queue(self, client: httpx.Client, wf: dict[str, Any], client_id: str, prompt_id: str) -> str:
        resp = self._call(client, "POST", "/prompt", json={"prompt": wf, "client_id": client_id, "prompt_id": prompt_id})
        if resp.status_code != 200:
            raise ProviderError(f"ComfyUI rejected the workflow: {_describe_rejection(resp)}")
        return str(resp.json()["prompt_id"])

    def fetch_image(self, client: httpx.Client, prompt_id: str, entry: dict[str, Any]) -> np.ndarray:
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
        # the same workflow makes the same outputs: retrying cannot help
        raise InvalidInput(f"ComfyUI prompt {prompt_id} produced no output image: the workflow "
                           f"{self.options.workflow!r} must end in a SaveImage node")

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
        width, height = (o.width, o.height) if o.width and o.height else model_size(request.width, request.height, o.long_side)
        sampler = o.sampler or SAMPLERS[request.params.sampler]
        steps = o.steps or request.params.steps
        cfg = o.cfg if o.cfg is not None else request.params.cfg_scale
        client_id = uuid.uuid4().hex
        with httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0)) as client:
            info = self.check_nodes(client, template)
            _check_output_node(info, template, o.workflow)
            _check_choice(info, template, "sampler_name", sampler)
            if o.scheduler:
                _check_choice(info, template, "scheduler", o.scheduler)
            reference = None
            if needs_reference(template):
                name = f"deepflix_{o.reference}_{scene_seed(request):08x}_{request.scene_index}.png"
                reference = self.upload(client, self.reference_png(request, width, height), name)
            wf = inject(template, positive=positive_prompt(request), negative=negative_prompt(o.negative),
                        seed=scene_seed(request), steps=steps, cfg=cfg,
                        sampler=sampler, width=width, height=height, checkpoint=o.checkpoint, reference=reference)
            if o.scheduler:
                for node in wf.values():
                    if node["class_type"] in ("KSampler", "KSamplerAdvanced"):
                        node["inputs"]["scheduler"] = o.scheduler
            ours = prompt_id_for(wf)
            run = PromptRun(self._call, client, _SERVER_IDS.get(ours, ours), timeout_s=o.timeout_s,
                            queue_timeout_s=o.queue_timeout_s, progress=ctx.progress)
            state = run.where()  # a retry, or another worker, may find it queued, running or done already
            if state == "failed":
                run.forget()
                state = "unknown"
            ws = self._connect(client_id) if state != "done" else None  # opened before queueing: no message missed
            try:
                if state == "unknown":
                    run.prompt_id = _SERVER_IDS[ours] = self.queue(client, wf, client_id, ours)
                    ctx.progress(0.0, f"queued {run.prompt_id}")
                else:
                    ctx.progress(0.0, f"reusing prompt {run.prompt_id} ({state})")
                if state != "done":
                    run.wait(ws)
            finally:
                if ws is not None:
                    ws.close()
            pic = self.fetch_image(client, run.prompt_id, run.result())
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


def _combo(spec: Any) -> list[str] | None:
    """A combo input's choices: ``[[...], {...}]`` (classic nodes) or ``["COMBO", {"options": [...]}]``."""
    if isinstance(spec, list) and spec:
        if isinstance(spec[0], list):
            return [str(c) for c in spec[0]]
        if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
            return [str(c) for c in spec[1].get("options", [])]
    return None


def _check_choice(info: dict[str, Any], wf: dict[str, Any], field: str, value: str) -> None:
    """A sampler or scheduler the server does not offer fails now, naming what it offers."""
    for node in wf.values():
        spec = info.get(node["class_type"], {}).get("input", {})
        choices = _combo((spec.get("required", {}) or {}).get(field))
        if choices and value not in choices:
            raise InvalidInput(f"ComfyUI's {node['class_type']} has no {field} {value!r}; it offers {', '.join(choices)}")


def _check_output_node(info: dict[str, Any], wf: dict[str, Any], name: str) -> None:
    """A workflow without an output node can never give a picture: bad input, not worth a retry."""
    # PreviewImage is an output node too, but it writes to ComfyUI's temp folder, not its outputs
    if not any(n["class_type"] == "SaveImage" or (info.get(n["class_type"], {}).get("output_node")
                                                  and not n["class_type"].startswith("Preview")) for n in wf.values()):
        raise InvalidInput(f"comfyui: workflow {name!r} has no output node: end it in a SaveImage node")


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
