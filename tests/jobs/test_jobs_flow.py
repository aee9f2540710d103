"""A film through the job system on one machine (SQLite, the embedded Redis,
worker threads in process): same bytes as `deepflix make`, events, retries,
failure, cancel, retry from stored work, and the queue's losses repaired."""

from __future__ import annotations

import time

import jobs_fake_providers as fakes
import pytest
from conftest import JobsEnv, film_bytes, make_reference, wait_movie

from deepflix.db import read_session, session_scope
from deepflix.errors import InvalidInput
from deepflix.jobs.errors import JobStateError
from deepflix.jobs.stats import queue_stats
from deepflix.service import movies, public


def submit(seed: int = 7, scenes: int = 2, owner: str = "alice", **kw: object) -> str:
    providers = {**fakes.FAKES, **kw.pop("providers", {})}  # type: ignore[dict-item]
    with session_scope() as s:
        m = movies.submit_movie(s, owner, prompt="A lighthouse keeper finds a message", num_sequences=scenes,
                                 seed=seed, resolution="360p", providers=providers, **kw)  # type: ignore[arg-type]
        return m.id


def kinds(movie_id: str) -> list[str]:
    with read_session() as s:
        return [e.kind for e in movies.events(s, movie_id)]


def test_film_matches_make_film(jobs_env: JobsEnv, inproc_worker: object) -> None:
    mid = submit(seed=7)
    m = wait_movie(mid)
    assert m.status == "succeeded", m.error
    ref = make_reference(jobs_env.tmp, "A lighthouse keeper finds a message", 2, 7)
    assert m.result["artifacts"]["cut"] == ref.keys["cut"]
    assert film_bytes(m) == ref.files["movie"].read_bytes()
    assert m.story == ref.story.model_dump(mode="json")  # the timed story, as film.json has it
    ev = kinds(mid)
    assert ev[0] == "submitted" and ev[-1] == "movie_done"
    assert ev.count("fan_in") == 4  # the pictures (after the cast), the score, the segments, the cut
    assert sorted((s.name, s.scene) for s in m.stages if s.status == "succeeded") == sorted(
        [("story", None), ("score", None), ("cut", None)] + [(n, i) for n in ("picture", "speech", "segment") for i in (0, 1)]
        + [("cast", i) for i in range(len(m.story["characters"]))])
    view = public.movie_public(public.record(m))  # what the API and `deepflix jobs show` answer
    assert movies.find("alice", mid) == public.record(m)  # the status read's plain SELECTs: the same record
    n_rows = 9 + len(m.story["characters"])
    assert view.progress == 1.0 and sum(st.done for st in view.stages) == sum(st.total for st in view.stages) == n_rows


def test_someone_elses_movie_is_not_found(jobs_env: JobsEnv) -> None:
    mid = submit()
    assert movies.find("bob", mid) is None and movies.find("alice", mid) is not None
    assert movies.find_for_link(mid)["owner"] == "alice"  # type: ignore[index]
    with session_scope() as s:
        assert movies.get_movie(s, "bob", mid) is None
        assert movies.cancel_movie(s, "bob", mid) is None
        assert movies.retry_movie(s, "bob", mid) is None
        assert movies.delete_movie(s, "bob", mid) is False
        assert movies.list_movies(s, "bob").total == 0
        page = movies.list_movies(s, "alice", status="queued")
        assert [m.id for m in page.items] == [mid] and page.total == 1


@pytest.mark.parametrize("field,value,needle", [
    ("prompt", "   ", "prompt"), ("num_sequences", 0, "num_sequences"), ("genre", "western", "genre"),
    ("sampler", "nope", "sampler"), ("resolution", "8k", "resolution"), ("priority", "urgent", "priority"),
])
def test_bad_input_is_refused_and_changes_nothing(jobs_env: JobsEnv, field: str, value: object, needle: str) -> None:
    body = {"prompt": "a film", "num_sequences": 2, field: value}
    with session_scope() as s, pytest.raises(InvalidInput, match=needle):
        movies.submit_movie(s, "alice", **body)  # type: ignore[arg-type]
    with session_scope() as s:
        assert movies.list_movies(s, "alice").total == 0


def test_transient_failure_is_retried_with_backoff(jobs_env: JobsEnv, inproc_worker: object) -> None:
    jobs_env.set(JOBSTEST_FLAKY="2")
    fakes.FlakyPicture.failures = 0
    mid = submit(seed=3, providers={"picture": "jobstest/flaky-picture"})
    m = wait_movie(mid)
    assert m.status == "succeeded", m.error
    assert sum(s.attempts for s in m.stages if s.name == "picture") == 4  # two scenes, two failures
    assert kinds(mid).count("stage_retry") == 2


