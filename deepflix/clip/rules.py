"""Each image-to-video model's rules, and the film's size and length snapped to them.

A model makes clips only in sizes that are a multiple of its latent stride, near the area it was
trained at, with a frame count of ``step * n + 1`` (its VAE packs ``step`` frames into one latent
frame after the first), at the frame rate it was trained at. The bundled workflows' rules:

| workflow | size | length | fps | longest | past the clip's end |
|---|---|---|---|---|---|
| wan22_ti2v_5b | multiples of 32, about 1280x704 | 4n+1 | 24 | 121 (5.0 s) | kenburns |
| wan22_i2v_14b_lightx2v | multiples of 16, about 832x480 | 4n+1 | 16 | 81 (5.1 s) | kenburns |
| wan21_vace_1_3b | multiples of 16, about 832x480 | 4n+1 | 16 | 81 (5.1 s) | kenburns |
| ltxv_i2v | multiples of 32, about 768x512 | 8n+1 | 25 | 161 (6.4 s) | hold |

``wan21_vace_1_3b`` takes the cast's portraits (WanVaceToVideo's ``reference_image``): the start image
is the first frame of its control video, kept by a mask of 0 (the node pads the rest of the video
with grey and the rest of the mask with 1: generated), and the reference frames it adds in front are
trimmed after sampling (TrimVideoLatent).

Wan's clips are short, so a long scene has seconds left after one: a slow Ken Burns move over the
last frame keeps the picture alive there. LTX-Video's clips are longer and usually cover the scene;
what is left is short, and a held frame is less of a jolt than a camera move starting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

Extend = Literal["hold", "kenburns"]


@dataclass(frozen=True)
class Rules:
    fps: float  # the model's own frame rate
    multiple: int  # width and height are multiples of this
    max_area: int  # pixels: the area the model was trained at (a larger film is scaled down to it)
    step: int  # frames are step * n + 1
    max_frames: int  # the longest clip it makes well
    extend: Extend = "hold"
    min_side: int = 64

    def with_(self, **changes: object) -> Rules:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


# model slots: a node's title in the workflow -> the setting naming its model file
@dataclass(frozen=True)
class Template:
    rules: Rules
    models: dict[str, str]  # node title -> setting suffix (deepflix_comfyui_clip_<suffix>)


TEMPLATES: dict[str, Template] = {
    "wan22_ti2v_5b": Template(
        Rules(fps=24, multiple=32, max_area=1280 * 704, step=4, max_frames=121, extend="kenburns"),
        {"model": "wan5b_model", "text encoder": "wan_text_encoder", "vae": "wan5b_vae"}),
    "wan22_i2v_14b_lightx2v": Template(
        Rules(fps=16, multiple=16, max_area=832 * 480, step=4, max_frames=81, extend="kenburns"),
        {"high noise model": "wan14b_high", "low noise model": "wan14b_low", "high noise lora": "wan14b_lora_high",
         "low noise lora": "wan14b_lora_low", "text encoder": "wan_text_encoder", "vae": "wan21_vae"}),
    "wan21_vace_1_3b": Template(
        Rules(fps=16, multiple=16, max_area=832 * 480, step=4, max_frames=81, extend="kenburns"),
        {"model": "vace_model", "text encoder": "wan_text_encoder", "vae": "wan21_vae"}),
    "ltxv_i2v": Template(
        Rules(fps=25, multiple=32, max_area=768 * 512, step=8, max_frames=161, extend="hold"),
        {"checkpoint": "ltxv_checkpoint", "text encoder": "ltxv_text_encoder"}),
}
# a user's own workflow: Wan-like unless its options say otherwise (fps read from the file)
USER_RULES = Rules(fps=16, multiple=16, max_area=832 * 480, step=4, max_frames=81, extend="hold")


def snap_size(width: int, height: int, rules: Rules) -> tuple[int, int]:
    """The film's aspect at no more than the model's area (never larger than the film), each side
    rounded to the model's multiple."""
    scale = min(1.0, math.sqrt(rules.max_area / (width * height)))
    m = rules.multiple
    lo = max(m, math.ceil(rules.min_side / m) * m)

    def side(v: float) -> int:
        return max(lo, int(round(v * scale / m)) * m)

    return side(width), side(height)


def snap_frames(duration: float, rules: Rules) -> int:
    """The fewest ``step * n + 1`` frames (n >= 1) that cover ``duration`` at the model's fps, at most
    its longest clip (then the cut extends it as ``rules.extend`` says)."""
    wanted = duration * rules.fps
    n = max(1, math.ceil((wanted - 1) / rules.step - 1e-9))
    longest = max(1, (rules.max_frames - 1) // rules.step)
    return rules.step * min(n, longest) + 1
