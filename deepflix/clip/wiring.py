"""Filling an image-to-video workflow (a bundled one or a user's): values go in by node type and title.

Titles (any case) a user's workflow uses for its inputs; the bundled ones use the same:

- ``start image``: the LoadImage that gets the scene's picture (or the only LoadImage there is);
- ``positive`` / ``negative``: the text encoders (their ``text``, or a string primitive's ``value``) for
  the motion prompt and what to avoid;
- ``size``: a node whose ``width``/``height`` get the snapped size; ``length``: a node whose
  ``length`` (or ``value``, for a primitive) gets the frame count; ``seed``: ``seed``/``noise_seed``/``value``;
  ``fps``: ``fps``/``frame_rate``/``value``;
- ``reference``, ``reference 2``, ...: LoadImages that get the cast's portraits (for WanVaceToVideo's
  ``reference_image`` or WanPhantomSubjectToVideo's ``images``); unused ones are taken out;
- a model loader's title, when it is a key of the ``models`` option, gets that file name.

Without titles, the known nodes are filled by type: the video latent nodes (WanImageToVideo,
Wan22ImageToVideoLatent, LTXVImgToVideo, ...) get width, height and length; every sampler the seed;
CreateVideo, LTXVConditioning, VHS_VideoCombine and SaveAnimatedWEBP the frame rate.
"""

from __future__ import annotations

import copy
from typing import Any

from ..comfy.workflows import title
from ..errors import InvalidInput

VIDEO_SAVERS = ("SaveVideo", "SaveWEBM", "SaveAnimatedWEBP", "SaveAnimatedPNG", "VHS_VideoCombine")
LATENT_NODES = ("WanImageToVideo", "Wan22ImageToVideoLatent", "LTXVImgToVideo", "WanVaceToVideo", "WanPhantomSubjectToVideo",
                "WanFirstLastFrameToVideo", "WanCameraImageToVideo", "WanFunInpaintToVideo", "Wan22FunControlToVideo",
                "EmptyLTXVLatentVideo", "EmptyHunyuanLatentVideo", "HunyuanImageToVideo", "CosmosImageToVideoLatent")
SAMPLERS = {"KSampler": "seed", "KSamplerAdvanced": "noise_seed", "SamplerCustom": "noise_seed", "RandomNoise": "noise_seed"}
FPS_INPUTS = {"CreateVideo": "fps", "LTXVConditioning": "frame_rate", "VHS_VideoCombine": "frame_rate",
              "SaveAnimatedWEBP": "fps", "SaveAnimatedPNG": "fps"}
MODEL_INPUTS = {"UNETLoader": "unet_name", "CLIPLoader": "clip_name", "VAELoader": "vae_name", "LoraLoaderModelOnly": "lora_name",
                "CheckpointLoaderSimple": "ckpt_name", "CLIPVisionLoader": "clip_name", "UnetLoaderGGUF": "unet_name"}


def video_savers(wf: dict[str, Any]) -> list[str]:
    return [k for k, n in wf.items() if n["class_type"] in VIDEO_SAVERS]


def start_image_node(wf: dict[str, Any]) -> str | None:
    loads = [k for k, n in wf.items() if n["class_type"] == "LoadImage" and not title(n).startswith("reference")]
    titled = [k for k in loads if title(wf[k]) == "start image"]
    return titled[0] if titled else (loads[0] if len(loads) == 1 else None)


def reference_nodes(wf: dict[str, Any]) -> list[str]:
    """The LoadImages for the cast's portraits, in title order ("reference", "reference 2", ...)."""
    refs = [k for k, n in wf.items() if n["class_type"] == "LoadImage" and title(n).startswith("reference")]
    return sorted(refs, key=lambda k: (len(title(wf[k])), title(wf[k])))


def check_workflow(wf: dict[str, Any], name: str) -> None:
    """What no server can mend: a workflow that cannot take the picture or the prompt, or makes no video."""
    if not video_savers(wf):
        raise InvalidInput(f"comfyui clip: workflow {name!r} has no video output: end it in a "
                           f"{', '.join(VIDEO_SAVERS[:-1])} or {VIDEO_SAVERS[-1]} node")
    if start_image_node(wf) is None:
        raise InvalidInput(f"comfyui clip: workflow {name!r} has no LoadImage titled 'start image' for the scene's picture")
    if not any(title(n) == "positive" and {"text", "value"} & set(n.get("inputs", {})) for n in wf.values()):
        raise InvalidInput(f"comfyui clip: workflow {name!r} has no text node titled 'positive' for the motion prompt")


def workflow_fps(wf: dict[str, Any]) -> float | None:
    """The frame rate a workflow writes its video at (its CreateVideo, VHS_VideoCombine, ...)."""
    for n in wf.values():
        field = FPS_INPUTS.get(n["class_type"]) or ("value" if title(n) == "fps" else None)
        value = n.get("inputs", {}).get(field) if field else None
        if isinstance(value, int | float) and value > 0:
            return float(value)
    return None


