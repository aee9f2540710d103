"""The story checker's warnings and the QA report in the job system, as in `deepflix make`:
a story with planted contradictions gives the same warnings in film.json and in the job's
result; the QA report (a fake cut's bytes cannot be measured) says why, and the API shows it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jobs_fake_providers as fakes
import pytest
from conftest import JobsEnv, wait_movie
from fastapi import HTTPException

from deepflix.api.routes.quality import qa_report
from deepflix.db import session_scope
from deepflix.models import Story
from deepflix.service import movies, public

BAD = Path(__file__).parents[1] / "quality" / "data" / "lighthouse_bad.json"


def test_warnings_in_film_json_and_in_the_job_result(jobs_env: JobsEnv, inproc_worker: object) -> None:
    from deepflix.pipeline import FilmOptions, make_film
    from deepflix.storage import LocalStore

    data = json.loads(BAD.read_text())
    story = Story.model_validate(data["story"])
    ref = make_film(None, story=story, opts=FilmOptions(resolution="360p", providers=fakes.FAKES),  # type: ignore[arg-type]
                    out_dir=jobs_env.tmp / "ref", store=LocalStore(jobs_env.tmp / "ref-store"))
    warnings = json.loads(ref.files["manifest"].read_text())["warnings"]
    assert len(warnings) == len(data["planted"]), warnings
    assert any("stars" in w["message"] for w in warnings) and any("whose father" in w["message"] for w in warnings), warnings
    assert {w["stage"] for w in warnings} == {"story"}

    with session_scope() as s:
        mid = movies.submit_movie(s, "alice", prompt=story.prompt or "a film", num_sequences=len(story.scenes),
                                   resolution="360p", providers=fakes.FAKES, story=story).id
    m = wait_movie(mid)
    assert m.status == "succeeded", m.error
    assert m.result["warnings"] == warnings
    # the fake cut's movie.mp4 is not a video: the report says so, and the film is still done
    assert "error" in m.result["qa"] and "checks" not in m.result["qa"]
    shown = public.movie_public(public.record(m))
    assert shown.qa is not None and shown.qa.passed is None and shown.qa.error
    assert shown.artifacts["qa"] == f"/api/movies/{mid}/qa"
    whole = asyncio.run(qa_report(public.record(m)))
    assert whole["movie"] == mid and whole["error"] == m.result["qa"]["error"]


def test_no_report_before_the_film_is_done(jobs_env: JobsEnv) -> None:
    with session_scope() as s:
        m = movies.submit_movie(s, "alice", prompt="A lighthouse keeper finds a message", num_sequences=2,
                                 resolution="360p", providers=fakes.FAKES)
        movie = public.record(m)
    assert public.movie_public(movie).qa is None
    with pytest.raises(HTTPException) as exc:
        asyncio.run(qa_report(movie))
    assert exc.value.status_code == 409
