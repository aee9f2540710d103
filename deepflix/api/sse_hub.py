"""Progress streams share one database poll per film, and a key holds few streams.

Without this every open stream polled the database twice a second on its own: one
key holding 300 streams cost 600 queries a second. Now a film has one ``FilmFeed``
while anyone listens: it polls ``service.movies.events_after`` once per tick and keeps the
events it saw since it started; each listener reads from that buffer, and only a
listener that resumes from before the feed began reads its backlog itself, once.

Streams are counted per API key in this gateway (``StreamSlots``): past
DEEPFLIX_SSE_MAX_STREAMS_PER_KEY the route answers 429.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.concurrency import run_in_threadpool

from ..service import movies

PAGE = 500  # events_after's page size: a full page means more are waiting
KEEP = 2000  # events a feed keeps for its listeners (a slower listener re-reads its gap)
TERMINAL = ("succeeded", "failed", "cancelled", "awaiting_review")  # a progress stream ends at these


class StreamSlots:
    """Open streams per key; ``take`` is False when the key already holds ``limit``."""

    def __init__(self) -> None:
        self.open: dict[str, int] = {}

    def take(self, key_id: str, limit: int) -> bool:
        if self.open.get(key_id, 0) >= limit:
            return False
        self.open[key_id] = self.open.get(key_id, 0) + 1
        return True

    def give(self, key_id: str) -> None:
        n = self.open.get(key_id, 0) - 1
        if n > 0:
            self.open[key_id] = n
        else:
            self.open.pop(key_id, None)


@dataclass
class Tick:
    events: list[dict[str, Any]]
    status: str | None


class FilmFeed:
    """One poller for one film, alive while it has listeners."""

    def __init__(self, owner: str, movie_id: str, start: int, poll: Callable[[], float],
                 on_idle: Callable[[FilmFeed], None]) -> None:
        self.owner, self.movie_id = owner, movie_id
        self.base = start  # the buffer holds every event after this id
        self.cursor = start  # ... up to this one
        self.buffer: list[dict[str, Any]] = []
        self.status: str | None = "queued"
        self.quiet = False  # the last poll found no new events
        self.polled = 0  # polls done (listeners wait for the next one)
        self.error: BaseException | None = None
        self.listeners = 0
        self.changed = asyncio.Condition()
        self.poll_seconds = poll
        self.on_idle = on_idle
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"sse-feed-{self.movie_id}")

    async def _run(self) -> None:
        try:
            while self.listeners > 0:
                try:
                    events, status = await run_in_threadpool(movies.events_after, self.owner, self.movie_id, self.cursor)
                except Exception as exc:  # noqa: BLE001 (the listeners end their streams; a reconnect makes a new feed)
                    self.error = exc
                    events, status = [], self.status
                if events:
                    self.cursor = events[-1]["id"]
                    self.buffer.extend(events)
                    if len(self.buffer) > KEEP:
                        drop = len(self.buffer) - KEEP
                        self.base = self.buffer[drop - 1]["id"]
                        del self.buffer[:drop]
                self.status, self.quiet = status, not events
                self.polled += 1
                async with self.changed:
                    self.changed.notify_all()
                if self.error is not None or status is None or (status in TERMINAL and not events):
                    return
                if len(events) < PAGE:
                    await asyncio.sleep(self.poll_seconds())
        finally:
            self.on_idle(self)

    def after(self, cursor: int) -> list[dict[str, Any]]:
        return [e for e in self.buffer if e["id"] > cursor]

    async def wait(self, seen: int, timeout: float) -> None:
        """Until a poll after the ``seen``-th one, or ``timeout`` seconds."""
        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(lambda: self.polled > seen or self.task is None
                                                             or self.task.done()), timeout)
            except TimeoutError:
                pass


class FeedHub:
    """The films being watched in this gateway: (owner, movie id) -> its feed."""

    def __init__(self, poll_seconds: Callable[[], float]) -> None:
        self.feeds: dict[tuple[str, str], FilmFeed] = {}
        self.poll_seconds = poll_seconds
        self.slots = StreamSlots()
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop its feeds run in (routes/events.py)

    def _drop(self, feed: FilmFeed) -> None:
        if self.feeds.get((feed.owner, feed.movie_id)) is feed:
            del self.feeds[(feed.owner, feed.movie_id)]

    async def listen(self, owner: str, movie_id: str, start: int, max_wait: float
                     ) -> AsyncIterator[tuple[str, Any]]:
        """Yields ("event", ev) in id order, ("tick", None) after each poll with nothing new for
        this listener, and finally ("end", status) when the film is over or gone."""
        feed = self.feeds.get((owner, movie_id))
        if feed is None or feed.task is None or feed.task.done():
            feed = FilmFeed(owner, movie_id, start, self.poll_seconds, self._drop)
            self.feeds[(owner, movie_id)] = feed
            feed.listeners += 1
            feed.start()
        else:
            feed.listeners += 1
        cursor = start
        try:
            while True:
                if cursor < feed.base:  # resumed from before the feed's buffer: read the gap once
                    events, status = await run_in_threadpool(movies.events_after, owner, movie_id, cursor)
                    if status is None:
                        yield "end", None
                        return
                    for ev in events:
                        cursor = ev["id"]
                        yield "event", ev
                    if events:
                        continue
                    cursor = max(cursor, feed.base)  # nothing stored in the gap
                seen = feed.polled
                new = feed.after(cursor)
                for ev in new:
                    cursor = ev["id"]
                    yield "event", ev
                if feed.error is not None:
                    raise feed.error
                done = feed.task is not None and feed.task.done()
                if feed.status is None and done:
                    yield "end", None
                    return
                if done and cursor >= feed.cursor and (feed.status in TERMINAL and feed.quiet):
                    yield "end", feed.status
                    return
                if done:  # the feed stopped for another reason: follow a fresh one
                    async for item in self.listen(owner, movie_id, cursor, max_wait):
                        yield item
                    return
                if not new:
                    yield "tick", None
                await feed.wait(seen, max_wait)
        finally:
            feed.listeners -= 1
