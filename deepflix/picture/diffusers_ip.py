"""IP-Adapter for diffusers/local: every scene conditioned on the portraits of the
characters in it.

The adapter is read from local files only (``local_files_only``; nothing is fetched,
whatever ``HF_HUB_OFFLINE`` says): a weight file in the format diffusers'
``load_ip_adapter`` reads (``image_proj.*`` and ``ip_adapter.*`` tensors, as h94's
``ip-adapter_sd15.safetensors``) and the CLIP image encoder it was trained with (a
``CLIPVisionModelWithProjection`` folder, by default ``image_encoder/`` beside the
weights, as in h94's ``models/`` layout).

Several characters: one IP-Adapter takes a list of images, and each portrait adds its
own image tokens to the cross-attention (diffusers' "several images, one adapter").
A scene with nobody in it gets a zero embedding at scale 0, which the attention
skips, so it is drawn from the text alone by the same loaded pipeline.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import InvalidInput
from ..models import ArtifactRef
from ..provider import StageContext
from ..storage import ArtifactBroken
from .portrait import BACKDROP

WEIGHTS = (".safetensors", ".bin")
ENCODER_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


def adapter_files(ip_adapter: str, image_encoder: str | None) -> tuple[Path, Path]:
    """The weight file and the image-encoder folder, checked cheaply (names, headers and
    the config; no tensor is read), or ValueError saying what is wrong and where."""
    path = Path(ip_adapter).expanduser()
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in WEIGHTS)
        if len(found) != 1:
            raise ValueError(f"ip_adapter {ip_adapter!r} is a folder with {len(found)} weight files "
                             f"({', '.join(p.name for p in found) or 'none'}): name the file")
        path = found[0]
    if not path.is_file():
        raise ValueError(f"ip_adapter (DEEPFLIX_DIFFUSERS_IP_ADAPTER) {ip_adapter!r} does not exist: give a local IP-Adapter weight file "
                         f"(.safetensors or .bin); nothing is downloaded")
    if path.suffix not in WEIGHTS:
        raise ValueError(f"ip_adapter {str(path)!r} is not a .safetensors or .bin file")
    if path.suffix == ".safetensors":
        _check_safetensors(path)
    elif not zipfile.is_zipfile(path):  # torch.save's format; anything else cannot be loaded
        raise ValueError(f"ip_adapter {str(path)!r} is not a torch checkpoint (a .bin saved by torch.save)")
    encoder = Path(image_encoder).expanduser() if image_encoder else path.parent / "image_encoder"
    config = encoder / "config.json"
    if not config.is_file() or not any((encoder / name).is_file() for name in ENCODER_WEIGHTS):
        raise ValueError(f"image_encoder {str(encoder)!r} is not a CLIP image encoder folder (config.json and "
                         f"{' or '.join(ENCODER_WEIGHTS)}); set image_encoder / DEEPFLIX_DIFFUSERS_IMAGE_ENCODER")
    try:
        json.loads(config.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"image_encoder {str(config)!r} is unreadable: {exc}") from exc
    return path, encoder


def _check_safetensors(path: Path) -> None:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="np") as f:
            keys = list(f.keys())
    except Exception as exc:  # a truncated or foreign file: safetensors says why in its own words
        raise ValueError(f"ip_adapter {str(path)!r} is not a readable safetensors file: {exc}") from exc
    for part in ("image_proj", "ip_adapter"):
        if not any(k.startswith(part + ".") for k in keys):
            raise ValueError(f"ip_adapter {str(path)!r} has no {part}.* tensors: not IP-Adapter weights")


def load_adapter(pipe: Any, weight: Path, encoder: Path) -> None:
    """The image encoder and the adapter into a loaded pipeline, from these files only."""
    from transformers import CLIPVisionModelWithProjection

    try:
        enc = CLIPVisionModelWithProjection.from_pretrained(str(encoder), local_files_only=True, dtype=pipe.dtype)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"diffusers/local cannot load the image encoder {str(encoder)!r}: {exc}") from exc
    pipe.register_modules(image_encoder=enc.to(pipe.device))
    try:
        pipe.load_ip_adapter(str(weight.parent), subfolder="", weight_name=weight.name, image_encoder_folder=None,
                             local_files_only=True)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:  # e.g. an SDXL adapter on an SD 1.5 UNet
        raise InvalidInput(f"diffusers/local: the IP-Adapter {str(weight)!r} does not fit this pipeline: {exc}") from exc


def square(bgr: np.ndarray) -> np.ndarray:
    """The portrait centred on a square of its backdrop: the image encoder centre-crops a
    square, and a sheet's figure and face must both survive it."""
    h, w = bgr.shape[:2]
    side = max(h, w)
    out = np.empty((side, side, 3), np.uint8)
    out[:] = list(reversed(BACKDROP))
    y, x = (side - h) // 2, (side - w) // 2
    out[y:y + h, x:x + w] = bgr
    return out


def reference_images(refs: list[ArtifactRef], ctx: StageContext) -> list[Any]:
    """The portraits as RGB PIL images, in the request's order (one per character present)."""
    from PIL import Image

    images = []
    for ref in refs:
        path = ctx.path(ref)
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:  # the store lost or broke it: remake the portrait upstream
            raise ArtifactBroken(ref.key, ref.name, "not an image OpenCV can read")
        images.append(Image.fromarray(cv2.cvtColor(square(img), cv2.COLOR_BGR2RGB)))
    return images


def adapter_kwargs(pipe: Any, torch: Any, images: list[Any], scale: float, cfg: bool) -> dict[str, Any]:
    """The pipeline's IP-Adapter arguments for one picture, and its scale set on the pipeline."""
    if images:
        pipe.set_ip_adapter_scale(scale)
        return {"ip_adapter_image": [images]}
    # nobody in the scene: a zero embedding (with its unconditional half for guidance) at scale 0,
    # shaped as the adapter takes it: the projected image embedding (IP-Adapter) or the encoder's
    # penultimate hidden states (the Plus adapters)
    from diffusers.models.embeddings import ImageProjection

    pipe.set_ip_adapter_scale(0.0)
    enc = pipe.image_encoder.config
    layer = pipe.unet.encoder_hid_proj.image_projection_layers[0]
    shape = (enc.projection_dim,) if isinstance(layer, ImageProjection) else (
        (enc.image_size // enc.patch_size) ** 2 + 1, enc.hidden_size)
    zeros = torch.zeros((2 if cfg else 1, 1, *shape), dtype=pipe.dtype, device=pipe.device)
    return {"ip_adapter_image_embeds": [zeros]}