def _set(inputs: dict[str, Any], names: tuple[str, ...], value: Any) -> bool:
    """Set the first of ``names`` the node has as a plain value (a wired input is left alone)."""
    for name in names:
        if name in inputs and not isinstance(inputs[name], list):
            inputs[name] = value
            return True
    return False


def inject(wf: dict[str, Any], *, start: str, positive: str, negative: str, seed: int, width: int, height: int,
           frames: int, fps: float, models: dict[str, str], steps: int | None, references: list[str]) -> dict[str, Any]:
    wf = copy.deepcopy(wf)
    start_id = start_image_node(wf)
    for key, node in wf.items():
        ct, inputs, t = node["class_type"], node.setdefault("inputs", {}), title(node)
        if key == start_id:
            inputs["image"] = start
        if t == "positive" or (t == "negative" and negative):
            _set(inputs, ("text", "value"), positive if t == "positive" else negative)
        if ct in LATENT_NODES or t == "size":
            _set(inputs, ("width",), width)
            _set(inputs, ("height",), height)
        if ct in LATENT_NODES or t == "length":
            _set(inputs, ("length",), frames) or (t == "length" and _set(inputs, ("value",), frames))
        if ct in SAMPLERS or t == "seed":
            _set(inputs, (SAMPLERS.get(ct, "seed"), "seed", "noise_seed", "value"), seed)
        if ct in FPS_INPUTS or t == "fps":
            _set(inputs, (FPS_INPUTS.get(ct, "fps"), "frame_rate", "value"), fps)
        if t in models and ct in MODEL_INPUTS:
            inputs[MODEL_INPUTS[ct]] = models[t]
        if ct in ("SaveVideo", "SaveWEBM", "SaveAnimatedWEBP", "VHS_VideoCombine"):
            _set(inputs, ("filename_prefix",), "video/deepflix")
    if steps:
        set_steps(wf, steps)
    _wire_references(wf, references)
    return wf


def set_steps(wf: dict[str, Any], steps: int) -> None:
    """The sampling steps; a two-pass KSamplerAdvanced pair (Wan 2.2 14B) is split at half."""
    adv = [k for k in sampler_order(wf) if wf[k]["class_type"] == "KSamplerAdvanced"]
    for n in wf.values():
        if n["class_type"] in ("KSampler", "LTXVScheduler", "BasicScheduler"):
            n["inputs"]["steps"] = steps
    for i, k in enumerate(adv):
        inputs = wf[k]["inputs"]
        inputs["steps"] = steps
        if len(adv) == 2:  # high noise 0..half, low noise half..end
            inputs["start_at_step"], inputs["end_at_step"] = (0, steps // 2) if i == 0 else (steps // 2, 10000)


def _wire_references(wf: dict[str, Any], references: list[str]) -> None:
    """Portraits into the reference LoadImages, in order; nodes left without one are taken out,
    with every input wired to them (WanVaceToVideo's reference_image is optional)."""
    nodes = reference_nodes(wf)
    for key, name in zip(nodes, references, strict=False):
        wf[key]["inputs"]["image"] = name
    for key in nodes[len(references):]:
        del wf[key]
        for node in wf.values():
            for name, value in list(node.get("inputs", {}).items()):
                if isinstance(value, list) and value and value[0] == key:
                    del node["inputs"][name]


def sampler_order(wf: dict[str, Any]) -> list[str]:
    """The sampling nodes in the order they run: by how many samplers lie upstream of each."""
    def upstream(key: str, seen: set[str]) -> set[str]:
        for value in wf.get(key, {}).get("inputs", {}).values():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and value[0] not in seen:
                seen.add(value[0])
                upstream(value[0], seen)
        return seen

    kinds = ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced")
    keys = [k for k, n in wf.items() if n["class_type"] in kinds]
    depth = {k: sum(1 for u in upstream(k, set()) if u in keys) for k in keys}
    return sorted(keys, key=lambda k: (depth[k], k))


def pass_steps(wf: dict[str, Any]) -> list[int]:
    """How many progress steps each sampling pass reports (its weight in the clip's progress)."""
    out = []
    for k in sampler_order(wf):
        inputs = wf[k]["inputs"]
        steps = inputs.get("steps")
        if wf[k]["class_type"] == "KSamplerAdvanced" and isinstance(steps, int):
            end = inputs.get("end_at_step", steps)
            steps = max(1, min(int(end) if isinstance(end, int) else steps, steps) - int(inputs.get("start_at_step", 0) or 0))
        elif not isinstance(steps, int):  # SamplerCustom: its scheduler's steps
            sig = inputs.get("sigmas")
            sched = wf.get(sig[0], {}) if isinstance(sig, list) else {}
            steps = sched.get("inputs", {}).get("steps", 1)
        out.append(int(steps) if isinstance(steps, int) and steps > 0 else 1)
    return out
