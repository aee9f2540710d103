"""Bad input gets a clear 422 naming the field; errors never show stack traces,
paths or secrets; every response carries the security headers."""

from __future__ import annotations

import pytest
from conftest import Gateway

GOOD = {"prompt": "a lighthouse keeper finds a message in a bottle", "genre": "noir", "num_sequences": 3,
        "seed": 7, "sampler": "dpmpp_2m", "steps": 30, "cfg_scale": 6.5}


@pytest.mark.parametrize(
    "change,field,words",
    [
        ({"prompt": ""}, "prompt", "at least 1 character"),
        ({"prompt": "   "}, "prompt", "must not be blank"),
        ({"prompt": "x" * 2001}, "prompt", "at most 2000 characters"),
        ({"prompt": "bell\x07"}, "prompt", "control characters"),
        ({"num_sequences": 0}, "num_sequences", "greater than or equal to 1"),
        ({"num_sequences": 61}, "num_sequences", "less than or equal to 60"),
        ({"steps": 0}, "steps", "greater than or equal to 1"),
        ({"steps": 151}, "steps", "less than or equal to 150"),
        ({"cfg_scale": 0.5}, "cfg_scale", "greater than or equal to 1"),
        ({"cfg_scale": 30.5}, "cfg_scale", "less than or equal to 30"),
        ({"sampler": "magic"}, "sampler", "'euler'"),
        ({"genre": "western"}, "genre", "'noir'"),
        ({"seed": -1}, "seed", "greater than or equal to 0"),
        ({"seed": 2**40}, "seed", "less than or equal to"),
        ({"resolution": "8k"}, "resolution", "'1080p'"),
        ({"priority": "urgent"}, "priority", "'high'"),
        ({"userId": "mallory"}, "userId", "the user is the API key's owner"),
        ({"owner": "alice"}, "owner", "Extra inputs are not permitted"),
        ({"providers": {"story": "nonexistent/llm"}}, "providers", "no story provider named"),
        ({"providers": {"lighting": "x"}}, "providers", "'story'"),
        ({"clips": 0}, "clips", "greater than or equal to 1"),
        ({"clips": "some"}, "clips", "'none'"),
        ({"clips": 2, "providers": {"clip": "nonexistent/i2v"}}, "providers", "no clip provider named"),
    ],
)
def test_bad_fields_get_422_naming_the_field(gw: Gateway, change: dict[str, object], field: str, words: str) -> None:
    r = gw.client.post("/api/movies", json={**GOOD, **change}, headers=gw.h("alice"))
    assert r.status_code == 422, r.text
    errs = r.json()["detail"]
    assert any(field in [str(p) for p in e["loc"]] and words in e["msg"] for e in errs), errs
    assert all(set(e) == {"loc", "msg", "type"} for e in errs)  # the input is not echoed back


def test_good_body_and_the_seeds_userid_are_accepted(gw: Gateway) -> None:
    r = gw.client.post("/api/movies", json={**GOOD, "userId": "alice"}, headers=gw.h("alice"))
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/api/movies/{r.json()['id']}"
    req = gw.client.get(r.headers["location"], headers=gw.h("alice")).json()["request"]
    assert {k: req[k] for k in GOOD} == GOOD


@pytest.mark.parametrize("body", ["not json", "[]", "null", '{"prompt": 5}'])
def test_malformed_bodies(gw: Gateway, body: str) -> None:
    r = gw.client.post("/api/movies", content=body, headers={**gw.h("alice"), "Content-Type": "application/json"})
    assert r.status_code == 422


def test_bad_query_and_path_values(gw: Gateway) -> None:
    c, h = gw.client, gw.h("alice")
    assert c.get("/api/movies?limit=0", headers=h).status_code == 422
    assert c.get("/api/movies?limit=101", headers=h).status_code == 422
    assert c.get("/api/movies?status=done", headers=h).status_code == 422
    assert c.get("/api/movies/" + "x" * 65, headers=h).status_code == 422
    assert c.get("/api/movies/abc$", headers=h).status_code == 422
    assert c.get("/api/movies/no-such-film", headers=h).status_code == 404


def test_unexpected_errors_are_a_bare_500(gw: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    app = gw.client.app

    async def boom() -> None:
        raise RuntimeError("failed opening /srv/deepflix/secret.db with password hunter2")

    app.add_api_route("/api/_boom", boom)  # type: ignore[attr-defined]
    r = gw.client.get("/api/_boom", headers={"X-Request-ID": "req-123"})
    assert r.status_code == 500
    text = r.text
    assert "hunter2" not in text and "/srv" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert r.json() == {"detail": "internal error; the server logged it (request req-123)"}
    assert r.headers["x-request-id"] == "req-123"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert any("hunter2" in str(rec.exc_info[1]) for rec in caplog.records if rec.exc_info)  # the log has it


@pytest.mark.parametrize("path,key", [("/api/movies", True), ("/api/movies", False), ("/api/health", False),
                                      ("/nowhere", False), ("/openapi.json", False)])
def test_security_headers_on_every_response(gw: Gateway, path: str, key: bool) -> None:
    r = gw.client.get(path, headers=gw.h("alice") if key else {})
    h = r.headers
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer"
    csp = h["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "http" not in csp  # no CDN anywhere
    assert len(h["x-request-id"]) == 32


def test_docs_are_served_without_a_cdn(gw: Gateway) -> None:
    r = gw.client.get("/docs")
    assert r.status_code == 200
    assert "http" not in r.text.replace("http-equiv", "")
    assert "<script>" not in r.text  # no inline script: the page passes its CSP
    assert "'unsafe-inline'" not in r.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    for asset in ("/docs-static/swagger-ui-bundle.js", "/docs-static/swagger-ui.css", "/docs-static/init.js"):
        assert gw.client.get(asset).status_code == 200, asset
    assert gw.client.get("/redoc").status_code == 200
