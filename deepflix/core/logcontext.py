"""The ids every log line carries: context variables, set high and read low.

The gateway's middleware sets ``request_id`` and ``user``, a movie route (or a
worker running a job, via ``job_context``) ``job_id``; the JSON formatter
(``api/logs.py``) and the audit log (``security/audit.py``) read them. They live
in core so a lower layer reads them without importing the gateway. Threads started
with ``contextvars.copy_context()`` (asyncio and anyio do that) see them too.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("deepflix_request_id", default=None)
job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("deepflix_job_id", default=None)
user: contextvars.ContextVar[str | None] = contextvars.ContextVar("deepflix_user", default=None)


@contextlib.contextmanager
def job_context(job: str | None) -> Iterator[None]:
    """Log records inside carry ``job_id`` (for workers running a job's stage)."""
    token = job_id.set(job)
    try:
        yield
    finally:
        job_id.reset(token)
