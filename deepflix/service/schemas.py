"""A movie as the API shows it (the gateway's response models; deepflix/service/public.py
shapes a movie's rows into them, for the API and the CLI alike)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

JobStatus = Literal["queued", "running", "awaiting_review", "succeeded", "failed", "cancelled"]  # deepflix.db.models.MOVIE_STATUSES


class MovieUrls(BaseModel):
    self: str
    events: str
    video: str
    subtitles_srt: str
    subtitles_vtt: str
    poster: str
    cancel: str
    retry: str


class StageProgress(BaseModel):
    """One stage of a film; per-scene stages count their scenes."""

    name: str
    status: str
    done: int = 0
    total: int = 0
    progress: float = Field(0.0, ge=0.0, le=1.0)
    attempts: int = 0
    seconds: float | None = None
    error: str | None = None


class QACheck(BaseModel):
    name: str
    passed: bool
    value: Any = Field(None, description="What was measured (LUFS, dBTP, seconds, a count, a rate).")
    threshold: Any = Field(None, description="What passes, in words.")


class QASummary(BaseModel):
    """The film QA report in short (`deepflix qa`); the whole one is at GET /api/movies/{id}/qa."""

    passed: bool | None = Field(description="Every check passed; null when the film could not be measured.")
    error: str | None = None
    checks: list[QACheck] = Field(default_factory=list)


class CastMember(BaseModel):
    """A character of the film and their portrait (the cast stage's), once it is made."""

    id: str
    name: str
    role: str | None = None
    portrait: str | None = Field(None, description="The portrait's signed URL (a new one when it is remade); "
                                 "unset until the cast stage has made it.")
    user: bool = Field(False, description="The portrait is one the user brought (PUT .../cast/{character}).")


class MoviePublic(BaseModel):
    id: str
    status: JobStatus
    progress: float = Field(ge=0.0, le=1.0)
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    request: dict[str, Any]
    stages: list[StageProgress]
    story: dict[str, Any] | None = None
    title: str | None = None
    error: str | None = None
    urls: MovieUrls
    artifacts: dict[str, str] = Field(default_factory=dict, description="Files ready now: name -> URL.")
    qa: QASummary | None = Field(None, description="The finished film's QA checks, pass or fail each.")
    cast: list[CastMember] = Field(default_factory=list, description="The story's characters, once it is written.")


class MovieSummary(BaseModel):
    id: str
    status: JobStatus
    progress: float = Field(ge=0.0, le=1.0)
    title: str | None = None
    prompt: str
    genre: str
    created_at: datetime
    finished_at: datetime | None = None
    error: str | None = None
    urls: MovieUrls


class MovieList(BaseModel):
    items: list[MovieSummary]
    total: int
    limit: int
    offset: int
