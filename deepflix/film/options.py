"""Everything about a film that is not the story."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..models import Aspect, GenerationParams, Resolution


class FilmOptions(BaseModel):
    """The look and the providers of one film (stored with a job, hashed into nothing:
    each stage's request carries exactly the parts of it that stage depends on)."""

    model_config = ConfigDict(extra="forbid")
    aspect: Aspect = "16:9"
    resolution: Resolution = "1080p"
    fps: int = 30
    params: GenerationParams = Field(default_factory=GenerationParams)
    loudness_lufs: float = -16.0
    burn_subtitles: bool = True
    providers: dict[str, str] = Field(default_factory=dict)  # stage -> provider name
    provider_options: dict[str, dict[str, Any]] = Field(default_factory=dict)  # stage -> that provider's Options
    # a redrawn scene's own seed (review before render): only that scene's picture request changes
    picture_seeds: dict[int, int] = Field(default_factory=dict)
