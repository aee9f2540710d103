"""The reconciler: the database is the truth, the queue only carries work.

Every maintenance_interval seconds it forces Dramatiq's queue maintenance on
every queue, so a dead worker's unacknowledged messages go back to their queue
as soon as its heartbeat is heartbeat_timeout old (Dramatiq itself only does
that on a random 0.1% of commands). Each full pass (at start, then every
reconcile_interval seconds, one process of the fleet at a time through a Redis
lock):
1. forces that maintenance too;
2. reads every live message (queued, delayed, or in a worker's hands) and sends
   again each stage the database holds as queued or running that none carries
   (a FLUSHALL, a Redis restart without its data, a crash between commit and
   send); a stage younger than reconcile_grace is left alone;
3. dispatches ready stages.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from datetime import timedelta
from typing import Any

from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis
from sqlalchemy import select

from ..db.base import utcnow
from ..db.models import Movie, Stage
from ..db.session import session_scope
from .broker import all_queues, get_broker, key
from .dispatch import dispatch, resend
from .settings import job_settings

log = logging.getLogger("deepflix.jobs")


def _ns(broker: RedisBroker) -> str:
    return str(broker.namespace)


def force_maintenance(broker: RedisBroker) -> None:
    """Run Dramatiq's maintenance (requeue dead workers' messages, expire old dead
    letters) on every queue and delay queue now, through its own Lua script."""
    for q in all_queues():
        for name in (q, f"{q}.DQ"):
            broker.scripts["dispatch"](
                keys=[broker.namespace],
                args=["qsize", current_millis(), name, broker.broker_id, broker.heartbeat_timeout,
                      broker.dead_message_ttl, 1, broker._max_unpack_size()],  # type: ignore[no-untyped-call]
            )


def _decode(raw: Any) -> Message[Any] | None:
    try:
        return Message.decode(raw if isinstance(raw, bytes) else str(raw).encode())
    except Exception:
        return None


def live_messages(broker: RedisBroker) -> list[Message[Any]]:
    """Every message Redis holds that may still run: queued, delayed, or unacked."""
    out = []
    for q in all_queues():
        for name in (q, f"{q}.DQ"):
            for raw in broker.client.hvals(f"{_ns(broker)}:{name}.msgs"):
                msg = _decode(raw)
                if msg is not None:
                    out.append(msg)
    return out


def carried_stage_ids(broker: RedisBroker) -> set[int]:
    ids = set()
    for msg in live_messages(broker):
        if len(msg.args) == 2:
            ids.add(int(msg.args[1]))
    return ids


def reconcile(broker: RedisBroker | None = None, *, grace: float | None = None) -> dict[str, int]:
    """One pass; returns counts (resent, dispatched)."""
    broker = broker or get_broker()
    js = job_settings()
    grace = js.reconcile_grace if grace is None else grace
    force_maintenance(broker)
    carried = carried_stage_ids(broker)  # read before the database: see the grace note above
    cutoff = utcnow() - timedelta(seconds=grace)
    resent = 0
    with session_scope() as s:
        orphans = s.execute(
            select(Stage, Movie)
            .join(Movie, Movie.id == Stage.movie_id)
            .where(Stage.status.in_(("queued", "running")), Movie.status.in_(("queued", "running")),
                   Stage.updated_at < cutoff)
            .order_by(Stage.id)
        ).all()
        for st, movie in orphans:
            if st.id in carried:
                continue
            resend(s, st, movie, f"no live message carried this {st.status} stage")
            resent += 1
    with session_scope() as s:
        dispatched = dispatch(s)
    if resent:
        log.warning("reconciler re-sent %d stage(s) no message carried", resent)
    return {"resent": resent, "dispatched": dispatched}


def dead_letters(broker: RedisBroker | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Messages Dramatiq gave up on (kept dead_message_ttl), newest first."""
    broker = broker or get_broker()
    out: list[dict[str, Any]] = []
    for q in all_queues():
        xq = f"{_ns(broker)}:{q}.XQ"
        entries: list[tuple[bytes, float]] = broker.client.zrevrange(xq, 0, limit - 1, withscores=True)  # type: ignore[assignment]
        for mid, score in entries:
            raw = broker.client.hget(f"{xq}.msgs", mid)
            msg = _decode(raw) if raw else None
            if msg is None:
                continue
            tb = str(msg.options.get("traceback") or "").strip().splitlines()
            out.append({
                "queue": q, "message_id": msg.message_id, "actor": msg.actor_name, "args": list(msg.args),
                "retries": msg.options.get("retries", 0), "failed_at": score / 1000.0,
                "error": tb[-1] if tb else "",
            })
    out.sort(key=lambda d: -d["failed_at"])
    return out[:limit]


def queue_depths(broker: RedisBroker | None = None) -> dict[str, dict[str, int]]:
    broker = broker or get_broker()
    ns, c = _ns(broker), broker.client
    return {q: {"queued": int(c.llen(f"{ns}:{q}")), "delayed": int(c.hlen(f"{ns}:{q}.DQ.msgs")),
                "dead": int(c.zcard(f"{ns}:{q}.XQ"))} for q in all_queues()}


# --------------------------------------------------------------------------- worker registry


def announce_worker(broker: RedisBroker, wid: str, info: dict[str, Any]) -> None:
    """A worker's own heartbeat for the operators' board: a key that expires."""
    ttl = max(1, int(job_settings().heartbeat_timeout))
    broker.client.set(key("worker", wid), json.dumps({**info, "seen": time.time()}), ex=ttl)


def workers_online(broker: RedisBroker | None = None) -> list[dict[str, Any]]:
    broker = broker or get_broker()
    out = []
    for k in broker.client.scan_iter(match=key("worker", "*"), count=200):
        raw = broker.client.get(k)
        if raw:
            out.append(json.loads(raw))
    return sorted(out, key=lambda w: str(w.get("id")))


class Reconciler(threading.Thread):
    """Queue maintenance every maintenance_interval (cheap, idempotent: every
    process may run it); a full pass every reconcile_interval, one process of
    the fleet at a time."""

    def __init__(self, interval: float | None = None, broker: RedisBroker | None = None) -> None:
        super().__init__(name="deepflix-reconciler", daemon=True)
        js = job_settings()
        self.interval = interval or js.reconcile_interval
        self.tick = min(self.interval, js.maintenance_interval)
        self.broker = broker
        self.stopped = threading.Event()
        self.passes = 0

    def run_once(self) -> dict[str, int] | None:
        broker = self.broker or get_broker()
        me = f"{socket.gethostname()}:{os.getpid()}"
        if not broker.client.set(key("reconciler"), me, nx=True, px=int(self.interval * 900)):
            return None  # another process reconciled moments ago
        try:
            return reconcile(broker)
        finally:
            self.passes += 1

    def run(self) -> None:
        next_full = 0.0
        while not self.stopped.is_set():
            try:
                if time.monotonic() >= next_full:
                    next_full = time.monotonic() + self.interval
                    self.run_once()
                else:
                    force_maintenance(self.broker or get_broker())
            except Exception as exc:  # Redis or the database down: try again next tick
                log.warning("reconciler pass failed: %s", exc)
            self.stopped.wait(self.tick)

    def stop(self) -> None:
        self.stopped.set()
