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
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..comfy.server import ComfyServer
from ..comfy.workflows import check_choice, check_output_node
from ..comfy.workflows import load_workflow as _load
from ..comfy.workflows import title as _title
from ..errors import InvalidInput, ProviderBadOutput
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


def _setting(name: str) -> Any:
    """A default read from the settings when the options are made (so tests and the CLI can reload them)."""
    def get() -> Any:
        from ..core import config

        return getattr(config.settings, f"deepflix_comfyui_{name}")
    return get


def load_workflow(name: str) -> dict[str, Any]:
    """A shipped template by name, or an API-format workflow file by path."""
    return _load(name, package="deepflix.picture.workflows", templates=TEMPLATES)


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
        with ComfyServer() as server:
            info = server.check_nodes(template, o.workflow)
            check_output_node(info, template, o.workflow)
            check_choice(info, template, "sampler_name", sampler)
            if o.scheduler:
                check_choice(info, template, "scheduler", o.scheduler)
            reference = None
            if needs_reference(template):
                name = f"deepflix_{o.reference}_{scene_seed(request):08x}_{request.scene_index}.png"
                reference = server.upload(self.reference_png(request, width, height), name)
            wf = inject(template, positive=positive_prompt(request), negative=negative_prompt(o.negative),
                        seed=scene_seed(request), steps=steps, cfg=cfg,
                        sampler=sampler, width=width, height=height, checkpoint=o.checkpoint, reference=reference)
            if o.scheduler:
                for node in wf.values():
                    if node["class_type"] in ("KSampler", "KSamplerAdvanced"):
                        node["inputs"]["scheduler"] = o.scheduler
            prompt_id, entry = server.run(wf, timeout_s=o.timeout_s, queue_timeout_s=o.queue_timeout_s,
                                          progress=ctx.progress)
            pic = self.fetch_image(server, prompt_id, entry)
        pic = cv2.resize(pic, (request.width, request.height), interpolation=cv2.INTER_LANCZOS4)
        cv2.imwrite(str(Path(ctx.out_dir) / "image.png"), pic, [cv2.IMWRITE_PNG_COMPRESSION, 3])
        return PictureResult(image="image.png", width=request.width, height=request.height)

    def fetch_image(self, server: ComfyServer, prompt_id: str, entry: dict[str, Any]) -> np.ndarray:
        for item in server.output_files(prompt_id, entry):
            pic = cv2.imdecode(np.frombuffer(server.view(item), np.uint8), cv2.IMREAD_COLOR)
            if pic is None:
                raise ProviderBadOutput(f"ComfyUI image {item['filename']} is not a readable image")
            return pic
        # the same workflow makes the same outputs: retrying cannot help
        raise InvalidInput(f"ComfyUI prompt {prompt_id} produced no output image: the workflow "
                           f"{self.options.workflow!r} must end in a SaveImage node")

    def health(self) -> dict[str, Any]:
        with ComfyServer(timeout=5.0) as server:
            return server.health(self.provider_id)


@hookimpl
def register_picture_providers(register):  # type: ignore[no-untyped-def]
    register(ComfyUI)
