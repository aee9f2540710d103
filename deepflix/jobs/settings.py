"""The job system's settings (environment / .env, prefix DEEPFLIX_).

They live here rather than in core/config.py so this area can evolve them on
its own; they are re-read whenever core's settings are reloaded.

Recovery of a killed worker's message takes heartbeat_timeout (the worker's
last heartbeat must be that old) plus at most maintenance_interval (the
reconciler thread forces Dramatiq's queue maintenance on every queue that
often), plus about a second for a live consumer to fetch it: 30-33 s with these
defaults (bench/recovery.py; Dramatiq's own defaults, a 60 s timeout and
maintenance on 0.1% of commands, took 679 s here).
"""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class JobSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEEPFLIX_", env_file=".env", extra="ignore")

    # broker
    redis_namespace: str = Field("deepflix", description="prefix of every Redis key the job system writes")
    heartbeat_timeout: float = Field(30.0, gt=0, description="s without a heartbeat before a worker is dead")
    maintenance_chance: int = Field(10_000, ge=0, le=1_000_000, description="per million Redis commands")
    dead_message_ttl: float = Field(14 * 86400.0, gt=0, description="s dead letters are kept")
    maintenance_interval: float = Field(2.0, gt=0, description="s between forced queue maintenance passes")
    reconcile_interval: float = Field(10.0, gt=0, description="s between reconciler passes")
    reconcile_grace: float = Field(15.0, ge=0, description="s a queued stage may wait for its message")

    # retries and limits
    max_attempts: int = Field(4, ge=1, le=50, description="tries of one stage (a killed worker counts)")
    min_backoff: float = Field(2.0, gt=0, description="s before the first retry of a failed stage")
    max_backoff: float = Field(120.0, gt=0)
    owner_inflight: int = Field(8, ge=1, description="stages one owner may have queued or running per queue kind")
    cancel_poll: float = Field(1.0, gt=0, description="s between a running stage's checks that its film still wants it")

    # webhooks (security/netguard.py): let them reach loopback and private addresses (a receiver on your network)
    webhook_allow_private: bool = False

    # workers
    worker_threads: int = Field(2, ge=1, le=64)
    worker_processes: int = Field(1, ge=1, le=64)
    plugins: str = Field("", description="extra provider modules (comma-separated) worker processes register")

    def time_limit(self, stage: str) -> float:
        """s one attempt of a stage may run: DEEPFLIX_TIME_LIMIT_<STAGE>, else the plan's."""
        from ..film.plan import current

        value = os.environ.get(f"DEEPFLIX_TIME_LIMIT_{stage.upper()}")
        return float(value) if value else current()[stage].time_limit


_cached: tuple[object, JobSettings] | None = None


def job_settings() -> JobSettings:
    """The current settings; rebuilt when core's settings object was reloaded."""
    global _cached
    from ..core import config

    core = config.settings
    if _cached is None or _cached[0] is not core:
        _cached = (core, JobSettings())
    return _cached[1]
