"""Rate limits per key (429 + Retry-After), and a brake on bad keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Gateway, finished_movie, make_gateway


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from make_gateway(
        tmp_path_factory.mktemp("tight"),
        deepflix_rate_per_minute=6.0, deepflix_rate_burst=5,  # a token every 10 s
        deepflix_auth_failures_per_minute=1.0, deepflix_auth_failures_burst=3,
    )


def test_rate_limit_per_key(tight: Gateway) -> None:
    c = tight.client
    codes = [c.get("/api/movies", headers=tight.h("root")).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    r = c.get("/api/movies", headers=tight.h("root"))
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 10
    assert "rate limit" in r.json()["detail"]
    # another key has its own bucket; health needs no key and no token
    assert c.get("/api/health").status_code in (200, 503)


def test_bad_keys_are_braked_per_address(tight: Gateway) -> None:
    c = tight.client
    bad = {"X-API-Key": "dfx_0123456789ab_" + "B" * 43}
    codes = [c.get("/api/movies", headers=bad).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    # a good key from the same address still works
    r = c.get("/api/movies", headers=tight.h("bob"))
    assert r.status_code == 200, r.text


def test_refusals_are_counted_in_metrics(tight: Gateway) -> None:
    text = tight.client.get("/metrics").text
    for reason in ("rate", "auth"):
        lines = [ln for ln in text.splitlines() if ln.startswith(f'deepflix_http_refused_total{{reason="{reason}"}}')]
        assert max(float(ln.split()[-1]) for ln in lines) >= 1, lines


def test_signed_links_share_a_bucket_per_owner(tight: Gateway, tmp_path: Path) -> None:
    """A leaked link cannot be replayed without limit: the owner's links take from one bucket."""
    mid, _ = finished_movie(tight, "alice", tmp_path)
    urls = tight.client.get(f"/api/movies/{mid}", headers=tight.h("alice")).json()["urls"]
    codes = [tight.client.get(urls["poster" if i % 2 else "subtitles_srt"]).status_code for i in range(6)]
    assert codes == [200] * 5 + [429]
    r = tight.client.get(urls["video"])
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 10
