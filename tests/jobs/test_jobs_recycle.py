"""A worker process that has grown past DEEPFLIX_WORKER_MAX_RSS_MB hands over to a fresh
one between its stages (jobs/recycle.py): the film finishes byte-identical, no stage is
run twice, and a process is never recycled after its first stage."""

from __future__ import annotations

import jobs_fake_providers as fakes
from conftest import JobsEnv, film_bytes, make_reference, wait_movie

from deepflix.db import session_scope
from deepflix.jobs import recycle
from deepflix.service import movies

PROMPT = "A lighthouse keeper finds a message"


def test_the_limit_is_checked_after_each_stage_but_the_first() -> None:
    recycle.due.clear()
    recycle._finished, recycle._largest_rise = 0, 0.0
    try:
        with recycle.stage_running(limit_mb=0):
            pass
        with recycle.stage_running(limit_mb=0):
            pass
        assert not recycle.due.is_set()  # 0: no limit
        recycle._finished = 0
        with recycle.stage_running(limit_mb=1):
            assert recycle.resident_mb() > 1
        assert not recycle.due.is_set()  # a fresh process's first stage: it would need the same again
        with recycle.stage_running(limit_mb=100_000):
            pass
        assert not recycle.due.is_set()  # under the limit
        with recycle.stage_running(limit_mb=1):
            pass
        assert recycle.due.is_set()
    finally:
        recycle.due.clear()


def test_the_room_a_stage_needed_counts_with_what_the_process_holds() -> None:
    import numpy as np

    recycle.due.clear()
    recycle._finished, recycle._largest_rise = 0, 0.0
    try:
        with recycle.stage_running(limit_mb=100_000):
            big = np.ones(200 * 2**20 // 8)  # 200 MB touched, then freed: the stage's own room
            del big
        assert 190 < recycle._largest_rise < 400, recycle._largest_rise
        held = recycle.resident_mb()
        limit = int(held + 100)  # what it holds is under the limit, but not with the room the stage needed
        with recycle.stage_running(limit_mb=limit):
            pass
        assert recycle.resident_mb() < limit and recycle.due.is_set()
    finally:
        recycle.due.clear()
        recycle._finished, recycle._largest_rise = 0, 0.0


def test_a_grown_worker_hands_over_between_stages(jobs_env: JobsEnv) -> None:
    # 1 MB: every process is over it, so each runs two stages and hands over
    jobs_env.spawn("worker", "--queues", "gpu,cpu", "--processes", "1", "--threads", "1",
                   DEEPFLIX_WORKER_MAX_RSS_MB="1")
    with session_scope() as s:
        mid = movies.submit_movie(s, "alice", prompt=PROMPT, num_sequences=2, seed=7, resolution="360p",
                                  providers=fakes.FAKES).id
    m = wait_movie(mid, timeout=180)
    assert m.status == "succeeded", f"{m.error}\n{jobs_env.logs()}"
    by_process: dict[str, int] = {}
    for st in m.stages:
        pid = st.worker.split(":")[1]
        by_process[pid] = by_process.get(pid, 0) + 1
    assert len(by_process) >= len(m.stages) // 2 and max(by_process.values()) <= 2, by_process
    assert all(st.attempts == 1 for st in m.stages), [(st.label, st.attempts) for st in m.stages]
    ref = make_reference(jobs_env.tmp, PROMPT, 2, 7)
    assert film_bytes(m) == ref.files["movie"].read_bytes()
