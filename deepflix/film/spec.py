"""A film as it was asked for, validated once (the movie service checks a submission
into it: deepflix/service/submit.py). A movie's row stores its dump in two columns,
``movies.request`` (what was asked, which the API shows back) and ``movies.options``
(the look and the providers, resolved at submit time), and the workers read both
back through ``FilmSpec.stored``, so what was checked is what every worker makes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..models import MAX_SCENES, Aspect, Genre, Resolution, Sampler, StoryRequest, stripped_prompt
from .options import FilmOptions

Priority = Literal["high", "normal", "low"]  # deepflix.db.models.PRIORITIES
Review = Literal["story", "pictures"]  # the stage a film stops after for its owner's edits (jobs/review.py)
RESOLUTIONS: tuple[str, ...] = ("360p", "480p", "720p", "1080p", "2160p")  # Resolution, smallest first


class FilmSpec(BaseModel):
    """The seed's POST /api/movies fields as stored (key order included: the API shows
    ``movies.request`` as it is), the story stage's request, and the film's options."""

    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(min_length=1, max_length=2000)
    genre: Genre = "drama"
    num_sequences: int = Field(6, ge=1, le=MAX_SCENES)  # scenes: the given story's count when there is one
    seed: int = 0
    sampler: Sampler = "euler"
    steps: int = Field(20, ge=1, le=150)
    cfg_scale: float = Field(7.0, ge=1.0, le=30.0)
    aspect: Aspect = "16:9"
    resolution: Resolution = "1080p"
    priority: Priority = "normal"
    story: StoryRequest  # what the story stage is asked (unused when a written story is given)
    picture_options: dict[str, Any] | None = Field(None, exclude_if=lambda v: v is None)
    review: Review | None = Field(None, exclude_if=lambda v: v is None)
    options: FilmOptions  # movies.options

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, v: str) -> str:
        return stripped_prompt(v)

    @model_validator(mode="after")
    def _one_look(self) -> FilmSpec:
        """The look is stored twice (the request the caller sees, the options the workers
        read): both halves must say the same."""
        o, p = self.options, self.options.params
        ours = (self.aspect, self.resolution, self.seed, self.sampler, self.steps, self.cfg_scale)
        if ours != (o.aspect, o.resolution, p.seed, p.sampler, p.steps, p.cfg_scale):
            raise ValueError("the request's look and the film's options disagree")
        return self

    @classmethod
    def stored(cls, request: dict[str, Any], options: dict[str, Any]) -> FilmSpec:
        """The spec a movie's row holds (its ``request`` and ``options`` columns)."""
        return cls.model_validate({**request, "options": options})

    def columns(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(movies.request, movies.options): the dump, split as the row stores it."""
        request = self.model_dump(mode="json")
        return request, request.pop("options")


__all__ = ["RESOLUTIONS", "FilmSpec", "Priority", "Review"]
