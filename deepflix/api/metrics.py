"""Prometheus metrics for /metrics.

The job metrics are read from the database (the truth) and the broker at scrape
time, so they are right for the whole fleet whichever gateway is scraped, and
need no shared state between worker processes:

  deepflix_jobs{state}                             films by state
  deepflix_stage_duration_seconds{stage}           histogram of finished stages' compute time
  deepflix_stages{stage,state}                     stage rows by state
  deepflix_provider_errors_total{stage,provider}   stages that failed, by provider
  deepflix_queue_depth{queue}                      messages waiting per broker queue
  deepflix_queue_dead{queue}                       dead letters kept per queue

The HTTP metrics are this process's: requests and their latency per route, and
requests refused by the rate limit, quotas or key checks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

log = logging.getLogger("deepflix.api.metrics")

STAGE_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


class JobCollector(Collector):
    """Reads ``snapshot()`` (see jobs.stats.metrics_snapshot) at every scrape."""

    def __init__(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        self.snapshot = snapshot

    def describe(self) -> Iterable[Metric]:
        return []  # families are built at collect time; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        try:
            snap = self.snapshot()
        except Exception as exc:  # a scrape must not fail because the database blinked
            log.warning("metrics snapshot failed: %s", type(exc).__name__)
            up = GaugeMetricFamily("deepflix_jobs_metrics_up", "1 when the job metrics could be read")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("deepflix_jobs_metrics_up", "1 when the job metrics could be read")
        up.add_metric([], 1)
        yield up
        jobs = GaugeMetricFamily("deepflix_jobs", "Films by state", labels=["state"])
        for state, n in sorted(snap["jobs"].items()):
            jobs.add_metric([state], n)
        yield jobs
        stages = GaugeMetricFamily("deepflix_stages", "Stage rows by stage and state", labels=["stage", "state"])
        for (stage, state), n in sorted(snap["stages"].items()):
            stages.add_metric([stage, state], n)
        yield stages
        hist = HistogramMetricFamily(
            "deepflix_stage_duration_seconds", "Compute time of finished stages", labels=["stage"]
        )
        for stage, (cumulative, count, total) in sorted(snap["durations"].items()):
            buckets = [(repr(b), float(n)) for b, n in zip(STAGE_BUCKETS, cumulative)] + [("+Inf", float(count))]
            hist.add_metric([stage], buckets, float(total))
        yield hist
        errs = CounterMetricFamily(
            "deepflix_provider_errors", "Stages that ended failed, by provider", labels=["stage", "provider"]
        )
        for (stage, provider), n in sorted(snap["errors"].items()):
            errs.add_metric([stage, provider or "unknown"], n)
        yield errs
        depth = GaugeMetricFamily("deepflix_queue_depth", "Messages waiting in each broker queue", labels=["queue"])
        dead = GaugeMetricFamily("deepflix_queue_dead", "Dead letters kept for each queue", labels=["queue"])
        for queue, q in sorted(snap["queues"].items()):
            depth.add_metric([queue], q.get("waiting", 0))
            dead.add_metric([queue], q.get("dead", 0))
        yield depth
        yield dead


class Metrics:
    """One registry per app (tests build many apps in one process)."""

    def __init__(self, snapshot: Callable[[], dict[str, Any]] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "deepflix_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "deepflix_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
            registry=self.registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.limited = Counter(
            "deepflix_http_refused", "Requests refused by a limit", ["reason"], registry=self.registry
        )
        for reason in ("rate", "quota", "auth"):
            self.limited.labels(reason)
        if snapshot is not None:
            self.registry.register(JobCollector(snapshot))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        if route.startswith("/docs-static"):
            return
        self.requests.labels(method, route, str(status)).inc()
        if route.endswith("/events"):  # a stream's length is not a latency
            return
        self.latency.labels(method, route).observe(seconds)
