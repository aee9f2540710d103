"""comfyui/clip: a scene's picture set in motion by an image-to-video workflow on a ComfyUI server.

The picture is uploaded (``POST /upload/image``) into the workflow's "start image"; the motion prompt,
seed, size and length go in as ``wiring`` says; the size and length are snapped to the model's rules
(``rules``); the run is followed on ``/ws`` (each sampling pass's steps, the two passes of Wan 2.2
14B weighted into one fraction); the video is read from ``/history`` and ``/view`` and probed, and
the result says what was really made: its own fps, frames and duration, and how the cut covers the
rest of the scene (``extend``). Bundled workflows: ``workflows/*.json`` (see ``rules``); or a path to
a user's API-format workflow file with the titled inputs ``wiring`` lists.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..comfy.server import ComfyServer
from ..comfy.workflows import load_workflow as _load
from ..core import config
from ..errors import InvalidInput, ProviderBadOutput
from ..hookspecs import Register, hookimpl
from ..models import ClipRequest, ClipResult
from ..provider import StageContext
from .base import ClipProvider
from .rules import TEMPLATES, USER_RULES, Rules, snap_frames, snap_size
from .video_file import probe_clip, video_items, write_clip
from .wiring import check_workflow, inject, pass_steps, reference_nodes, video_savers, workflow_fps


def _setting(name: str) -> Any:
    """A default read from the settings when the options are made (so tests and the CLI can reload them)."""
    def get() -> Any:
        return getattr(config.settings, f"deepflix_comfyui_clip_{name}")
    return get


def load_workflow(name: str) -> dict[str, Any]:
    """A bundled workflow by name, or a user's API-format workflow file by path."""
    return _load(name, package="deepflix.clip.workflows", templates=tuple(TEMPLATES), who="comfyui clip")


class PassProgress:
    """One fraction for the whole clip from the per-pass ``progress`` messages: a pass that reached
    its last step, or a fraction going back down, means the next pass has begun."""

    def __init__(self, steps: list[int], report: Any) -> None:
        self.steps, self.report = steps or [1], report
        self.index, self.last = 0, 0.0

    def __call__(self, fraction: float, message: str = "") -> None:
        if not message.startswith("step"):
            self.report(self.done(0.0), message)
            return
        if (self.last >= 1.0 or fraction < self.last) and self.index < len(self.steps) - 1:
            self.index += 1
        self.last = fraction
        label = f"pass {self.index + 1}/{len(self.steps)} {message}" if len(self.steps) > 1 else message
        self.report(self.done(fraction), label)

    def done(self, fraction: float) -> float:
        total = sum(self.steps)
        return (sum(self.steps[:self.index]) + fraction * self.steps[self.index]) / total


