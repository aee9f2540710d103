"""The vocabulary every model shares: the closed sets a story draws from (genres,
settings, moods...), the base classes, and the artifact reference every result points with."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, field_validator, model_serializer

GENRES: tuple[str, ...] = ("noir", "sci-fi", "fantasy", "horror", "comedy", "romance", "adventure", "drama")
Genre = Literal["noir", "sci-fi", "fantasy", "horror", "comedy", "romance", "adventure", "drama"]

SETTINGS: tuple[str, ...] = (
    "city", "night_street", "forest", "coast", "desert", "mountains", "interior", "space",
    "village", "field", "lighthouse", "underwater",
)
Setting = Literal[
    "city", "night_street", "forest", "coast", "desert", "mountains", "interior", "space",
    "village", "field", "lighthouse", "underwater",
]
TimeOfDay = Literal["dawn", "day", "dusk", "night"]
Weather = Literal["clear", "cloudy", "rain", "fog", "snow", "storm", "wind"]
Shot = Literal["wide", "medium", "close", "over_the_shoulder", "aerial"]
CameraMove = Literal["push_in", "pull_out", "pan_left", "pan_right", "tilt_up", "tilt_down", "static"]
Transition = Literal["crossfade", "fade_black", "wipe_left", "slide_up", "circle_open", "cut"]
MOODS: tuple[str, ...] = (
    "calm", "tense", "mysterious", "joyful", "sad", "romantic", "epic", "dark", "hopeful",
    "playful", "eerie", "triumphant",
)
Mood = Literal[
    "calm", "tense", "mysterious", "joyful", "sad", "romantic", "epic", "dark", "hopeful",
    "playful", "eerie", "triumphant",
]
Aspect = Literal["16:9", "9:16", "1:1"]
Resolution = Literal["360p", "480p", "720p", "1080p", "2160p"]  # 360p/480p: previews and tests
SAMPLERS: tuple[str, ...] = (
    "euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms", "dpmpp_2m", "dpmpp_sde",
    "dpmpp_2m_sde", "ddim", "uni_pc", "pndm",
)
Sampler = Literal[
    "euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms", "dpmpp_2m", "dpmpp_sde",
    "dpmpp_2m_sde", "ddim", "uni_pc", "pndm",
]

MAX_SCENES = 60


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Language(_Model):
    """A film's language (BCP-47, see languages.py). English, the default, is left out of
    what the model writes, so every English request keeps the cache key it had before
    the field existed, and an English story.json reads as it did."""

    language: str = "en"

    @field_validator("language")
    @classmethod
    def _tag(cls, v: str) -> str:
        from ..languages import normalize_tag

        return normalize_tag(v)

    @model_serializer(mode="wrap")
    def _omit_english(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data = handler(self)  # no return annotation: the JSON schema stays the fields' own
        if isinstance(data, dict) and data.get("language") == "en":
            del data["language"]
        return data


def stripped_prompt(v: str) -> str:
    """A prompt's one check, wherever one is taken: not blank, kept without its outer spaces."""
    if not v.strip():
        raise ValueError("prompt must not be empty")
    return v.strip()


def slug(text: str, max_len: int = 48) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:max_len].rstrip("-") or "film"


class ArtifactRef(_Model):
    """A file in the artifact store: ``name`` inside the artifact ``key``."""

    key: str
    name: str


def frame_size(aspect: str, resolution: str) -> tuple[int, int]:
    """(width, height), both even. 1080p means the short side is 1080."""
    short = {"360p": 360, "480p": 480, "720p": 720, "1080p": 1080, "2160p": 2160}[resolution]
    long = short * 16 // 9 // 2 * 2  # even, as yuv420p needs
    if aspect == "16:9":
        return long, short
    if aspect == "9:16":
        return short, long
    return short, short
