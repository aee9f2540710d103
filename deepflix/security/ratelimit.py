"""Token buckets per API key: in memory for one process, in Redis for a fleet of gateways.

A bucket holds at most ``burst`` tokens and refills at ``rate`` tokens a second;
a request takes one. When it is empty the answer says how long until a token is
there (the Retry-After). The Redis bucket is one Lua script, so concurrent
gateways see one bucket, and it uses the Redis server's clock, so their clocks
need not agree.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("deepflix.api.ratelimit")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds until the request would be allowed (0 when allowed)
    remaining: float


class Limiter(Protocol):
    async def take(self, key: str, rate: float, burst: int, cost: float = 1.0) -> Decision: ...


class MemoryLimiter:
    """Buckets in a dict, least recently used dropped past ``max_keys`` (a dropped
    bucket comes back full, which only errs towards allowing)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()
        self.max_keys = max_keys

    def take_sync(self, key: str, rate: float, burst: int, cost: float = 1.0, now: float | None = None) -> Decision:
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(burst), now))
            tokens = min(float(burst), tokens + max(0.0, now - at) * rate)
            if tokens >= cost:
                tokens -= cost
                decision = Decision(True, 0.0, tokens)
            else:
                decision = Decision(False, (cost - tokens) / rate, tokens)
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return decision

    async def take(self, key: str, rate: float, burst: int, cost: float = 1.0) -> Decision:
        return self.take_sync(key, rate, burst, cost)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(retry), tostring(tokens)}
"""


class RedisLimiter:
    """The same bucket in Redis (redis.asyncio). If Redis cannot be reached the
    request is allowed and a warning logged: a limiter outage should not take the
    API down with it, and quotas (in the database) still hold."""

    def __init__(self, url: str, prefix: str = "deepflix:rl:") -> None:
        import redis.asyncio as aioredis

        self.url = url
        self.prefix = prefix
        self._client: Any = aioredis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script: Any = self._client.register_script(_LUA)
        self._warned_at = 0.0

    async def take(self, key: str, rate: float, burst: int, cost: float = 1.0) -> Decision:
        try:
            allowed, retry, tokens = await self._script(keys=[self.prefix + key], args=[rate, burst, cost])
        except Exception as exc:  # redis.RedisError, OSError: fail open, say so now and then
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                log.warning("rate limiter cannot reach Redis (%s); allowing requests", type(exc).__name__)
            return Decision(True, 0.0, float(burst))
        return Decision(bool(int(allowed)), float(retry), float(tokens))

    async def aclose(self) -> None:
        await self._client.aclose()


def open_limiter(redis_url: str | None) -> Limiter:
    return RedisLimiter(redis_url) if redis_url else MemoryLimiter()
