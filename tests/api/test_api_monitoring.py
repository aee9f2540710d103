"""/api/health with a real broker, and /metrics: jobs by state, stage durations,
queue depth, provider errors, HTTP latency; JSON access log lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from conftest import Gateway, make_gateway
from sqlalchemy import update

from deepflix.film.plan import PLAN


@pytest.fixture(scope="module")
def mgw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway whose job queue is a private Redis (no worker: messages wait there)."""
    from deepflix.api.routes import health
    from deepflix.jobs.broker import reset_broker
    from deepflix.jobs.redis_server import start_embedded_redis, stop_embedded_redis

    start_embedded_redis(tmp_path_factory.mktemp("mon-redis"))
    health._cached = None
    try:
        yield from make_gateway(tmp_path_factory.mktemp("mon"))
    finally:
        reset_broker()
        stop_embedded_redis()
        health._cached = None


def test_health_is_ready_with_database_broker_and_storage(mgw: Gateway) -> None:
    r = mgw.client.get("/api/health")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] and body["database"]["ok"] and body["broker"]["ok"] and body["storage"]["ok"]
    assert body["broker"]["detail"] == "redis (embedded)"
    assert body["database"]["detail"].startswith("schema ")
    for stage in PLAN.names:
        assert "provider" in body["providers"][stage]


def _metric(text: str, name: str, **labels: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    raise AssertionError(f"no {name}{labels} in metrics")


def test_metrics_cover_jobs_stages_queues_and_errors(mgw: Gateway) -> None:
    from deepflix import db
    from deepflix.db.models import Stage

    c = mgw.client
    ids = [c.post("/api/movies", json={"prompt": f"metrics {i}"}, headers=mgw.h("alice")).json()["id"] for i in range(3)]
    c.post(f"/api/movies/{ids[0]}/cancel", headers=mgw.h("alice"))
    with db.session_scope() as s:  # one story finished in 2 s, one failed, as a worker would leave them
        s.execute(update(Stage).where(Stage.movie_id == ids[1]).values(status="succeeded", seconds=2.0, provider="builtin/planner"))
        s.execute(update(Stage).where(Stage.movie_id == ids[2]).values(status="failed", provider="builtin/planner", error="x"))
    text = c.get("/metrics").text
    assert _metric(text, "deepflix_jobs", state="queued") == 2
    assert _metric(text, "deepflix_jobs", state="cancelled") == 1
    assert _metric(text, "deepflix_jobs_metrics_up") == 1
    assert _metric(text, "deepflix_stage_duration_seconds_bucket", le="1.0", stage="story") == 0
    assert _metric(text, "deepflix_stage_duration_seconds_bucket", le="2.5", stage="story") == 1
    assert _metric(text, "deepflix_stage_duration_seconds_count", stage="story") == 1
    assert _metric(text, "deepflix_stage_duration_seconds_sum", stage="story") == 2.0
    assert _metric(text, "deepflix_provider_errors_total", stage="story", provider="builtin/planner") == 1
    assert _metric(text, "deepflix_queue_depth", queue="cpu.normal") == 3  # three story messages wait in Redis
    assert _metric(text, "deepflix_queue_dead", queue="gpu.high") == 0
    assert _metric(text, "deepflix_http_requests_total", method="POST", route="/api/movies", status="202") == 3
    assert _metric(text, "deepflix_http_request_duration_seconds_count", method="POST", route="/api/movies") == 3


def test_access_log_lines_are_json_with_request_and_job_ids(mgw: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    from deepflix.api.logs import JsonFormatter

    c = mgw.client
    mid = c.post("/api/movies", json={"prompt": "logged"}, headers=mgw.h("bob")).json()["id"]
    with caplog.at_level(logging.INFO, logger="deepflix.api.access"):
        c.get(f"/api/movies/{mid}", headers={**mgw.h("bob"), "X-Request-ID": "trace-77"})
    rec = next(r for r in caplog.records if r.name == "deepflix.api.access")
    line = json.loads(JsonFormatter().format(rec))
    assert line["request_id"] == "trace-77" and line["job_id"] == mid and line["user"] == "bob"
    assert line["status"] == 200 and line["route"] == "/api/movies/{movie_id}" and line["ms"] >= 0
