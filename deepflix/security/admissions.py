"""The admissions ledger: one row per film the gateway admitted for a user.

The day's quota (DEEPFLIX_FILMS_PER_DAY) counts these rows, never the films that
still exist: a user who deletes films does not get their places back. Written in
the submission's own transaction, under the user's admission lock
(service.admission.lock_user), so the count and the new row are one step."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.access import Admission


def record(session: Session, owner: str, movie_id: str, at: datetime | None = None) -> None:
    session.add(Admission(owner=owner, movie_id=movie_id, at=at or datetime.now(UTC)))


def count_since(session: Session, owner: str, since: datetime) -> tuple[int, datetime | None]:
    """Films admitted for the owner since then, and when the oldest of them was."""
    n, oldest = session.execute(
        select(func.count(), func.min(Admission.at)).where(Admission.owner == owner, Admission.at >= since)
    ).one()
    if isinstance(oldest, str):  # func.min bypasses UTCDateTime on SQLite
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(n or 0), oldest
