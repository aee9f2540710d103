"""The gateway's tables, on the job system's declarative Base (one metadata, one
Alembic history): API keys (hashed), the audit log and the admissions ledger.

Schema, so they live in db beside the job tables (a migration and Alembic's env
register them without importing the security layer above); ``security/models.py``
re-exports them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(12), primary_key=True)  # the public part of the key
    user: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    key_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256(DEEPFLIX_SECRET_KEY, key), hex
    role: Mapped[str] = mapped_column(String(16), default="user")  # user | admin (sees the queue board)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # per-key overrides of the quotas and rate in ApiSettings (None = the setting)
    max_concurrent_jobs: Mapped[int | None] = mapped_column(Integer, nullable=True)
    films_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rate_per_minute: Mapped[float | None] = mapped_column(Float, nullable=True)
    # may submit films with priority "high" (admins always may)
    high_priority: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AuditEntry(Base):
    """Who did what, when, from where. Written for every change (submit, cancel,
    retry, delete, key made or revoked) and for every refused key."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    user: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    key_id: Mapped[str | None] = mapped_column(String(12), nullable=True)
    action: Mapped[str] = mapped_column(String(40))  # movie.create, movie.cancel, key.create, auth.denied, ...
    target: Mapped[str | None] = mapped_column(String(64), nullable=True)  # a movie id or key id
    outcome: Mapped[int] = mapped_column(Integer)  # the HTTP status (0 from the command line)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)  # short JSON, never a secret


class Admission(Base):
    """One film admitted for a user (submitted through the gateway). The day's quota
    counts these, not the movies table: deleting a film does not give its place back."""

    __tablename__ = "admissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(128))
    movie_id: Mapped[str] = mapped_column(String(36))  # no foreign key: it outlives the film
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_admissions_owner_at", "owner", "at"),)
