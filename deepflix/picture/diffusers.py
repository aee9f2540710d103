"""diffusers/local: pictures from a diffusion pipeline on this machine's GPU (or CPU).

The pipeline is loaded from a local folder (option ``model_path`` or
DEEPFLIX_DIFFUSERS_MODEL_PATH, a ``save_pretrained`` layout such as a downloaded
Stable Diffusion checkpoint); nothing is fetched from a hub (``local_files_only``).
The scheduler is the one the request's ``sampler`` names.

Consistency across scenes: every character has one fixed prompt fragment and one
seed (see ``prompts``). The cast stage (``DiffusersPortrait``) draws each character's
portrait sheet through the same pipeline; with an IP-Adapter set (option
``ip_adapter``, DEEPFLIX_DIFFUSERS_IP_ADAPTER; see ``diffusers_ip``) every scene is
also conditioned on the portraits of the characters in it.

torch and diffusers are imported inside methods, so this module imports (and
the provider registers) without them; install the ``diffusers`` extra to use it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core import config
from ..errors import InvalidInput, ProviderBadOutput, ProviderError, ProviderUnavailable
from ..hookspecs import Register, hookimpl
from ..models import GenerationParams, PictureRequest, PictureResult, PortraitRequest, PortraitResult
from ..provider import StageContext
from .base import PictureProvider, PortraitProvider
from .diffusers_ip import adapter_files, adapter_kwargs, load_adapter, reference_images
from .portrait import BACKDROP
from .prompts import model_size, negative_prompt, portrait_prompts, positive_prompt, scene_seed

# our sampler -> (diffusers scheduler class, extra config); the usual A1111/ComfyUI correspondences
SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_ancestral": ("EulerAncestralDiscreteScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "dpm_2": ("KDPM2DiscreteScheduler", {}),
    "dpm_2_ancestral": ("KDPM2AncestralDiscreteScheduler", {}),
    "lms": ("LMSDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++"}),
    # DPM++ SDE proper (DPMSolverSDEScheduler) needs torchsde; the single-step solver is its nearest kin
    "dpmpp_sde": ("DPMSolverSinglestepScheduler", {}),
    "dpmpp_2m_sde": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++"}),
    "ddim": ("DDIMScheduler", {}),
    "uni_pc": ("UniPCMultistepScheduler", {}),
    "pndm": ("PNDMScheduler", {"skip_prk_steps": True}),
}
ADAPTER_OPTIONS = {"ip_adapter", "image_encoder", "ip_adapter_scale"}
# one diffusers call at a time in a process: a pipeline's scheduler and adapter scale are set per
# call, diffusers' lazy imports are not thread-safe, and two loads of one model would double it
_RUN = threading.RLock()


def _imports() -> tuple[Any, Any]:
    try:
        import diffusers
        import torch
    except ImportError as exc:
        raise ProviderError(
            f"diffusers/local needs torch and diffusers ({exc.name} is missing): pip install 'deepflix[diffusers]'"
        ) from exc
    return torch, diffusers


class LocalOptions(BaseModel):
    # defaults are the operator's DEEPFLIX_DIFFUSERS_* settings; a film's picture options override them
    model_config = ConfigDict(extra="forbid", validate_default=True)
    model_path: str | None = Field(default_factory=lambda: config.settings.deepflix_diffusers_model_path,
                                   description="a local diffusers pipeline folder (save_pretrained layout)")
    device: Literal["auto", "cuda", "cpu", "mps"] = "auto"
    dtype: Literal["auto", "float16", "bfloat16", "float32"] = "auto"
    long_side: int = Field(768, ge=64, le=2048, description="generate at this long side, then scale to the film")
    negative: str = ""
    ip_adapter: str | None = Field(default_factory=lambda: config.settings.deepflix_diffusers_ip_adapter,
                                   description="local IP-Adapter weights: scenes take the cast's portraits")
    image_encoder: str | None = Field(default_factory=lambda: config.settings.deepflix_diffusers_image_encoder,
                                      description="the adapter's CLIP image encoder folder; default image_encoder/ beside it")
    ip_adapter_scale: float = Field(default_factory=lambda: config.settings.deepflix_diffusers_ip_adapter_scale,
                                    ge=0, le=2, description="how strongly the portraits steer a scene")

    @model_validator(mode="after")
    def _adapter(self) -> LocalOptions:
        if self.ip_adapter:  # a bad path fails when the film is set up, before any stage runs
            adapter_files(self.ip_adapter, self.image_encoder)
        return self


class _Local:
    """What the picture and the cast providers share: one loaded pipeline per process
    (per model, device, dtype and adapter) and one way to run it."""

    options: LocalOptions
    _pipes: ClassVar[dict[tuple[str, ...], Any]] = {}  # loading is slow

    def cache_identity(self) -> dict[str, Any]:
        ident: dict[str, Any] = super().cache_identity()  # type: ignore[misc]
        if not self.uses_adapter():  # films without an adapter keep the keys they had before it existed
            ident["options"] = {k: v for k, v in ident["options"].items() if k not in ADAPTER_OPTIONS}
        return ident

    def uses_adapter(self) -> bool:
        return bool(self.options.ip_adapter)

    def check_model(self) -> None:
        path = self.options.model_path
        if not path:
            raise InvalidInput("diffusers/local needs option model_path (or DEEPFLIX_DIFFUSERS_MODEL_PATH): "
                               "a local pipeline folder")
        if not (Path(path).expanduser() / "model_index.json").is_file():
            raise InvalidInput(f"diffusers/local: {path!r} is not a diffusers pipeline folder (no model_index.json)")

    def pipeline(self) -> tuple[Any, Any, str]:
        with _RUN:
            return self._pipeline()

    def _pipeline(self) -> tuple[Any, Any, str]:
        torch, diffusers = _imports()
        device = self.options.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype_name = self.options.dtype
        if dtype_name == "auto":
            dtype_name = "float16" if device == "cuda" else "float32"
        adapter = adapter_files(self.options.ip_adapter, self.options.image_encoder) if self.options.ip_adapter else None
        key = (str(Path(self.options.model_path or "").expanduser().resolve()), device, dtype_name,
               *(str(p.resolve()) for p in adapter or ()))
        pipe = self._pipes.get(key)
        if pipe is None:
            # newer diffusers take ``dtype`` and deprecate ``torch_dtype``; older ones know only the latter
            utils = getattr(getattr(diffusers, "utils", None), "deprecation_utils", None)
            dtype_kw = "dtype" if hasattr(utils, "_resolve_dtype") else "torch_dtype"
            try:
                pipe = diffusers.DiffusionPipeline.from_pretrained(
                    key[0], local_files_only=True, **{dtype_kw: getattr(torch, dtype_name)})
            except (OSError, ValueError) as exc:
                raise InvalidInput(f"diffusers/local cannot load {key[0]!r}: {exc}") from exc
            try:
                pipe = pipe.to(device)
            except RuntimeError as exc:  # CUDA missing or out of memory: maybe better later
                raise ProviderUnavailable(f"diffusers/local cannot move the pipeline to {device}: {exc}") from exc
            if adapter is not None:
                load_adapter(pipe, *adapter)
            if hasattr(pipe, "set_progress_bar_config"):
                pipe.set_progress_bar_config(disable=True)
            self._pipes[key] = pipe
        return torch, pipe, device

    def scheduler_for(self, pipe: Any, sampler: str) -> Any:
        _, diffusers = _imports()
        name, extra = SCHEDULERS[sampler]
        return getattr(diffusers, name).from_config(pipe.scheduler.config, **extra)

    def draw(self, prompt: str, params: GenerationParams, width: int, height: int, seed: int, ctx: StageContext,
             *, references: list[Any] | None = None, span: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
        """One image (BGR, width x height) from the prompt; ``references``: the IP-Adapter's
        images when one is loaded (none: a scene drawn from the text alone)."""
        with _RUN:
            return self._draw(prompt, params, width, height, seed, ctx, references, span)

    def _draw(self, prompt: str, params: GenerationParams, width: int, height: int, seed: int, ctx: StageContext,
              references: list[Any] | None, span: tuple[float, float]) -> np.ndarray:
        torch, pipe, _ = self.pipeline()
        pipe.scheduler = self.scheduler_for(pipe, params.sampler)
        gw, gh = model_size(width, height, self.options.long_side, multiple=8)
        steps = params.steps
        # CPU generator: the same seed gives the same noise on any device
        generator = torch.Generator(device="cpu").manual_seed(seed)
        lo, hi = span
        extra: dict[str, Any] = {}
        if self.uses_adapter():
            extra = adapter_kwargs(pipe, torch, references or [], self.options.ip_adapter_scale, params.cfg_scale > 1)

        def on_step(_pipe: Any, step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            ctx.progress(lo + (hi - lo) * (step + 1) / steps, f"step {step + 1}/{steps}")
            return kwargs

        try:
            out = pipe(prompt=prompt, negative_prompt=negative_prompt(self.options.negative), num_inference_steps=steps,
                       guidance_scale=params.cfg_scale, width=gw, height=gh, generator=generator, output_type="np",
                       callback_on_step_end=on_step, **extra)
        except torch.cuda.OutOfMemoryError as exc:  # transient: another job may free the card
            raise ProviderUnavailable(f"diffusers/local ran out of GPU memory at {gw}x{gh}: {exc}") from exc
        img = np.asarray(out.images[0])
        if img.ndim != 3 or not np.isfinite(img).all():
            raise ProviderBadOutput(f"diffusers/local returned an unusable image of shape {img.shape}")
        rgb = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
        return cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), (width, height), interpolation=cv2.INTER_LANCZOS4)

    def health(self) -> dict[str, Any]:
        try:
            torch, _ = _imports()
        except ProviderError as exc:
            return {"provider": "diffusers/local", "ok": False, "error": str(exc)}
        return {"provider": "diffusers/local", "ok": bool(self.options.model_path), "cuda": torch.cuda.is_available(),
                "ip_adapter": self.uses_adapter()}


class Diffusers(_Local, PictureProvider):
    provider_id = "diffusers/local"
    version = "1"
    Options = LocalOptions

    @property
    def supports_references(self) -> bool:  # type: ignore[override]
        """Only with an IP-Adapter: then each scene takes the portraits of the characters in it."""
        return self.uses_adapter()

    def check_inputs(self, request: PictureRequest) -> None:  # type: ignore[override]
        self.check_model()

    def generate(self, request: PictureRequest, ctx: StageContext) -> PictureResult:
        self.check_inputs(request)
        refs = reference_images(request.references, ctx) if self.uses_adapter() else None
        bgr = self.draw(positive_prompt(request), request.params, request.width, request.height, scene_seed(request),
                        ctx, references=refs)
        cv2.imwrite(str(Path(ctx.out_dir) / "image.png"), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
        return PictureResult(image="image.png", width=request.width, height=request.height)


class DiffusersPortrait(_Local, PortraitProvider):
    """The cast stage: the character's full figure and face, each drawn from their traits
    with their own seed, laid out like the illustrator's sheet (figure on the left 60 %,
    the face on the right, on the studio backdrop)."""

    provider_id = "diffusers/local"
    version = "1"
    Options = LocalOptions

    def cache_identity(self) -> dict[str, Any]:
        # a portrait is drawn from the text alone: turning the adapter on or off never redraws the cast
        ident = super().cache_identity()
        ident["options"] = {k: v for k, v in ident["options"].items() if k not in ADAPTER_OPTIONS}
        return ident

    def check_inputs(self, request: PortraitRequest) -> None:  # type: ignore[override]
        if request.source is None:  # a user's own portrait needs no model
            self.check_model()

    def portrait(self, request: PortraitRequest, ctx: StageContext) -> PortraitResult:
        w, h = request.width, request.height
        fig_w = int(w * 0.6)
        side = int(min((w - fig_w) * 0.9, h * 0.9))
        figure_prompt, face_prompt = portrait_prompts(request.character, request.genre)
        seed = request.params.seed  # the character's own (requests.portrait_request)
        figure = self.draw(figure_prompt, request.params, fig_w, h, seed, ctx, span=(0.0, 0.5))
        face = self.draw(face_prompt, request.params, side, side, seed, ctx, span=(0.5, 1.0))
        sheet = np.empty((h, w, 3), np.uint8)
        sheet[:] = list(reversed(BACKDROP))
        sheet[:, :fig_w] = figure
        fy, fx = (h - side) // 2, fig_w + (w - fig_w - side) // 2
        sheet[fy:fy + side, fx:fx + side] = face
        cv2.line(sheet, (fig_w, int(h * 0.06)), (fig_w, int(h * 0.94)), (150, 150, 150), 1, cv2.LINE_AA)
        out = Path(ctx.out_dir)
        cv2.imwrite(str(out / "portrait.png"), sheet)
        cv2.imwrite(str(out / "face.png"), face)
        return PortraitResult(image="portrait.png", face="face.png", width=w, height=h)


@hookimpl
def register_picture_providers(register: Register) -> None:
    register(Diffusers)


@hookimpl
def register_providers(register: Register) -> None:
    register(DiffusersPortrait)  # the cast stage, by the class's own stage
