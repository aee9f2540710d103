"""Admission: whether a user may start one more film now (submit, retry, render).

The quota is counted and the film admitted in one write transaction under a per-user
lock (``lock_user``), so neither two threads nor two gateways can both slip under it.
The day's quota counts the admissions ledger (security/admissions.py), not the films
that still exist."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..db.models import Movie
from ..errors import DeepFlixError
from ..security import admissions

log = logging.getLogger("deepflix.service")
ACTIVE = ("queued", "running")  # the films that hold a place in the concurrency quota


class QuotaExceeded(DeepFlixError):
    """The user's quota is full: ``retry_after`` seconds until a place may be free."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def user_lock_key(owner: str) -> int:
    """A stable signed 64-bit number for the user (PostgreSQL advisory locks take a bigint):
    the same in every gateway process, unlike hash(), which is salted per process."""
    return int.from_bytes(hashlib.sha256(b"deepflix.admit:" + owner.encode()).digest()[:8], "big", signed=True)


def lock_user(session: Session, owner: str) -> None:
    """Serialise admissions of one user's films until this write transaction ends, across
    threads and gateways, so a quota is counted and the new film inserted as one step.
    Must come before the counting.

    PostgreSQL: a transaction-scoped advisory lock on the user (other users are not held
    up; it is released at commit or rollback). SQLite: write sessions begin with BEGIN
    IMMEDIATE (deepflix.db.session), so starting the transaction here takes the database's
    write lock, which serialises every writer."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": user_lock_key(owner)})
    elif bind.dialect.name == "sqlite":
        if bind.get_execution_options().get("sqlite_begin") != "IMMEDIATE":
            raise RuntimeError("lock_user needs a write session (BEGIN IMMEDIATE); this one would not serialise")
        session.connection()  # opens the transaction (BEGIN IMMEDIATE): the write lock is ours
    else:  # no per-user lock known for this database: the count and insert may race (one film over, at worst)
        log.warning("no admission lock for database %s", bind.dialect.name)


def count_active(session: Session, owner: str) -> int:
    return int(session.scalar(
        select(func.count()).select_from(Movie).where(Movie.owner == owner, Movie.status.in_(ACTIVE))
    ) or 0)


def admit(session: Session, owner: str, *, max_jobs: int, per_day: int | None = None) -> None:
    """Take the user's lock and check their quotas (``per_day``: also the day's, for a new
    film); QuotaExceeded refuses. The caller then makes the change in the same transaction."""
    lock_user(session, owner)
    active = count_active(session, owner)
    if active >= max_jobs:
        raise QuotaExceeded(f"quota: {active} of your films are still being made and the most at once is "
                            f"{max_jobs}; wait for one to finish, or cancel one", 30)
    if per_day is None:
        return
    now = datetime.now(UTC)
    made, oldest = admissions.count_since(session, owner, now - timedelta(days=1))
    if made >= per_day:
        wait = max(1.0, (oldest + timedelta(days=1) - now).total_seconds()) if oldest else 3600.0
        raise QuotaExceeded(f"quota: you started {made} films in the last 24 hours and the most is {per_day}; "
                            f"the next can start in {int(wait // 60) + 1} min", wait)
