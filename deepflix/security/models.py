"""The gateway's tables: defined in ``deepflix.db.access`` (schema lives in db) and
re-exported here, where the security code and its tests have always found them."""

from __future__ import annotations

from ..db.access import Admission, ApiKey, AuditEntry

__all__ = ["Admission", "ApiKey", "AuditEntry"]
