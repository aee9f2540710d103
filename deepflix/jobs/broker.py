"""The broker: Dramatiq on Redis, its queues and its actors.

Queues are ``<kind>.<tier>``: kind ``gpu`` (pictures) or ``cpu`` (story, speech,
score, segments, cut), tier ``high`` / ``normal`` / ``low`` from the movie's
priority. Each (stage, tier) pair is its own actor, because Dramatiq orders a
worker's local work by the actor's priority: a worker that holds messages of
several tiers runs the higher tier first.

Redis is REDIS_URL in a fleet; on one machine the private server `deepflix
serve` starts (see redis_server.py), found by its socket in the data dir.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    CurrentMessage,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from ..core import config
from ..db.models import PRIORITIES
from ..errors import DeepFlixError
from ..film.plan import current as current_plan
from .redis_server import default_socket, embedded_redis
from .settings import job_settings, time_limit

log = logging.getLogger("deepflix.jobs")

KINDS = ("gpu", "cpu")
NOTIFY_ACTOR = "notify"  # the webhook's actor (webhook.py)
NOTIFY_QUEUE = "cpu.high"  # small and urgent: ahead of the films
TIER_PRIORITY = {"high": 0, "normal": 50, "low": 100}  # Dramatiq runs lower numbers first


class BrokerUnavailable(DeepFlixError):
    """No Redis to talk to."""


def queue_for(stage: str, priority: str) -> str:
    return f"{current_plan()[stage].kind}.{priority}"


def all_queues() -> list[str]:
    return [f"{k}.{t}" for k in KINDS for t in PRIORITIES]


def expand_queues(spec: str) -> set[str]:
    """``gpu``, ``cpu``, ``gpu,cpu`` or full names like ``gpu.high`` -> queue names."""
    names: set[str] = set()
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if part in KINDS:
            names.update(f"{part}.{t}" for t in PRIORITIES)
        elif part in all_queues():
            names.add(part)
        else:
            raise DeepFlixError(f"unknown queue {part!r}; use gpu, cpu or one of {', '.join(all_queues())}")
    if not names:
        raise DeepFlixError("no queues given; use gpu, cpu or gpu,cpu")
    return names


def actor_name(stage: str, tier: str) -> str:
    return f"{stage}_{tier}"


def redis_url() -> str:
    s = config.settings
    if s.redis_url:
        return s.redis_url
    emb = embedded_redis()
    if emb is not None:
        return emb.url
    sock = default_socket(s.deepflix_data_dir)
    if sock.exists():
        return f"unix://{sock}"
    raise BrokerUnavailable("no Redis for the job queue: set REDIS_URL, or start `deepflix serve` (it runs a private one)")


# The actors' bodies. tasks.py and webhook.py hand theirs in when they are imported
# (deepflix.jobs imports them, through worker.py, before any of its modules is used),
# so the broker, which they send through, never imports them back.
_handlers: dict[str, Callable[..., None]] = {}
STAGE_HANDLER = "stage"  # every stage's actors run this one: tasks.execute


def handle(name: str, fn: Callable[..., None]) -> None:
    """Register an actor body: ``STAGE_HANDLER`` for the stages, or an actor of ``_extra_actors``."""
    _handlers[name] = fn


def _handler(name: str) -> Callable[..., None]:
    fn = _handlers.get(name)
    if fn is None:
        raise DeepFlixError(f"no handler for the {name!r} actor: import deepflix.jobs before consuming")
    return fn


def _actor_fn(stage: str) -> Callable[[str, int], None]:
    def run(movie_id: str, stage_id: int) -> None:
        _handler(STAGE_HANDLER)(movie_id, stage_id)

    run.__name__ = run.__qualname__ = f"run_{stage}"
    run.__module__ = __name__
    return run


def declare_actors(broker: RedisBroker) -> None:
    """One actor per (stage, tier) of the plan in force; a stage a plan gained
    later is declared on the next call (the workers look actors up per message)."""
    js = job_settings()
    for st in current_plan():
        for tier in PRIORITIES:
            if actor_name(st.name, tier) in broker.actors:
                continue
            dramatiq.Actor(
                _actor_fn(st.name),
                broker=broker,
                actor_name=actor_name(st.name, tier),
                queue_name=queue_for(st.name, tier),
                priority=TIER_PRIORITY[tier],
                options={
                    # the database counts attempts and decides when to give up
                    # (tasks.py); Dramatiq's own limit is only a backstop
                    "max_retries": js.max_attempts + 2,
                    "min_backoff": int(js.min_backoff * 1000),
                    "max_backoff": int(js.max_backoff * 1000),
                    "time_limit": int(time_limit(st.name) * 1000),
                },
            )


def make_broker(url: str | None = None) -> RedisBroker:
    js = job_settings()
    # health checks make a pooled connection that a Redis restart broke reconnect
    # instead of failing the next command
    client = redis.Redis(connection_pool=redis.ConnectionPool.from_url(url or redis_url(), health_check_interval=10))
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        client=client,
        namespace=js.redis_namespace,
        heartbeat_timeout=int(js.heartbeat_timeout * 1000),
        maintenance_chance=js.maintenance_chance,
        dead_message_ttl=int(js.dead_message_ttl * 1000),
        middleware=[AgeLimit(), TimeLimit(), ShutdownNotifications(), CurrentMessage(), Retries()],
    )
    declare_actors(broker)

    def notify(movie_id: str) -> None:
        _handler(NOTIFY_ACTOR)(movie_id)

    dramatiq.Actor(notify, broker=broker, actor_name=NOTIFY_ACTOR, queue_name=NOTIFY_QUEUE, priority=0,
                   options={"max_retries": 8, "min_backoff": 1000, "max_backoff": 300_000, "time_limit": 60_000})
    return broker


_lock = threading.Lock()
_broker: RedisBroker | None = None


def get_broker() -> RedisBroker:
    """This process's broker, made from the settings on first use."""
    global _broker
    with _lock:
        if _broker is None:
            _broker = make_broker()
            dramatiq.set_broker(_broker)
        declare_actors(_broker)
        return _broker


def set_broker(broker: RedisBroker | None) -> None:
    global _broker
    with _lock:
        old, _broker = _broker, broker
        if broker is not None:
            dramatiq.set_broker(broker)
    if old is not None and old is not broker:
        old.client.close()


def reset_broker() -> None:
    set_broker(None)


def stage_message(movie_id: str, stage_id: int, stage: str, priority: str) -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name=queue_for(stage, priority),
        actor_name=actor_name(stage, priority),
        args=(movie_id, stage_id),
        kwargs={},
        options={},
    )


def notify_message(movie_id: str) -> dramatiq.Message[Any]:
    """The webhook call of a finished film (webhook.notify runs it)."""
    return dramatiq.Message(queue_name=NOTIFY_QUEUE, actor_name=NOTIFY_ACTOR, args=(movie_id,), kwargs={}, options={})


def key(*parts: str) -> str:
    """A Redis key of ours (not Dramatiq's): ``<namespace>:jobs:<parts>``."""
    return ":".join([job_settings().redis_namespace, "jobs", *parts])
