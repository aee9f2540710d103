"""comfyui/workflow: pictures from a ComfyUI server (the seed's image backend).

Speaks ComfyUI's own API through ``deepflix.comfy``: ``GET /object_info`` to check that
the workflow's node types exist, ``POST /upload/image`` for reference images, ``POST
/prompt``, progress from ``/ws``, ``/history`` and ``/view`` for the result.

Workflows are API-format JSON (ComfyUI's "Export (API)"). A shipped template is
named by file stem (``workflows/*.json``), or ``workflow`` is a path to a user's
file. Values are injected by node type and title: every KSampler gets the seed,
steps, cfg and sampler; the CLIPTextEncode titled "positive"/"negative" gets the
prompts built from the scene and the character sheets; EmptyLatentImage and
ImageScale get the size.

References: the ``cast_*`` workflows have numbered slots, "reference 1".."reference N"
(``comfy_refs``): each scene uploads the cast's portraits of the characters in it and
wires them in, with each character's region from the illustrator's figure boxes. The
older ``reference_*`` workflows have one LoadImage titled "reference" that gets the
illustrator's drawing of the scene or of the main character instead.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..comfy.server import ComfyServer
from ..comfy.workflows import check_choice, check_output_node
from ..comfy.workflows import load_workflow as _load
from ..comfy.workflows import title as _title
from ..core import config
from ..errors import InvalidInput, ProviderBadOutput
from ..hookspecs import Register, hookimpl
from ..models import GenerationParams, PictureRequest, PictureResult, SceneVisual
from ..provider import StageContext
from .base import PictureProvider
from .comfy_refs import wire_references
from .illustrator import render
from .prompts import model_size, negative_prompt, positive_prompt, scene_seed

# our sampler names -> ComfyUI's KSampler sampler_name
SAMPLERS = {
    "euler": "euler", "euler_ancestral": "euler_ancestral", "heun": "heun", "dpm_2": "dpm_2",
    "dpm_2_ancestral": "dpm_2_ancestral", "lms": "lms", "dpmpp_2m": "dpmpp_2m", "dpmpp_sde": "dpmpp_sde",
    "dpmpp_2m_sde": "dpmpp_2m_sde", "ddim": "ddim", "uni_pc": "uni_pc", "pndm": "ipndm",
}
TEMPLATES = ("txt2img_sd15", "txt2img_sdxl", "cast_img2img", "cast_ipadapter", "cast_kontext",
             "reference_img2img", "reference_ipadapter")
# a workflow that needs custom nodes -> the shipped one that does the same with core nodes only
FALLBACKS = {"cast_ipadapter": "cast_img2img", "cast_kontext": "cast_img2img", "reference_ipadapter": "reference_img2img"}
_SIZED = ("EmptyLatentImage", "EmptySD3LatentImage", "ImageScale")  # take the generation size
_CANVAS = ("EmptyImage", "SolidMask")  # take it when titled "canvas"


def _setting(name: str) -> Any:
    """A default read from the settings when the options are made (so tests and the CLI can reload them)."""
    def get() -> Any:
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
        elif ct in _SIZED or (ct in _CANVAS and title == "canvas"):
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
    supports_references = True  # the cast_* workflows wire in the portraits of the characters present

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
        denoise: float | None = Field(None, ge=0.0, le=1.0,
                                      description="KSampler denoise (img2img strength); default: the workflow's")
        portrait_workflow: str = Field(default_factory=_setting("portrait_workflow"),
                                       description="the text-to-image workflow the cast's portraits are made with")
        timeout_s: float = Field(default_factory=_setting("timeout_s"), gt=0,
                                 description="the longest one picture may run, counted from when it starts executing")
        queue_timeout_s: float = Field(default_factory=_setting("queue_timeout_s"), gt=0,
                                       description="the longest it may wait in the server's queue before it starts")

        @field_validator("workflow", "portrait_workflow")
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

    # options that do not change this stage's picture: changing them redraws nothing
    not_in_key: ClassVar[tuple[str, ...]] = ("timeout_s", "queue_timeout_s", "portrait_workflow")

    def cache_identity(self) -> dict[str, Any]:
        ident = super().cache_identity()
        for name in self.not_in_key:
            ident["options"].pop(name, None)
        if ident["options"].get("denoise", 0) is None:
            ident["options"].pop("denoise")  # unset: the keys of films made before it existed
        return ident

    # ------------------------------------------------------------------ the stage

    def reference_png(self, request: PictureRequest, width: int, height: int) -> bytes:
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
        width, height = (o.width, o.height) if o.width and o.height else model_size(request.width, request.height, o.long_side)
        with ComfyServer() as server:
            template, info = self.prepare(server, o.workflow, request.params)
            reference = None
            if needs_reference(template):
                name = f"deepflix_{o.reference}_{scene_seed(request):08x}_{request.scene_index}.png"
                reference = server.upload(self.reference_png(request, width, height), name)

            def wire(wf: dict[str, Any]) -> dict[str, Any]:
                return wire_references(server, wf, request, ctx, width, height)

            pic = self.make_image(server, template, positive=positive_prompt(request), seed=scene_seed(request),
                                  params=request.params, width=width, height=height, ctx=ctx, reference=reference,
                                  wire=wire)
        pic = cv2.resize(pic, (request.width, request.height), interpolation=cv2.INTER_LANCZOS4)
        cv2.imwrite(str(Path(ctx.out_dir) / "image.png"), pic, [cv2.IMWRITE_PNG_COMPRESSION, 3])
        return PictureResult(image="image.png", width=request.width, height=request.height)

    def prepare(self, server: ComfyServer, workflow: str, params: GenerationParams) -> tuple[dict[str, Any], dict[str, Any]]:
        """The workflow, checked against the server's /object_info before any upload or queueing."""
        o = self.options
        template = load_workflow(workflow)
        info = server.check_nodes(template, workflow, fallback=FALLBACKS.get(workflow))
        check_output_node(info, template, workflow)
        check_choice(info, template, "sampler_name", o.sampler or SAMPLERS[params.sampler])
        if o.scheduler:
            check_choice(info, template, "scheduler", o.scheduler)
        return template, info

    def make_image(self, server: ComfyServer, template: dict[str, Any], *, positive: str, seed: int,
                   params: GenerationParams, width: int, height: int, ctx: StageContext, reference: str | None = None,
                   wire: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> np.ndarray:
        """One image from ``template`` with the options and ``params`` injected: queued, followed, fetched."""
        o = self.options
        wf = inject(template, positive=positive, negative=negative_prompt(o.negative), seed=seed,
                    steps=o.steps or params.steps, cfg=o.cfg if o.cfg is not None else params.cfg_scale,
                    sampler=o.sampler or SAMPLERS[params.sampler], width=width, height=height,
                    checkpoint=o.checkpoint, reference=reference)
        if wire is not None:
            wf = wire(wf)
        for node in wf.values():
            if node["class_type"] in ("KSampler", "KSamplerAdvanced"):
                if o.scheduler:
                    node["inputs"]["scheduler"] = o.scheduler
                if o.denoise is not None and node["class_type"] == "KSampler":
                    node["inputs"]["denoise"] = o.denoise
        prompt_id, entry = server.run(wf, timeout_s=o.timeout_s, queue_timeout_s=o.queue_timeout_s,
                                      progress=ctx.progress)
        return self.fetch_image(server, prompt_id, entry)

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
def register_picture_providers(register: Register) -> None:
    register(ComfyUI)
