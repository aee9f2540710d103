"""The clip stage through the job system (SQLite + the embedded Redis, in-process workers):
its rows exist for the scenes chosen as clips only, a clip that fails for good is a
warning and its scene the still, strict fails the film, the provider's progress is in
the film's events, and a film without clips has no clip rows at all."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jobs_fake_providers as fakes
import pytest
from conftest import JobsEnv, wait_movie

from deepflix import plugins
from deepflix.db import read_session, session_scope
from deepflix.service import movies

CLIP_TESTS = Path(__file__).parents[1] / "clip"


@pytest.fixture
def clip_providers(jobs_env: JobsEnv) -> Iterator[Any]:
    sys.path.insert(0, str(CLIP_TESTS))
    import clip_providers as mod

    try:
        with plugins.registered(mod, "clip-test-providers"):
            yield mod
    finally:
        sys.path.remove(str(CLIP_TESTS))


def _submit(**kw: Any) -> str:
    with session_scope() as s:
        return movies.submit_movie(s, "alice", prompt="A ferry crosses the strait", num_sequences=3, seed=5,
                                    resolution="360p", **kw).id


def _rows(m: Any, name: str) -> list[tuple[int | None, str, bool]]:
    return sorted((st.scene, st.status, st.artifact_key is not None) for st in m.stages if st.name == name)


def test_clip_rows_and_the_fallback_in_the_job_system(clip_providers: Any, jobs_env: JobsEnv,
                                                      inproc_worker: object) -> None:
    plain = wait_movie(_submit(providers=fakes.FAKES))
    assert plain.status == "succeeded", plain.error
    assert _rows(plain, "clip") == [] and plain.result["artifacts"]["clips"] == []
    assert not [w for w in plain.result.get("warnings", []) if w["stage"] == "clip"]
    assert plain.options["providers"].get("clip") in (None, "comfyui/clip")  # the default, installed or not: no rows

    mid = _submit(providers={**fakes.FAKES, "clip": "cliptest/odd-fails"}, clips="all")
    m = wait_movie(mid)
    assert m.status == "succeeded", m.error
    # every scene a clip row; scene 2's failed for good: succeeded without an artifact, with the warning
    assert _rows(m, "clip") == [(0, "succeeded", True), (1, "succeeded", False), (2, "succeeded", True)]
    warnings = [w for w in m.result["warnings"] if w["stage"] == "clip"]  # (the story checker's rows too)
    assert [(w["stage"], w["scene"]) for w in warnings] == [("clip", 1)]
    assert "still picture" in warnings[0]["message"]
    clips = m.result["artifacts"]["clips"]
    assert clips[0] and clips[1] is None and clips[2]
    assert [s.get("motion") for s in m.story["scenes"]] == ["clip", "clip", "clip"]
    # the segments wait for the clips and take them: the fallen-back scene's is the plain film's
    segs, plain_segs = m.result["artifacts"]["segments"], plain.result["artifacts"]["segments"]
    assert segs[1] != plain_segs[1]  # scene 2 leads into scene 3's clip
    clip_done = max(st.finished_at for st in m.stages if st.name == "clip")
    assert all(st.started_at >= clip_done for st in m.stages if st.name == "segment")
    with read_session() as s:
        events = movies.events(s, mid)
        kinds = [(e.kind, e.stage, e.scene) for e in events]
        progress = [e for e in events if e.kind == "progress" and e.stage == "clip"]
    assert ("stage_fallback", "clip", 1) in kinds
    # the provider's progress (at most one event a second, and its end), for the scenes that made a clip
    assert {e.scene for e in progress} == {0, 2} and any(e.data["fraction"] == 1.0 for e in progress)

    # the dry run of a render: the made clips are cached, the failed one is tried again, and the
    # segments that take it (its own, and the one before for the transition) wait for it
    from deepflix.jobs.review import dry_run
    from deepflix.storage import open_store

    prev: dict[str, dict[int, str]] = {}
    for st in m.stages:
        if st.artifact_key:
            prev.setdefault(st.name, {})[st.scene or 0] = st.artifact_key
    plan = dry_run(m.story, m.options, open_store(), {k: [d.get(i) for i in range(max(d) + 1)] for k, d in prev.items()})
    rows = {(r["stage"], r["index"]): r for r in plan["rows"]}
    assert [rows[("clip", i)]["remake"] for i in range(3)] == [False, True, False]
    # (with no earlier clip to stand in for the new one, every segment is counted as waiting on it)
    assert [rows[("segment", i)]["after"] for i in range(2)] == ["clip", "clip"]
    assert rows[("picture", 1)]["remake"] is False and rows[("speech", 1)]["remake"] is False
    assert plan["summary"].startswith("1 clip, ")

    strict = wait_movie(_submit(providers={**fakes.FAKES, "clip": "cliptest/odd-fails"}, clips="all", strict=True))
    assert strict.status == "failed" and "clip (scene 2) failed" in (strict.error or "")


def test_clips_need_an_installed_clip_provider(jobs_env: JobsEnv) -> None:
    """comfyui/clip is installed by default; a film whose providers have no clip stage (none
    installed) and that asks for clips is refused before any work, by the check submit runs."""
    from deepflix.errors import InvalidInput
    from deepflix.film.clips import check_clip_provider
    from deepflix.film.options import FilmOptions

    without = {k: v for k, v in fakes.FAKES.items() if k != "clip"}
    with pytest.raises(InvalidInput, match="image-to-video provider"):
        check_clip_provider(FilmOptions(clips=2), without)
    check_clip_provider(FilmOptions(clips="none"), without)  # no clips asked: nothing needed