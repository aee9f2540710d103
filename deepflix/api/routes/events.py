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
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import StreamingResponse

from ..deps import CurrentUser, OwnedMovie, settings_of, too_many
from ..sse_hub import FeedHub
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
    who: CurrentUser,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", include_in_schema=False)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Resume after this event id "
                                        "(as Last-Event-ID does).")] = None,
) -> StreamingResponse:
    start = after if after is not None else _parse_id(last_event_id)
    s = settings_of(request)
    movie_id = movie["id"]
    owner = movie["owner"]

    hub = feed_hub(request.app, s)
    if not hub.slots.take(who.key_id, s.deepflix_sse_max_streams_per_key):
        raise too_many(f"this key already holds {s.deepflix_sse_max_streams_per_key} progress streams in this gateway "
                       "(DEEPFLIX_SSE_MAX_STREAMS_PER_KEY); close one and retry", KEEPALIVE_SECONDS)

    async def stream() -> AsyncIterator[bytes]:
        cursor = start
        t0 = last_sent = time.monotonic()
        yield b"retry: 2000\n\n"  # reconnect after 2 s
        # one database poll per film, shared by all its listeners (sse_hub.py)
        async for kind, item in hub.listen(owner, movie_id, start, max_wait=s.deepflix_sse_poll_seconds * 4):
            if kind == "event":
                cursor = item["id"]
                yield format_event(item["id"], item["type"], item["data"])
                last_sent = time.monotonic()
                continue
            if kind == "end":
                yield format_event(cursor, "end", {"status": item or "deleted"})
                return
            now = time.monotonic()
            if now - t0 >= s.deepflix_sse_max_seconds or await request.is_disconnected():
                return
            if now - last_sent >= KEEPALIVE_SECONDS:
                yield b": keep-alive\n\n"
                last_sent = now

    return SlotStreamingResponse(
        stream(),
        release=lambda: hub.slots.give(who.key_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


class SlotStreamingResponse(StreamingResponse):
    """Gives the key's stream slot back however the stream ends (also when the client
    left before the body began, so the generator never ran)."""

    def __init__(self, content: Any, release: Callable[[], None], **kw: Any) -> None:
        super().__init__(content, **kw)
        self.release = release

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()


def feed_hub(app: Any, s: Any) -> FeedHub:
    """The app's hub for the event loop serving it (feeds are tasks of one loop; tests run an app in several)."""
    loop = asyncio.get_running_loop()
    hub = getattr(app.state, "sse_hub", None)
    if hub is None or hub.loop is not loop:
        hub = app.state.sse_hub = FeedHub(lambda: s.deepflix_sse_poll_seconds)
        hub.loop = loop
    return hub


def _parse_id(value: str | None) -> int:
    try:
        return max(0, int(value)) if value else 0
    except ValueError:
        return 0
