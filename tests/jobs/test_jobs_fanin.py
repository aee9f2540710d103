"""The fan-in happens exactly once however many scenes finish at the same moment."""

from __future__ import annotations

import threading

import jobs_fake_providers as fakes
from conftest import JobsEnv
from sqlalchemy import select

from deepflix.db import read_session, session_scope
from deepflix.db.models import Event, Stage
from deepflix.jobs import state
from deepflix.jobs.broker import get_broker
from deepflix.jobs.reconciler import live_messages
from deepflix.service import movies


def story_dict(n: int) -> dict:
    return {
        "title": "Fan-in", "genre": "drama", "seed": 1,
        "scenes": [{"scene_description": f"s{i}", "atmosphere": "calm", "setting": "coast", "narration": f"Scene {i}."}
                   for i in range(n)],
    }


def storm(n_scenes: int, owner: str = "fan") -> None:
    """Finish every picture and speech of a movie from 2n threads released together."""
    with session_scope() as s:
        movie = movies.submit_movie(s, owner, prompt="fan-in", story=story_dict(n_scenes), resolution="360p",
                                      providers=fakes.FAKES)
        mid = movie.id
    with session_scope() as s:
        scene_stages = list(s.scalars(select(Stage).where(Stage.movie_id == mid, Stage.name.in_(("picture", "speech")))))
        ids = [st.id for st in scene_stages]
        assert len(ids) == 2 * n_scenes and {st.status for st in scene_stages} == {"queued"}
    for sid in ids:
        with session_scope() as s:
            assert state.claim(s, mid, sid, "test", 10) is not None
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def finish(sid: int) -> None:
        try:
            barrier.wait()
            with session_scope() as s:
                assert state.finish(s, mid, sid, state.Done(key=f"{sid:064d}", cached=False, seconds=0.01, provider="t"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=finish, args=(sid,)) for sid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with read_session() as s:
        fan = list(s.scalars(select(Event).where(Event.movie_id == mid, Event.kind == "fan_in")))
        rows = {(st.name, st.scene): st for st in s.scalars(select(Stage).where(Stage.movie_id == mid))}
    # one fan-in per group of the plan: the score once every speech is done, the segments once
    # every picture and speech is done; each exactly once however many finish together
    # (the pictures' own fan-in, on a cast of nobody, happened at submission)
    assert sorted((f.data["ready"], f.data["count"]) for f in fan) == [
        (["picture"], n_scenes), (["score"], 1), (["segment"], n_scenes)]
    assert rows[("score", None)].status == "queued" and rows[("cut", None)].status == "waiting"
    assert all(rows[("segment", i)].status == "queued" for i in range(n_scenes))
    sent = [m.args[1] for m in live_messages(get_broker()) if m.args[0] == mid]
    score_id = rows[("score", None)].id
    assert sent.count(score_id) == 1  # one message for the score, not one per finisher
    assert sorted(sid for sid in sent if sid not in ids) == sorted(
        [score_id] + [rows[("segment", i)].id for i in range(n_scenes)])


def test_fan_in_exactly_once_sqlite(jobs_env: JobsEnv) -> None:
    jobs_env.set(DEEPFLIX_OWNER_INFLIGHT="1000")
    for _ in range(3):
        storm(6)
