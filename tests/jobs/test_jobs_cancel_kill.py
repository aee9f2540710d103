"""Cancelling or deleting a film stops its running stage (issue 17, finding 4): the
ffmpeg the stage's worker started is ended, not left encoding for nobody."""

from __future__ import annotations

import time

import jobs_fake_providers as fakes
import psutil
from conftest import JobsEnv

from deepflix.db import read_session, session_scope
from deepflix.service import movies


def _submit(seed: int) -> str:
    with session_scope() as s:
        return movies.submit_movie(s, "alice", prompt="A film that is stopped", num_sequences=1, seed=seed,
                                    resolution="360p",
                                    providers={**fakes.FAKES, "segment": "jobstest/encoding-segment"}).id


def _test_ffmpegs(worker: psutil.Process) -> list[psutil.Process]:
    out = []
    for p in worker.children(recursive=True):
        try:
            if "testsrc=size=32x18" in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.Error:
            pass
    return out


def _wait_for(cond, timeout: float, what: str, env: JobsEnv):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        assert time.monotonic() < deadline, f"{what}\n" + env.logs()
        time.sleep(0.1)


def _gone(p: psutil.Process) -> bool:
    try:
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_delete_and_cancel_mid_segment_end_its_ffmpeg(jobs_env: JobsEnv) -> None:
    jobs_env.set(DEEPFLIX_CANCEL_POLL="0.2")
    worker = psutil.Process(jobs_env.spawn("worker", "--queues", "gpu,cpu", "--processes", "1", "--threads", "2").pid)
    for action, seed in (("delete", 1), ("cancel", 2)):
        mid = _submit(seed)
        ffmpeg = _wait_for(lambda: _test_ffmpegs(worker), 60, f"no segment ffmpeg started ({action})", jobs_env)[0]
        with session_scope() as s:  # what DELETE /api/movies/{id} and POST .../cancel call
            if action == "delete":
                assert movies.delete_movie(s, "alice", mid)
            else:
                assert movies.cancel_movie(s, "alice", mid) is not None
        # the ffmpeg would run 120 s more; it is ended as soon as the worker sees the change
        _wait_for(lambda ffmpeg=ffmpeg: _gone(ffmpeg), 20, f"ffmpeg kept running after the {action}", jobs_env)
        with read_session() as s:
            m = movies.get_movie(s, "alice", mid)
            assert (m is None) if action == "delete" else (m is not None and m.status == "cancelled")
            if m is not None:
                assert {st.status for st in m.stages if st.name == "segment"} == {"cancelled"}
    assert worker.is_running() and not _test_ffmpegs(worker)  # the worker lives on, nothing left behind
