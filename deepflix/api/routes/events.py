"""Progress as server-sent events, read from the job's event log in the database.

Each event carries the log row's id, so a client that reconnects (EventSource does
that by itself) sends ``Last-Event-ID`` and gets what it missed, nothing twice.
The stream ends after the job's last event once the job has ended, or after
DEEPFLIX_SSE_MAX_SECONDS (the client then reconnects and resumes); a comment
line every 15 s keeps proxies from closing a quiet stream.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from .. import backend
from ..deps import OwnedMovie, settings_of
from .movies import MOVIE_ERRORS

router = APIRouter(prefix="/api/movies", tags=["movies"])
KEEPALIVE_SECONDS = 15.0


def format_event(event_id: int, event: str, data: Any) -> bytes:
    body = json.dumps(data, separators=(",", ":"), default=str)
    return f"id: {event_id}\nevent: {event}\ndata: {body}\n\n".encode()


@router.get(
    "/{movie_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "`id:`, `event:` (the event's type: stage, progress, story, done, failed, ...), "
            "`data:` (JSON) per event; an `end` event closes a finished job's stream.",
        },
        **MOVIE_ERRORS,
    },
    summary="Progress as server-sent events",
)
async def movie_events(
    request: Request,
    movie: OwnedMovie,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", include_in_schema=False)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Resume after this event id "
                                        "(as Last-Event-ID does).")] = None,
) -> StreamingResponse:
    start = after if after is not None else _parse_id(last_event_id)
    s = settings_of(request)
    movie_id = movie["id"]
    owner = movie["owner"]

    async def stream() -> AsyncIterator[bytes]:
        cursor = start
        t0 = last_sent = time.monotonic()
        yield b"retry: 2000\n\n"  # reconnect after 2 s
        while True:
            events, status = await run_in_threadpool(backend.events_after, owner, movie_id, cursor)
            for ev in events:
                cursor = ev["id"]
                yield format_event(ev["id"], ev["type"], ev["data"])
                last_sent = time.monotonic()
            if status is None:  # deleted meanwhile
                yield format_event(cursor, "end", {"status": "deleted"})
                return
            if status in backend.TERMINAL and not events:
                yield format_event(cursor, "end", {"status": status})
                return
            now = time.monotonic()
            if now - t0 >= s.deepflix_sse_max_seconds or await request.is_disconnected():
                return
            if now - last_sent >= KEEPALIVE_SECONDS:
                yield b": keep-alive\n\n"
                last_sent = now
            await asyncio.sleep(min(s.deepflix_sse_poll_seconds, max(0.0, s.deepflix_sse_max_seconds - (now - t0))))

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _parse_id(value: str | None) -> int:
    try:
        return max(0, int(value)) if value else 0
    except ValueError:
        return 0
