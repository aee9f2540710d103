"""diffusers/local: pictures from a diffusion pipeline on this machine's GPU (or CPU).

The pipeline is loaded from a local folder (option ``model_path``, a
``save_pretrained`` layout such as a downloaded Stable Diffusion checkpoint);
nothing is fetched from a hub (``local_files_only``). The scheduler is the one
the request's ``sampler`` names. Consistency across scenes: every character has
one fixed prompt fragment and one seed (see ``prompts``), so the scenes of one
main character start from the same noise with the same words for them.

torch and diffusers are imported inside methods, so this module imports (and
the provider registers) without them; install the ``diffusers`` extra to use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..errors import InvalidInput, ProviderBadOutput, ProviderError, ProviderUnavailable
from ..hookspecs import hookimpl
from ..models import PictureRequest, PictureResult
from ..provider import StageContext
from .base import PictureProvider
from .prompts import model_size, negative_prompt, positive_prompt, scene_seed

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


def _imports() -> tuple[Any, Any]:
    try:
        import diffusers
        import torch
    except ImportError as exc:
        raise ProviderError(
            f"diffusers/local needs torch and diffusers ({exc.name} is missing): pip install 'deepflix[diffusers]'"
        ) from exc
    return torch, diffusers


class Diffusers(PictureProvider):
    provider_id = "diffusers/local"
    version = "1"
    _pipes: ClassVar[dict[tuple[str, str, str], Any]] = {}  # loading is slow: one pipeline per process

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        model_path: str | None = Field(None, description="a local diffusers pipeline folder (save_pretrained layout)")
        device: Literal["auto", "cuda", "cpu", "mps"] = "auto"
        dtype: Literal["auto", "float16", "bfloat16", "float32"] = "auto"
        long_side: int = Field(768, ge=64, le=2048, description="generate at this long side, then scale to the film")
        negative: str = ""

    def check_inputs(self, request: PictureRequest) -> None:  # type: ignore[override]
        path = self.options.model_path
        if not path:
            raise InvalidInput("diffusers/local needs option model_path: a local pipeline folder")
        if not (Path(path).expanduser() / "model_index.json").is_file():
            raise InvalidInput(f"diffusers/local: {path!r} is not a diffusers pipeline folder (no model_index.json)")

    def pipeline(self) -> tuple[Any, Any, str]:
        torch, diffusers = _imports()
        device = self.options.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype_name = self.options.dtype
        if dtype_name == "auto":
            dtype_name = "float16" if device == "cuda" else "float32"
        key = (str(Path(self.options.model_path or "").expanduser().resolve()), device, dtype_name)
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
            if hasattr(pipe, "set_progress_bar_config"):
                pipe.set_progress_bar_config(disable=True)
            self._pipes[key] = pipe
        return torch, pipe, device

    def scheduler_for(self, pipe: Any, sampler: str) -> Any:
        _, diffusers = _imports()
        name, extra = SCHEDULERS[sampler]
        return getattr(diffusers, name).from_config(pipe.scheduler.config, **extra)

    def generate(self, request: PictureRequest, ctx: StageContext) -> PictureResult:
        self.check_inputs(request)
        torch, pipe, device = self.pipeline()
        pipe.scheduler = self.scheduler_for(pipe, request.params.sampler)
        width, height = model_size(request.width, request.height, self.options.long_side, multiple=8)
        steps = request.params.steps
        # CPU generator: the same seed gives the same noise on any device
        generator = torch.Generator(device="cpu").manual_seed(scene_seed(request))

        def on_step(_pipe: Any, step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            ctx.progress((step + 1) / steps, f"step {step + 1}/{steps}")
            return kwargs

        try:
            out = pipe(prompt=positive_prompt(request), negative_prompt=negative_prompt(self.options.negative),
                       num_inference_steps=steps, guidance_scale=request.params.cfg_scale, width=width,
                       height=height, generator=generator, output_type="np", callback_on_step_end=on_step)
        except torch.cuda.OutOfMemoryError as exc:  # transient: another job may free the card
            raise ProviderUnavailable(f"diffusers/local ran out of GPU memory at {width}x{height}: {exc}") from exc
        img = np.asarray(out.images[0])
        if img.ndim != 3 or not np.isfinite(img).all():
            raise ProviderBadOutput(f"diffusers/local returned an unusable image of shape {img.shape}")
        rgb = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
        bgr = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), (request.width, request.height),
                         interpolation=cv2.INTER_LANCZOS4)
        cv2.imwrite(str(Path(ctx.out_dir) / "image.png"), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
        return PictureResult(image="image.png", width=request.width, height=request.height)

    def health(self) -> dict[str, Any]:
        try:
            torch, _ = _imports()
        except ProviderError as exc:
            return {"provider": self.provider_id, "ok": False, "error": str(exc)}
        return {"provider": self.provider_id, "ok": bool(self.options.model_path), "cuda": torch.cuda.is_available()}


@hookimpl
def register_picture_providers(register):  # type: ignore[no-untyped-def]
    register(Diffusers)
