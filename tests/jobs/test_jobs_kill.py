"""A worker process is SIGKILLed in the middle of each stage in turn: every
film still finishes, byte-identical to an uninterrupted `deepflix make`.

And a stage that kills its worker every time ends failed after max_attempts
instead of looping."""

from __future__ import annotations

import os
import signal
import time

import jobs_fake_providers as fakes
from conftest import JobsEnv, film_bytes, make_reference, wait_movie

from deepflix.db import read_session, session_scope
from deepflix.service import movies

STAGES = ("story", "speech", "picture", "score", "segment", "cut")


def _submit(seed: int, picture: str = "jobstest/picture") -> str:
    with session_scope() as s:
        return movies.submit_movie(s, "alice", prompt="A keeper of bees", num_sequences=2, seed=seed,
                                    resolution="360p", providers={**fakes.FAKES, "picture": picture}).id


def _status(mid: str) -> str:
    with read_session() as s:
        m = movies.get_movie(s, "alice", mid)
        assert m is not None
        return m.status


def test_sigkill_in_every_stage(jobs_env: JobsEnv) -> None:
    from deepflix.jobs.reconciler import workers_online

    # Every provider waits inside its stage until the test lets it go. The first time
    # a stage of each kind starts, the test SIGKILLs that worker instead (once another
    # worker process is up, so a warm one takes the message back after the heartbeat
    # timeout while the supervisor replaces the dead process).
    jobs_env.set(JOBSTEST_HOLD="1")
    jobs_env.spawn("worker", "--queues", "gpu,cpu", "--processes", "3", "--threads", "1")
    mids = [_submit(31), _submit(32)]
    killed: dict[str, int] = {}
    deadline = time.monotonic() + 150
    while any(_status(m) in ("queued", "running") for m in mids):
        assert time.monotonic() < deadline, f"films did not finish (killed {killed}):\n" + jobs_env.logs()
        alive = {w["pid"] for w in workers_online()} - set(killed.values())
        for marker in jobs_env.markers.glob("*-*-*[0-9]"):
            stage, _, pid = marker.name.split("-")
            go = marker.with_name(marker.name + ".go")
            if go.exists():
                continue
            if stage in killed:
                go.touch()
            elif int(pid) in alive and len(alive - {int(pid)}) >= 1:
                os.kill(int(pid), signal.SIGKILL)
                killed[stage] = int(pid)
                go.touch()  # (nobody is waiting on it any more)
                alive.discard(int(pid))
        time.sleep(0.05)
    assert set(killed) == set(STAGES), killed
    for seed, mid in zip((31, 32), mids):
        m = wait_movie(mid)
        assert m.status == "succeeded", m.error
        ref = make_reference(jobs_env.tmp, "A keeper of bees", 2, seed)
        assert film_bytes(m) == ref.files["movie"].read_bytes()
        assert m.result["artifacts"]["cut"] == ref.keys["cut"]
    with read_session() as s:
        attempts = {(st.name, st.scene, st.movie_id): st.attempts for mid in mids for st in movies.stages_of(s, mid)}
    for stage in STAGES:  # the kill cost the stage it hit one attempt, and the stage was done again
        assert max(n for (name, _, _), n in attempts.items() if name == stage) == 2, attempts
    assert sum(attempts.values()) == 2 * 9 + len(STAGES), attempts  # and nothing else was lost


def test_a_stage_that_always_kills_its_worker_ends_failed(jobs_env: JobsEnv) -> None:
    jobs_env.set(DEEPFLIX_MAX_ATTEMPTS="2")
    mid = _submit(41, picture="jobstest/killer-picture")
    jobs_env.spawn("worker", "--queues", "gpu,cpu", "--processes", "2", "--threads", "1")
    m = wait_movie(mid, timeout=90)
    assert m.status == "failed", jobs_env.logs()
    assert "gave up after 2 attempts" in m.error and "worker died" in m.error
    pictures = [s for s in m.stages if s.name == "picture"]
    assert any(s.status == "failed" and s.attempts == 3 for s in pictures)
