"""The seed's per-stage endpoints: behind the keys in the gateway, and alone as
their own services with an open /health."""

from __future__ import annotations

import pytest
from conftest import Gateway
from fastapi.testclient import TestClient

from deepflix.film.plan import PLAN

STORY = {"genre": "noir", "prompt": "a detective and a lost umbrella", "num_scenes": 2, "seed": 3}


def test_gateway_mounts_the_stage_endpoints_behind_keys(gw: Gateway) -> None:
    c = gw.client
    assert c.post("/generate-cinematic-story", json=STORY).status_code == 401
    r = c.post("/generate-cinematic-story", json=STORY, headers=gw.h("bob"))
    assert r.status_code == 200, r.text
    assert len(r.json()["scenes"]) == 2
    assert c.post("/generate-voice", json={"text": "hello"}).status_code == 401
    assert c.post("/generateImages", json={}).status_code == 401
    assert c.get("/health").status_code == 404  # the gateway's health is /api/health
    assert r.headers["x-content-type-options"] == "nosniff"


def test_gateway_health_reports_each_provider(gw: Gateway) -> None:
    body = gw.client.get("/api/health").json()
    assert body["database"]["ok"] and body["storage"]["ok"]
    assert not body["broker"]["ok"] and "REDIS_URL" in body["broker"]["detail"]  # no Redis in this module
    assert set(body["providers"]) == set(PLAN.names)
    assert all("ok" in p for p in body["providers"].values())


@pytest.mark.parametrize("name,path,body", [
    ("story", "/generate-cinematic-story", STORY),
    ("voice", "/generate-voice", {"text": "Hello there."}),
])
def test_standalone_stage_service(gw: Gateway, name: str, path: str, body: dict[str, object]) -> None:
    from deepflix.api.stages import build

    with TestClient(build(name), raise_server_exceptions=False) as c:
        h = c.get("/health")
        assert h.status_code == 200 and h.json()["ok"] in (True, False)
        assert h.headers["content-security-policy"].startswith("default-src 'self'")
        assert c.post(path, json=body).status_code == 401
        assert c.post(path, json=body, headers={"X-API-Key": "dfx_0123456789ab_" + "C" * 43}).status_code == 401
        r = c.post(path, json=body, headers=gw.h("alice"))
        assert r.status_code == 200, r.text[:300]
        assert r.headers["x-request-id"]
