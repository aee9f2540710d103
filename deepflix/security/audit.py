"""Writing the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core import logcontext
from ..db.access import AuditEntry


def record(
    session: Session,
    action: str,
    *,
    user: str | None,
    key_id: str | None = None,
    target: str | None = None,
    outcome: int = 0,
    ip: str | None = None,
    user_agent: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=datetime.now(UTC),
        user=user,
        key_id=key_id,
        action=action,
        target=target,
        outcome=outcome,
        ip=ip,
        user_agent=(user_agent or "")[:200] or None,
        request_id=logcontext.request_id.get(),
        detail=json.dumps(detail, sort_keys=True, default=str)[:2000] if detail else None,
    )
    session.add(entry)
    return entry


def recent(session: Session, *, user: str | None = None, limit: int = 100) -> list[AuditEntry]:
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if user:
        q = q.where(AuditEntry.user == user)
    return list(session.scalars(q))
