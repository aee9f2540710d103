"""The gateway's own settings: limits and quotas per API key.

Kept apart from deepflix.core.config (the lead's) so the gateway can grow knobs
without touching the shared contract. Read at call time through ``api_settings()``
so tests can change the environment and call ``reload_api_settings()``;
``create_app(settings=...)`` takes an explicit instance too.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # rate limit per API key: a token bucket refilled at rate_per_minute, holding at most rate_burst
    deepflix_rate_per_minute: float = Field(600.0, gt=0, description="requests per minute per API key")
    deepflix_rate_burst: int = Field(120, ge=1, description="requests a key may make at once")
    # unauthenticated callers with a bad key, per client address (slows key guessing)
    deepflix_auth_failures_per_minute: float = Field(60.0, gt=0)
    deepflix_auth_failures_burst: int = Field(30, ge=1)
    # quotas per user (an API key row may override them)
    deepflix_max_concurrent_jobs: int = Field(3, ge=1, description="unfinished films per user")
    deepflix_films_per_day: int = Field(50, ge=1, description="films a user may start in 24 hours")
    deepflix_max_prompt_chars: int = Field(2000, ge=1, le=2000)
    # server-sent events: a stream closes after this long; EventSource reconnects with Last-Event-ID
    deepflix_sse_max_seconds: float = Field(600.0, gt=0)
    deepflix_sse_poll_seconds: float = Field(0.5, gt=0)
    # a verified key is remembered this long (saves a database read per request; revocation waits this long
    # in other processes, and is immediate in the one that revoked)
    deepflix_key_cache_seconds: float = Field(10.0, ge=0)
    # where each request comes from, for the audit log: trust X-Forwarded-For only behind a proxy
    deepflix_trust_forwarded: bool = False
    # mount the seed's per-stage endpoints in the gateway
    deepflix_mount_stage_services: bool = True
    # security limits (README "Security limits"): bodies refused with 413 before they are read
    deepflix_max_body_bytes: int = Field(1_048_576, ge=1024, description="largest request body (JSON and forms)")
    deepflix_max_upload_bytes: int = Field(20_971_520, ge=1024, description="largest multipart/binary upload body")
    # open progress streams per API key in this gateway (429 beyond)
    deepflix_sse_max_streams_per_key: int = Field(4, ge=1)
    # /metrics: answered from a cache this long; a bearer token when set
    deepflix_metrics_cache_seconds: float = Field(5.0, ge=0)
    deepflix_metrics_token: SecretStr | None = None
    # the seed's stage endpoints run on small pools of their own (api/stage_pool.py)
    deepflix_stage_workers_voice: int = Field(2, ge=1, le=64, description="threads for /generate-voice")
    deepflix_stage_workers_images: int = Field(1, ge=1, le=64, description="threads for /generateImages")
    deepflix_stage_workers_story: int = Field(2, ge=1, le=64, description="threads for /generate-cinematic-story")
    deepflix_stage_queue: int = Field(8, ge=0, le=1000, description="calls per kind that may wait for a thread")
    deepflix_stage_inflight_per_key: int = Field(2, ge=1, le=64, description="stage calls in flight per key and kind")
    deepflix_voice_max_chars: int = Field(2000, ge=1, le=5000, description="longest text /generate-voice speaks")
    # which providers users may pick per stage (security/allowlist.py): "story=builtin/planner,openai/chat;picture=*"
    deepflix_user_providers: str = Field("", description="providers open to user keys per stage")
    deepflix_voice_chars_per_request: int = Field(100, ge=1, description="a voice call costs one request per this many characters")


_settings: ApiSettings | None = None


def api_settings() -> ApiSettings:
    global _settings
    if _settings is None:
        _settings = ApiSettings()
    return _settings


def reload_api_settings() -> ApiSettings:
    global _settings
    _settings = ApiSettings()
    return _settings
