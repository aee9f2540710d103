"""The built-in providers through the job system: a worker is SIGKILLed while
ffmpeg encodes a scene, and the film is still byte-identical to `deepflix make`
(which also shows the cut is deterministic from run to run)."""

from __future__ import annotations

import hashlib
import os
import signal
import time

import pytest
from conftest import JobsEnv, film_bytes, wait_movie
from sqlalchemy import select

from deepflix.db import Stage, read_session, session_scope
from deepflix.service import movies

PROMPT = "A lighthouse keeper finds a message in a bottle"


@pytest.mark.slow
def test_real_film_survives_a_kill_mid_encode(jobs_env: JobsEnv) -> None:
    from deepflix.core import config
    from deepflix.models import GenerationParams, StoryRequest
    from deepflix.pipeline import FilmOptions, make_film
    from deepflix.storage import LocalStore

    jobs_env.spawn("worker", "--queues", "gpu,cpu", "--processes", "2", "--threads", "1")
    with session_scope() as s:  # the built-in providers: no `providers=`
        mid = movies.submit_movie(s, "alice", prompt=PROMPT, num_sequences=2, seed=5, resolution="360p").id
    killed = None
    deadline = time.monotonic() + 240
    while killed is None:
        assert time.monotonic() < deadline, jobs_env.logs()
        with read_session() as s:
            st = s.scalars(select(Stage).where(Stage.movie_id == mid, Stage.name == "segment",
                                               Stage.status == "running")).first()
        if st is not None and st.worker:
            time.sleep(0.3)  # ffmpeg is encoding the scene now
            killed = int(st.worker.split(":")[1])
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    m = wait_movie(mid, timeout=240)
    assert m.status == "succeeded", f"{m.error}\n{jobs_env.logs()}"
    assert max(s.attempts for s in m.stages if s.name == "segment") == 2

    opts = FilmOptions(resolution="360p", params=GenerationParams(seed=5),
                       loudness_lufs=config.settings.deepflix_loudness_lufs)
    ref = make_film(StoryRequest(prompt=PROMPT, num_scenes=2, seed=5), opts=opts, out_dir=jobs_env.tmp / "ref",
                    store=LocalStore(jobs_env.tmp / "ref-store"))
    assert m.result["artifacts"]["cut"] == ref.keys["cut"]
    got, want = film_bytes(m), ref.files["movie"].read_bytes()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(want).hexdigest()
    # the job system measured the film as `deepflix qa` does (issue 24): the same report, every check passed
    from deepflix.quality import by_segment
    from deepflix.quality.qa import measure
    from deepflix.storage import open_store

    # each segment's picture was measured by the worker that encoded it, beside the encode
    assert all(open_store().load_result(by_segment.stretches_key(k)) for k in m.result["artifacts"]["segments"])
    assert m.result["qa"] == measure(ref.files["movie"], ref.files["srt"], ref.story, opts.loudness_lufs, hearing=False)
    assert m.result["qa"]["passed"], m.result["qa"]
    assert "warnings" not in m.result  # a planner story: nothing the checker finds
