"""Every route x (no key, wrong key, owner, another user): 401 / 401 / 2xx / 404
(routes on no particular movie give another user their own empty view, 2xx).
An action refused to another user changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Gateway, finished_movie


@pytest.fixture(scope="module")
def movies(gw: Gateway, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    done, _ = finished_movie(gw, "alice", tmp_path_factory.mktemp("films"))
    queued = gw.client.post("/api/movies", json={"prompt": "to cancel"}, headers=gw.h("alice")).json()["id"]
    return {"done": done, "queued": queued}


BODY = {"prompt": "a fox learns to sail", "num_sequences": 2}
WRONG = "dfx_0123456789ab_" + "A" * 43  # well-formed, unknown


def _routes(m: dict[str, str]) -> list[tuple[str, str, dict[str, Any], int, bool]]:
    """(method, path, kwargs, owner's status, per-movie)"""
    d, q = m["done"], m["queued"]
    return [
        ("GET", "/api/movies", {}, 200, False),
        ("GET", "/api/movies?status=succeeded", {}, 200, False),
        ("GET", f"/api/movies/{d}", {}, 200, True),
        ("GET", f"/api/movies/{d}/events", {}, 200, True),
        ("GET", f"/api/movies/{d}/video", {}, 200, True),
        ("GET", f"/api/movies/{d}/video", {"headers": {"Range": "bytes=0-9"}}, 206, True),
        ("GET", f"/api/movies/{d}/subtitles.srt", {}, 200, True),
        ("GET", f"/api/movies/{d}/subtitles.vtt", {}, 200, True),
        ("GET", f"/api/movies/{d}/poster.jpg", {}, 200, True),
        ("POST", f"/api/movies/{q}/cancel", {}, 200, True),
        ("POST", f"/api/movies/{q}/retry", {}, 202, True),  # after the cancel above
        ("POST", "/api/movies", {"json": BODY}, 202, False),
        ("DELETE", f"/api/movies/{q}", {}, 204, True),  # last: it removes the film
    ]


def _call(gw: Gateway, method: str, path: str, kw: dict[str, Any], headers: dict[str, str]) -> Any:
    kw = dict(kw)
    kw["headers"] = {**kw.get("headers", {}), **headers}
    return gw.client.request(method, path, **kw)


def test_authorisation_matrix(gw: Gateway, movies: dict[str, str]) -> None:
    results = []
    for method, path, kw, owner_status, per_movie in _routes(movies):
        for who, headers in (("none", {}), ("wrong", {"X-API-Key": WRONG}), ("garbage", {"Authorization": "Bearer x"})):
            r = _call(gw, method, path, kw, headers)
            results.append((method, path, who, r.status_code, 401))
            assert r.headers.get("www-authenticate") == "Bearer", (method, path, who)
        r = _call(gw, method, path, kw, gw.h("bob"))
        results.append((method, path, "bob", r.status_code, 404 if per_movie else owner_status))
        if per_movie:
            assert "among yours" in r.json()["detail"]
        r = _call(gw, method, path, kw, {"Authorization": f"Bearer {gw.keys['alice']}"})
        results.append((method, path, "alice", r.status_code, owner_status))
    wrong = [x for x in results if x[3] != x[4]]
    assert not wrong, "\n".join(f"{m} {p} as {w}: got {got}, expected {exp}" for m, p, w, got, exp in wrong)


def test_refused_actions_change_nothing(gw: Gateway) -> None:
    c = gw.client
    mid = c.post("/api/movies", json={"prompt": "mine alone"}, headers=gw.h("alice")).json()["id"]
    for method, path in (("POST", "cancel"), ("POST", "retry"), ("DELETE", "")):
        r = c.request(method, f"/api/movies/{mid}/{path}".rstrip("/"), headers=gw.h("bob"))
        assert r.status_code == 404
    r = c.get(f"/api/movies/{mid}", headers=gw.h("alice"))
    assert r.status_code == 200 and r.json()["status"] == "queued"
    # bob's list never shows alice's films
    ids = [m["id"] for m in c.get("/api/movies?limit=100", headers=gw.h("bob")).json()["items"]]
    assert mid not in ids


def test_open_routes_need_no_key(gw: Gateway) -> None:
    assert gw.client.get("/metrics").status_code == 200
    assert gw.client.get("/api/health").status_code in (200, 503)  # 503: no Redis in this module
    assert gw.client.get("/openapi.json").status_code == 200


def test_admin_routes_refuse_users(gw: Gateway) -> None:
    c = gw.client
    assert c.get("/api/admin/queue").status_code == 401
    assert c.get("/api/admin/queue", headers=gw.h("alice")).status_code == 403
    r = c.get("/api/admin/queue", headers=gw.h("root"))
    assert r.status_code == 200 and "movies" in r.json()
