"""Progress as server-sent events: ids from the event log, Last-Event-ID resumes,
live events arrive while the stream is open, the stream ends when the job ends."""

from __future__ import annotations

import json
import threading
import time

from conftest import Gateway


def parse_sse(text: str) -> list[dict[str, object]]:
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":") or ": " not in line:
                continue
            k, v = line.split(": ", 1)
            fields[k] = v
        if "event" in fields:
            events.append({"id": int(fields["id"]), "event": fields["event"], "data": json.loads(fields["data"])})
    return events


def _submit(gw: Gateway) -> str:
    r = gw.client.post("/api/movies", json={"prompt": "watch me being made", "num_sequences": 2}, headers=gw.h("alice"))
    assert r.status_code == 202
    return str(r.json()["id"])


def test_stream_of_a_running_job_sends_its_log_and_closes_after_the_max(gw: Gateway) -> None:
    mid = _submit(gw)
    t0 = time.monotonic()
    r = gw.client.get(f"/api/movies/{mid}/events", headers=gw.h("alice"))
    took = time.monotonic() - t0
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.text.startswith("retry: 2000\n\n")
    events = parse_sse(r.text)
    assert [e["event"] for e in events][:2] == ["submitted", "stage_queued"]
    assert events[0]["data"]["movie_id"] == mid and events[1]["data"]["stage"] == "story"
    assert [e["id"] for e in events] == sorted({e["id"] for e in events})
    assert "end" not in [e["event"] for e in events]  # still queued: the client will reconnect
    assert 1.5 < took < 10  # DEEPFLIX_SSE_MAX_SECONDS=2 in these tests


def test_last_event_id_resumes_after_it(gw: Gateway) -> None:
    mid = _submit(gw)
    gw.client.post(f"/api/movies/{mid}/cancel", headers=gw.h("alice"))
    everything = parse_sse(gw.client.get(f"/api/movies/{mid}/events", headers=gw.h("alice")).text)
    first = everything[0]["id"]
    resumed = parse_sse(gw.client.get(f"/api/movies/{mid}/events",
                                      headers={**gw.h("alice"), "Last-Event-ID": str(first)}).text)
    assert [e["id"] for e in resumed] == [e["id"] for e in everything[1:]]
    by_query = parse_sse(gw.client.get(f"/api/movies/{mid}/events?after={first}", headers=gw.h("alice")).text)
    assert [e["id"] for e in by_query] == [e["id"] for e in resumed]


def test_stream_ends_when_the_job_ends(gw: Gateway) -> None:
    mid = _submit(gw)
    got: dict[str, object] = {}

    def listen() -> None:
        t0 = time.monotonic()
        r = gw.client.get(f"/api/movies/{mid}/events", headers=gw.h("alice"))
        got["events"], got["took"] = parse_sse(r.text), time.monotonic() - t0

    t = threading.Thread(target=listen)
    t.start()
    time.sleep(0.4)  # the stream is open and has sent the log so far
    assert gw.client.post(f"/api/movies/{mid}/cancel", headers=gw.h("alice")).status_code == 200
    t.join(10)
    events = got["events"]
    assert isinstance(events, list)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "submitted" and "movie_cancelled" in kinds
    assert kinds[-1] == "end" and events[-1]["data"] == {"status": "cancelled"}
    assert float(got["took"]) < 1.8  # ended by the cancel, not by the 2 s cap  # type: ignore[arg-type]
