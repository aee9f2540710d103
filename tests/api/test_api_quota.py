"""Quotas per user: films at once, films a day (429 with a message that says which)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import Gateway, make_gateway


@pytest.fixture(scope="module")
def quota(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from make_gateway(tmp_path_factory.mktemp("quota"), deepflix_max_concurrent_jobs=2, deepflix_films_per_day=3)


def test_quotas_concurrent_then_per_day(quota: Gateway) -> None:
    tight = quota
    c = tight.client
    body = {"prompt": "quota test", "num_sequences": 1}
    a = c.post("/api/movies", json=body, headers=tight.h("alice"))
    b = c.post("/api/movies", json=body, headers=tight.h("alice"))
    assert a.status_code == b.status_code == 202
    r = c.post("/api/movies", json=body, headers=tight.h("alice"))
    assert r.status_code == 429 and "most at once is 2" in r.json()["detail"]
    assert int(r.headers["retry-after"]) >= 1
    # bob is not held back by alice's films
    assert c.post("/api/movies", json=body, headers=tight.h("bob")).status_code == 202
    # finishing one (here: cancelling) frees a place ...
    assert c.post(f"/api/movies/{a.json()['id']}/cancel", headers=tight.h("alice")).status_code == 200
    assert c.post("/api/movies", json=body, headers=tight.h("alice")).status_code == 202
    # ... but three started today is the day's quota, cancelled or not
    assert c.post(f"/api/movies/{b.json()['id']}/cancel", headers=tight.h("alice")).status_code == 200
    r = c.post("/api/movies", json=body, headers=tight.h("alice"))
    assert r.status_code == 429 and "in the last 24 hours" in r.json()["detail"]
    assert 3600 < int(r.headers["retry-after"]) <= 86400
    # retrying a cancelled film counts against films at once, not against the day's
    assert c.post(f"/api/movies/{b.json()['id']}/retry", headers=tight.h("alice")).status_code == 202
    r = c.post(f"/api/movies/{a.json()['id']}/retry", headers=tight.h("alice"))
    assert r.status_code == 429 and "most at once" in r.json()["detail"]


    text = c.get("/metrics").text
    line = next(ln for ln in text.splitlines() if ln.startswith('deepflix_http_refused_total{reason="quota"}'))
    assert float(line.split()[-1]) == 3.0
