"""A submission dispatches its own owner's stages only (it made nobody else's ready, and
nobody else's room changed), so its write transaction reads one owner's rows; the
reconciler's and a finished stage's dispatch still send everybody's."""

from __future__ import annotations

import jobs_fake_providers as fakes
from conftest import JobsEnv
from sqlalchemy import select, update

from deepflix.db import read_session, session_scope
from deepflix.db.models import Movie, Stage
from deepflix.jobs.dispatch import dispatch
from deepflix.service import movies


def _story_status(movie_id: str) -> str:
    with read_session() as s:
        return s.scalars(select(Stage.status).where(Stage.movie_id == movie_id, Stage.name == "story")).one()


def test_a_submission_sends_its_owners_stages_and_leaves_others_to_the_global_dispatch(jobs_env: JobsEnv) -> None:
    with session_scope() as s:
        a = movies.submit_movie(s, "alice", prompt="a", resolution="360p", providers=fakes.FAKES).id
    assert _story_status(a) == "queued"
    with session_scope() as s:  # as if alice's story were still waiting for room
        s.execute(update(Stage).where(Stage.movie_id == a).values(status="ready", message_id=None))
    with session_scope() as s:
        b = movies.submit_movie(s, "bob", prompt="b", resolution="360p", providers=fakes.FAKES).id
        assert s.get(Movie, b) is not None
    assert _story_status(b) == "queued"
    assert _story_status(a) == "ready"  # bob's submission did not read or send alice's rows
    with session_scope() as s:
        assert dispatch(s) == 1
    assert _story_status(a) == "queued"