def test_failure_keeps_work_and_retry_resumes(jobs_env: JobsEnv, inproc_worker: object) -> None:
    jobs_env.set(JOBSTEST_FLAKY="1000", DEEPFLIX_MAX_ATTEMPTS="2")
    fakes.FlakyPicture.failures = 0
    mid = submit(seed=4, providers={"picture": "jobstest/flaky-picture"})
    m = wait_movie(mid)
    assert m.status == "failed" and "picture (scene" in m.error and "service is down" in m.error
    done_before = {(s.name, s.scene): s.artifact_key for s in m.stages if s.status == "succeeded"}
    assert ("story", None) in done_before and ("speech", 0) in done_before
    # the score needs only speech, so it may have finished (and is kept); what needs pictures was cancelled
    assert {s.status for s in m.stages if s.name in ("segment", "cut")} == {"cancelled"}
    assert {s.status for s in m.stages if s.name == "score"} <= {"cancelled", "succeeded"}

    jobs_env.set(JOBSTEST_FLAKY="0")
    with session_scope() as s:
        assert movies.retry_movie(s, "alice", mid) is not None
        with pytest.raises(JobStateError):
            movies.retry_movie(s, "alice", mid)  # not failed any more
    m = wait_movie(mid)
    assert m.status == "succeeded", m.error
    for s in m.stages:
        if (s.name, s.scene) in done_before:  # kept, not redone
            assert s.artifact_key == done_before[(s.name, s.scene)] and s.attempts == 1


def test_cancel_stops_the_movie(jobs_env: JobsEnv) -> None:
    mid = submit()
    with session_scope() as s:
        assert movies.cancel_movie(s, "alice", mid) is not None
    with session_scope() as s:
        with pytest.raises(JobStateError):
            movies.cancel_movie(s, "alice", mid)
        m = movies.get_movie(s, "alice", mid)
        assert m is not None and m.status == "cancelled"
        assert {st.status for st in movies.stages_of(s, mid)} == {"cancelled"}
        assert movies.delete_movie(s, "alice", mid)
    with read_session() as s:
        assert movies.get_movie(s, "alice", mid) is None
        assert movies.events(s, mid) == []


def test_flushall_mid_job_is_repaired_by_the_reconciler(jobs_env: JobsEnv, inproc_worker: object) -> None:
    from deepflix.jobs.broker import get_broker

    jobs_env.set(JOBSTEST_SLEEP="0.3")
    mids = [submit(seed=s) for s in (11, 12)]
    time.sleep(1.0)  # stages queued and running
    get_broker().client.flushall()
    for mid in mids:
        m = wait_movie(mid, timeout=60)
        assert m.status == "succeeded", m.error
    assert any("stage_resent" in kinds(mid) for mid in mids)


def test_redis_restart_mid_job_loses_nothing(jobs_env: JobsEnv, inproc_worker: object) -> None:
    from deepflix.jobs.redis_server import start_embedded_redis, stop_embedded_redis

    jobs_env.set(JOBSTEST_SLEEP="0.3")
    mid = submit(seed=21)
    time.sleep(1.0)
    stop_embedded_redis()
    time.sleep(1.0)
    start_embedded_redis(jobs_env.data)  # appendonly: the queue comes back as it was
    m = wait_movie(mid, timeout=60)
    assert m.status == "succeeded", m.error


def test_dead_letters_are_kept_and_listed(jobs_env: JobsEnv, inproc_worker: object) -> None:
    from deepflix.jobs.broker import get_broker
    from deepflix.jobs.reconciler import dead_letters

    broker = get_broker()
    broker.get_actor("score_normal").send("no-such-movie")  # a malformed message: the actor raises TypeError
    deadline = time.monotonic() + 30
    while not (letters := dead_letters(broker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert letters and letters[0]["actor"] == "score_normal" and "TypeError" in letters[0]["error"]
    with read_session() as s:
        stats = queue_stats(s)
    assert stats["dead_letters"]["count"] == 1 and stats["broker"]["ok"]
    assert stats["workers"] and stats["workers"][0]["threads"] == 2


def test_webhook_is_signed_and_retried(jobs_env: JobsEnv, inproc_worker: object) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from deepflix.jobs.webhook import sign

    calls: list[tuple[dict[str, str], bytes]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            calls.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(500 if len(calls) == 1 else 204)  # the first call fails: it must be retried
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    jobs_env.set(DEEPFLIX_WEBHOOK_ALLOW_PRIVATE="1")  # the receiver is on loopback, refused by default
    try:
        mid = submit(seed=61, webhook_url=f"http://127.0.0.1:{srv.server_port}/hook")
        assert wait_movie(mid).status == "succeeded"
        deadline = time.monotonic() + 20
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        srv.shutdown()
    assert len(calls) == 2
    headers, body = calls[1]
    assert headers["X-DeepFlix-Event"] == "movie.succeeded"
    assert headers["X-DeepFlix-Signature"] == sign(body, headers["X-DeepFlix-Timestamp"])
    assert json.loads(body)["id"] == mid and json.loads(body)["urls"]["movie"] == f"/api/movies/{mid}/video"
    assert kinds(mid).count("webhook_failed") == 1 and kinds(mid)[-1] == "webhook"
    with read_session() as s:  # each attempt recorded, with its number and answer
        attempts = [(e.kind, e.data) for e in movies.events(s, mid) if e.kind.startswith("webhook")]
    assert attempts == [("webhook_failed", {"attempt": 1, "status": 500}), ("webhook", {"attempt": 2, "status": 204})]
