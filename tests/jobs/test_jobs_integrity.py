"""Issue 17, finding 7, through the job system: a finished stage whose artifact
broke in the store is made again by the stage that needs it, instead of failing
the movie (and every retry) for ever; a new film with the same inputs never
gets a truncated movie from the cache."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jobs_fake_providers as fakes
from conftest import JobsEnv, film_bytes, make_reference, wait_movie

from deepflix.db import read_session, session_scope
from deepflix.service import movies
from deepflix.storage import open_store

PROMPT = "A keeper of broken things"


def _run(jobs_env: JobsEnv, mid: str, at_marker: Callable[[str], None] = lambda stage: None) -> Any:
    """Let every held stage go (JOBSTEST_HOLD), calling at_marker first; return the finished movie."""
    deadline = time.monotonic() + 60
    while True:
        with read_session() as s:
            m = movies.get_movie(s, "alice", mid)
            assert m is not None
            if m.status not in ("queued", "running"):
                break
        assert time.monotonic() < deadline, jobs_env.logs()
        for marker in jobs_env.markers.glob("*-*-*[0-9]"):
            go = marker.with_name(marker.name + ".go")
            if not go.exists():
                at_marker(marker.name.split("-")[0])
                go.touch()
        time.sleep(0.02)
    return wait_movie(mid)


def _submit(seed: int) -> str:
    with session_scope() as s:
        return movies.submit_movie(s, "alice", prompt=PROMPT, num_sequences=2, seed=seed, resolution="360p",
                                    providers=fakes.FAKES).id


def _keys(mid: str) -> dict[tuple[str, int | None], str]:
    with read_session() as s:
        m = movies.get_movie(s, "alice", mid)
        assert m is not None
        return {(st.name, st.scene): st.artifact_key for st in m.stages if st.artifact_key}


def test_broken_inputs_are_made_again_by_the_stage_that_needs_them(jobs_env: JobsEnv, inproc_worker: Any) -> None:
    jobs_env.set(JOBSTEST_HOLD="1")
    store = open_store()
    mid = _submit(61)
    broken: list[str] = []

    def break_inputs(stage: str) -> None:
        if stage != "cut" or broken:
            return
        # the cut holds: its inputs are all finished; break two of them under it
        keys = _keys(mid)
        seg0 = keys[("segment", 0)]
        seg_dir: Path = store.local_path(seg0, "segment.bin").parent
        (seg_dir / "segment.bin").unlink()
        pic1 = keys[("picture", 1)]
        (store.local_path(pic1, "picture.png").parent / "result.json").write_text("{garbage")
        broken.extend([seg0, pic1])

    m = _run(jobs_env, mid, break_inputs)
    assert broken
    assert m.status == "succeeded", f"{m.error}\n{jobs_env.logs()}"
    for key in broken:  # made again and stored whole
        assert store.load_verified(key) is not None

    # a new film with the same inputs, after the stored movie was truncated: made again, not served broken
    movie = store.local_path(m.result["files"]["movie"]["key"], "movie.mp4")
    with open(movie, "r+b") as f:
        f.truncate(movie.stat().st_size // 2)
    m2 = _run(jobs_env, _submit(61))
    assert m2.status == "succeeded", f"{m2.error}\n{jobs_env.logs()}"
    assert next(st for st in m2.stages if st.name == "cut").cached is False

    ref = make_reference(jobs_env.tmp, PROMPT, 2, 61)
    want = ref.files["movie"].read_bytes()
    assert film_bytes(m) == want and film_bytes(m2) == want
