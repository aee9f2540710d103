"""The job system: movies as Dramatiq jobs on Redis, with the truth in SQL.

- broker.py / redis_server.py: Redis (REDIS_URL, or a private embedded one) and the actors
- state.py / dispatch.py: the movie's state machine, fan-in and fair dispatch
- compute.py / tasks.py: one stage, built exactly as `deepflix make` builds it
- reconciler.py: re-sends what the queue lost; dead letters; worker registry
- worker.py / cli.py: `deepflix worker`, and the in-process workers of `deepflix serve`
- stats.py: jobs by state, stage timings, queue depths (the queue board, /metrics)

The front ends reach it through the movie service (deepflix/service/), which is its facade.
"""

from .redis_server import start_embedded_redis, stop_embedded_redis
from .worker import JobServices, start_services

__all__ = ["JobServices", "start_embedded_redis", "start_services", "stop_embedded_redis"]
