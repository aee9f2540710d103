"""JSON log lines carry the request id and the job id from context variables."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import threading

from deepflix.api import logs


def _logger(stream: io.StringIO) -> logging.Logger:
    lg = logging.getLogger("deepflix.test.jsonlog")
    lg.handlers[:] = []
    h = logging.StreamHandler(stream)
    h.setFormatter(logs.JsonFormatter(tracebacks=False))
    lg.addHandler(h)
    lg.setLevel(logging.INFO)
    lg.propagate = False
    return lg


def test_json_lines_carry_ids_extras_and_errors_without_tracebacks() -> None:
    buf = io.StringIO()
    lg = _logger(buf)
    token = logs.request_id.set("req-1")
    try:
        with logs.job_context("job-42"):
            lg.info("stage %s done", "picture", extra={"scene": 3, "seconds": 1.5})
            # a thread started with the context copied keeps the ids (asyncio/anyio do this)
            ctx = contextvars.copy_context()
            t = threading.Thread(target=ctx.run, args=(lg.warning, "from a thread"))
            t.start()
            t.join()
        try:
            raise ValueError("bad value 7")
        except ValueError:
            lg.exception("it failed")
    finally:
        logs.request_id.reset(token)
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert lines[0]["message"] == "stage picture done"
    assert lines[0]["job_id"] == "job-42" and lines[0]["request_id"] == "req-1"
    assert lines[0]["scene"] == 3 and lines[0]["seconds"] == 1.5 and lines[0]["level"] == "info"
    assert lines[1]["job_id"] == "job-42" and lines[1]["message"] == "from a thread"
    assert "job_id" not in lines[2] and lines[2]["error_type"] == "ValueError" and lines[2]["error"] == "bad value 7"
    assert "traceback" not in lines[2]
