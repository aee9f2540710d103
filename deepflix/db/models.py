"""The job truth: movies, their stages, and the event log progress streams read.

A movie is one film job. Its stages are rows: ``story`` first, then per scene
``picture`` and ``speech`` (fanned out), then ``score`` and per scene
``segment`` once every scene's picture and speech is done (the first fan-in),
then ``cut`` once the score and every segment is done (the second fan-in).

Stage status: waiting (inputs not done) -> ready (may run; not yet sent) ->
queued (a message carries it) -> running -> succeeded | failed | cancelled.
Movie status: queued | running | awaiting_review | succeeded | failed | cancelled
(awaiting_review: stopped at a review point, holding no worker; see jobs/review.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow

MOVIE_STATUSES = ("queued", "running", "awaiting_review", "succeeded", "failed", "cancelled")
STAGE_STATUSES = ("waiting", "ready", "queued", "running", "succeeded", "failed", "cancelled")
ACTIVE_STAGE = ("ready", "queued", "running")  # work that is or will be in flight
OPEN_STAGE = ("waiting", "ready", "queued", "running")
PRIORITIES = ("high", "normal", "low")

# a BIGINT that SQLite still treats as its rowid alias (autoincrement)
BigId = BigInteger().with_variant(Integer(), "sqlite")


def new_id() -> str:
    return str(uuid.uuid4())


class Movie(Base):
    __tablename__ = "movies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner: Mapped[str] = mapped_column(String(128))
    title: Mapped[str | None] = mapped_column(String(200))
    # the submitted fields (the seed's POST /api/movies body, as a StoryRequest plus look)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    # FilmOptions with the providers resolved at submit time, so every worker makes the same film
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    error: Mapped[str | None] = mapped_column(Text)
    story: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the story; timed once the cut is done
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # artifact keys and file names of the film
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    # review before render (jobs/review.py): stages held back until the owner renders, and the story's edits
    hold: Mapped[list[str] | None] = mapped_column(JSON)
    story_versions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    stages: Mapped[list[Stage]] = relationship(
        back_populates="movie", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Stage.id",
    )

    __table_args__ = (
        Index("ix_movies_owner_created", "owner", "created_at"),
        Index("ix_movies_status", "status"),
    )

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Stage(Base):
    __tablename__ = "stages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    movie_id: Mapped[str] = mapped_column(ForeignKey("movies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(16))  # story | picture | speech | score | segment | cut
    scene: Mapped[int | None] = mapped_column(Integer)  # scene index for per-scene stages
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    queue: Mapped[str] = mapped_column(String(32))  # e.g. gpu.high, cpu.normal
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider: Mapped[str | None] = mapped_column(String(80))
    artifact_key: Mapped[str | None] = mapped_column(String(64))
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(128))  # host:pid of the last attempt
    message_id: Mapped[str | None] = mapped_column(String(64))  # the last message sent for it
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seconds: Mapped[float | None] = mapped_column(Float)  # compute time of the finished attempt
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    movie: Mapped[Movie] = relationship(back_populates="stages")

    __table_args__ = (
        Index("ix_stages_movie_name", "movie_id", "name", "scene"),
        Index("ix_stages_status", "status"),
    )

    @property
    def label(self) -> str:
        return self.name if self.scene is None else f"{self.name}[{self.scene}]"


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    movie_id: Mapped[str] = mapped_column(ForeignKey("movies.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str | None] = mapped_column(String(16))
    scene: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_events_movie_id", "movie_id", "id"),)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "movie_id": self.movie_id, "ts": self.ts.isoformat(), "kind": self.kind,
            "stage": self.stage, "scene": self.scene, "message": self.message, "data": self.data,
        }
