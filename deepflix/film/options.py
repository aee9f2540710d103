"""Everything about a film that is not the story."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..models import MAX_SCENES, Aspect, GenerationParams, Resolution

# which scenes are generated motion (film/clips.py): none, all, or the N with the most action;
# None keeps the story's own ``motion`` marks (a new story has none)
ClipChoice = Literal["none", "all"] | Annotated[int, Field(ge=1, le=MAX_SCENES)]


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
    clips: ClipChoice | None = Field(None, exclude_if=lambda v: v is None)
    # a clip that fails falls back to the still (a warning in the manifest) unless this is set
    strict_clips: bool = Field(False, exclude_if=lambda v: not v)