class ComfyClip(ClipProvider):
    provider_id = "comfyui/clip"
    version = "1"

    class Options(BaseModel):
        # defaults are the operator's DEEPFLIX_COMFYUI_CLIP_* settings; a film's clip options override them
        model_config = ConfigDict(extra="forbid", validate_default=True)
        workflow: str = Field(default_factory=_setting("workflow"),
                              description=f"a bundled workflow ({', '.join(TEMPLATES)}) or an API-format workflow file")
        models: dict[str, str] = Field(default_factory=dict,
                                       description="model file per loader title ('model', 'vae', 'high noise lora', ...)")
        steps: int | None = Field(default_factory=_setting("steps"), ge=1, le=200,
                                  description="sampling steps; default: the workflow's")
        max_frames: int | None = Field(default_factory=_setting("max_frames"), ge=5, le=1025,
                                       description="the longest clip in frames; default: the model's")
        fps: float | None = Field(None, gt=0, le=120, description="a user workflow's frame rate; default: read from it")
        size_multiple: int | None = Field(None, ge=8, le=128, description="a user workflow's size multiple (16)")
        length_step: int | None = Field(None, ge=1, le=16, description="a user workflow's frames are step*n+1 (4)")
        max_area: int | None = Field(None, ge=64 * 64, le=4096 * 4096, description="the model's pixel area; default: its own")
        extend: Literal["hold", "kenburns"] | None = Field(None, description="past the clip's end; default: the workflow's")
        negative: str = ""
        timeout_s: float = Field(default_factory=_setting("timeout_s"), gt=0,
                                 description="the longest one clip may run, counted from when it starts executing")
        queue_timeout_s: float = Field(default_factory=_setting("queue_timeout_s"), gt=0,
                                       description="the longest it may wait in the server's queue before it starts")

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.template = load_workflow(self.options.workflow)  # bad input (not a file, not JSON) fails here
        check_workflow(self.template, self.options.workflow)
        # per workflow: it takes the cast's portraits when it has a LoadImage titled "reference"
        self.supports_references = bool(reference_nodes(self.template))  # type: ignore[misc]

    def cache_identity(self) -> dict[str, Any]:
        """The time limits do not change the clip: changing them makes nothing again."""
        ident = super().cache_identity()
        for name in ("timeout_s", "queue_timeout_s"):
            ident["options"].pop(name, None)
        ident["options"]["models"] = self.models()  # the settings' file names change the clip too
        # a user's file is named by its path: its content is what makes the clip
        ident["options"]["workflow_sha256"] = hashlib.sha256(json.dumps(self.template, sort_keys=True).encode()).hexdigest()
        return ident

    # ------------------------------------------------------------------ the workflow's rules

    def rules(self) -> Rules:
        o = self.options
        spec = TEMPLATES.get(o.workflow)
        base = spec.rules if spec else USER_RULES.with_(fps=workflow_fps(self.template))
        return base.with_(fps=o.fps, multiple=o.size_multiple, step=o.length_step, max_area=o.max_area,
                          max_frames=o.max_frames, extend=o.extend)

    def models(self) -> dict[str, str]:
        spec = TEMPLATES.get(self.options.workflow)
        found = {t: str(getattr(config.settings, f"deepflix_comfyui_clip_{s}")) for t, s in (spec.models if spec else {}).items()}
        return {**found, **self.options.models}

    def plan(self, request: ClipRequest) -> tuple[int, int, int, Rules]:
        """(width, height, frames, rules): what this request makes on this workflow."""
        rules = self.rules()
        width, height = snap_size(request.width, request.height, rules)
        return width, height, snap_frames(request.duration, rules), rules

    # ------------------------------------------------------------------ the stage

    def generate(self, request: ClipRequest, ctx: StageContext) -> ClipResult:
        o = self.options
        width, height, frames, rules = self.plan(request)
        start_png = _png(ctx.path(request.image), width, height)
        refs = [_png(ctx.path(r)) for r in request.references] if self.supports_references else []
        with ComfyServer() as server:
            server.check_nodes(self.template, o.workflow)  # before any upload: names what is missing
            start = server.upload(start_png, f"deepflix_clip_{_digest(start_png)}.png")
            ref_names = [server.upload(png, f"deepflix_ref_{_digest(png)}.png") for png in _fit(refs, self.template)]
            wf = inject(self.template, start=start, positive=request.prompt,
                        negative=", ".join(t for t in (request.negative_prompt, o.negative) if t),
                        seed=request.seed & 0xFFFFFFFFFFFFFFFF, width=width, height=height, frames=frames,
                        fps=rules.fps, models=self.models(), steps=o.steps, references=ref_names)
            progress = PassProgress(pass_steps(wf), ctx.progress)
            prompt_id, entry = server.run(wf, timeout_s=o.timeout_s, queue_timeout_s=o.queue_timeout_s, progress=progress)
            list(server.output_files(prompt_id, entry, keys=()))  # an errored prompt raises here, naming its node
            items = video_items(entry, video_savers(wf))
            if not items:  # the same workflow makes the same outputs: retrying cannot help
                raise InvalidInput(f"ComfyUI prompt {prompt_id} recorded no video: workflow {o.workflow!r} must save "
                                   f"one (SaveVideo, SaveAnimatedWEBP or VHS_VideoCombine)")
            path = write_clip(server.view(items[0]), str(items[0]["filename"]), Path(ctx.out_dir), rules.fps)
        w, h, fps, n = probe_clip(path)
        ctx.progress(1.0, f"clip {n} frames at {fps:g} fps")
        return ClipResult(video=path.name, width=w, height=h, fps=fps, frames=n, duration=round(n / fps, 6),
                          extend=rules.extend)

    def health(self) -> dict[str, Any]:
        with ComfyServer(timeout=5.0) as server:
            return server.health(self.provider_id)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _png(path: Path, width: int | None = None, height: int | None = None) -> bytes:
    """The picture as PNG, cover-cropped to the clip's size (the model would stretch another aspect)."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise InvalidInput(f"comfyui clip: {path.name} is not a readable picture")
    if width and height:
        h, w = img.shape[:2]
        scale = max(width / w, height / h)
        img = cv2.resize(img, (max(width, round(w * scale)), max(height, round(h * scale))), interpolation=cv2.INTER_AREA)
        y, x = (img.shape[0] - height) // 2, (img.shape[1] - width) // 2
        img = img[y:y + height, x:x + width]
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise ProviderBadOutput(f"comfyui clip: could not encode {path.name}")
    return bytes(buf)


def _fit(refs: list[bytes], wf: dict[str, Any]) -> list[bytes]:
    """One portrait per reference node; more portraits than nodes share the last one, side by side
    (WanVaceToVideo reads only the first image of its reference_image)."""
    slots = len(reference_nodes(wf))
    if len(refs) <= slots:
        return refs
    rest = [cv2.imdecode(np.frombuffer(p, np.uint8), cv2.IMREAD_COLOR) for p in refs[slots - 1:]]
    height = min(im.shape[0] for im in rest)
    strip = np.hstack([cv2.resize(im, (round(im.shape[1] * height / im.shape[0]), height)) for im in rest])
    return [*refs[:slots - 1], bytes(cv2.imencode(".png", strip)[1])]


@hookimpl
def register_providers(register: Register) -> None:
    register(ComfyClip)
