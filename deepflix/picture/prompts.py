"""Text prompts and seeds for image models (ComfyUI, diffusers), built from the
structured scene and the character sheets.

Consistency across scenes comes from two things that never change for a
character: the prompt fragment describing them (always the same words, in the
same order) and a seed derived from the film's seed and the character's id, used
for every scene whose main character they are.
"""

from __future__ import annotations

import zlib

from ..models import CharacterSheet, PictureRequest

NEGATIVE = ("blurry, lowres, low quality, deformed, disfigured, bad anatomy, extra limbs, extra fingers, "
            "mutated hands, duplicate, cropped face, watermark, signature, text, logo, jpeg artifacts")

_LIGHT = {
    "dawn": "soft dawn light, pink and orange sky",
    "day": "bright daylight",
    "dusk": "golden hour, warm sunset light",
    "night": "night, moonlight, deep shadows",
}
_WEATHER = {
    "clear": "", "cloudy": "overcast sky", "rain": "rain, wet surfaces", "fog": "thick fog, haze",
    "snow": "falling snow", "storm": "storm, lightning, heavy rain", "wind": "strong wind",
}
_SHOT = {
    "wide": "wide establishing shot", "medium": "medium shot", "close": "close-up portrait",
    "over_the_shoulder": "over-the-shoulder shot", "aerial": "aerial view from above",
}
_SETTING = {
    "night_street": "city street at night", "interior": "interior room", "space": "outer space",
    "underwater": "underwater scene", "lighthouse": "lighthouse on a rocky coast",
}


def character_fragment(sheet: CharacterSheet) -> str:
    """The one description of a character used in every prompt they appear in."""
    parts = [sheet.base_traits, sheet.facial_features, f"wearing {sheet.clothing}" if sheet.clothing else "",
             sheet.distinctive_features]
    return f"{sheet.name} ({', '.join(p.strip() for p in parts if p and p.strip())})"


def positive_prompt(req: PictureRequest) -> str:
    s = req.scene
    bits = [
        s.scene_description.strip(),
        s.location.strip(),
        _SETTING.get(s.setting, s.setting),
        _LIGHT[s.time_of_day],
        _WEATHER[s.weather],
        f"{s.atmosphere.strip()} atmosphere" if s.atmosphere.strip() else "",
        _SHOT[s.shot],
    ]
    bits += [character_fragment(c) for c in req.characters]
    bits.append(f"{req.genre} film still, cinematic lighting, detailed, consistent character design")
    return ", ".join(b for b in bits if b)


def portrait_prompts(sheet: CharacterSheet, genre: str) -> tuple[str, str]:
    """The cast stage's two prompts for a character, from their visual traits alone: the
    full figure and the face, each alone on a plain studio backdrop (a reference, not a scene)."""
    who = character_fragment(sheet)
    tail = f"plain light grey studio background, even soft light, {genre} film character design, detailed"
    # the view first: CLIP reads 77 tokens, and a long description must not push it out
    return (f"full body, standing, front view, {who}, whole figure from head to feet, {tail}",
            f"face close-up, head and shoulders, front view, {who}, looking at the camera, {tail}")


def negative_prompt(extra: str = "") -> str:
    return f"{NEGATIVE}, {extra}" if extra else NEGATIVE


def character_seed(sheet: CharacterSheet, base_seed: int) -> int:
    return (base_seed * 1_000_003 + zlib.crc32(sheet.id.encode())) % 2**32


def scene_seed(req: PictureRequest) -> int:
    """The main (first) character's seed, so their scenes start from the same noise;
    scenes without people vary by index."""
    if req.characters:
        return character_seed(req.characters[0], req.params.seed)
    return (req.params.seed * 1_000_003 + 7919 * (req.scene_index + 1)) % 2**32


def model_size(width: int, height: int, long_side: int, multiple: int = 64) -> tuple[int, int]:
    """The size to generate at: the request's aspect, the model's native scale, multiples of 64."""
    scale = long_side / max(width, height)
    w = max(multiple, int(round(width * scale / multiple)) * multiple)
    h = max(multiple, int(round(height * scale / multiple)) * multiple)
    return w, h
