"""JSON logs that carry the request id and the job id.

``request_id``, ``job_id``, ``user`` and ``job_context`` are core's
(``deepflix.core.logcontext``, re-exported here): the gateway's middleware sets
them, and every record logged inside that context carries them, also from
threads started with ``contextvars.copy_context()`` (asyncio and anyio do that).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from ..core.logcontext import job_context, job_id, request_id, user

# LogRecord's own attributes: everything else on a record came from `extra=` and is logged as a field
_RESERVED = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message", "asctime", "taskName", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, extras, and the
    exception's type and text (the traceback only when ``tracebacks`` is on: logs
    shipped to a shared system should not hold source paths)."""

    def __init__(self, tracebacks: bool = True) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, var in (("request_id", request_id), ("job_id", job_id), ("user", user)):
            value = getattr(record, name, None) or var.get()
            if value:
                out[name] = value
        for key, value in vars(record).items():
            if key not in _RESERVED and key not in out and not key.startswith("_") and value is not None:
                out[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info and record.exc_info[0] is not None:
            out["error_type"] = record.exc_info[0].__name__
            out["error"] = str(record.exc_info[1])
            if self.tracebacks:
                out["traceback"] = self.formatException(record.exc_info)
        return redact(json.dumps(out, ensure_ascii=False))  # extras and errors may hold a URL too


# query parameters that carry secrets: signed media links (?token=), keys sent by mistake (?api_key=),
# presigned S3 URLs; the value is replaced, the name kept so the line still says what was sent
_SECRET_QUERY = re.compile(
    r"(?i)([?&;](?:token|access_token|api[_-]?key|apikey|key|secret|password|passwd|signature|sig|"
    r"x-amz-(?:signature|credential|security-token))=)[^&;\s\"'#]*"
)


def redact(text: str) -> str:
    return _SECRET_QUERY.sub(r"\1[redacted]", text)


class RedactingFilter(logging.Filter):
    """On a handler: every record it writes (uvicorn's access log writes the path with its
    query string) has secret query values replaced. The record is rewritten once, in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: leave it to the formatter to report
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def redact_logs(handlers: list[logging.Handler] | None = None) -> None:
    """Put the filter on these handlers (default: every handler our loggers and the root
    write to, and logging's last resort), once each."""
    if handlers is None:
        handlers = [logging.lastResort] if logging.lastResort else []
        for name in ("", "deepflix", "uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq"):
            handlers.extend(logging.getLogger(name).handlers)
    for h in handlers:
        if not any(isinstance(f, RedactingFilter) for f in h.filters):
            h.addFilter(RedactingFilter())


def configure_json_logging(level: int | str = logging.INFO, stream: Any = None) -> logging.Handler:
    """Route the deepflix and uvicorn loggers to one JSON handler on stderr."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    for name in ("deepflix", "uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(level)
        lg.propagate = False
    return handler

__all__ = ["JsonFormatter", "RedactingFilter", "configure_json_logging", "job_context", "job_id", "redact", "redact_logs", "request_id", "user"]
