"""The cast in the job system: a portrait per character before the pictures, each
scene conditioned on the portraits of the characters in it, and a replaced
portrait re-rendering exactly that character's pictures, their segments and the cut."""

from __future__ import annotations

import io

import jobs_fake_providers as fakes
import pytest
from conftest import JobsEnv, wait_movie
from PIL import Image

from deepflix.db import read_session, session_scope
from deepflix.errors import InvalidInput
from deepflix.jobs.cast import set_portrait
from deepflix.jobs.errors import JobStateError
from deepflix.pipeline.uploads import import_portrait
from deepflix.service import movies
from deepflix.storage import open_store

PROVIDERS = {**fakes.FAKES, "picture": "jobstest/ref-picture"}


def story() -> dict:
    def ch(cid: str, name: str) -> dict:
        return {"id": cid, "name": name, "base_traits": "a tall woman", "facial_features": "dark eyes",
                "clothing": "a red coat", "distinctive_features": "a scar"}

    scene = {"atmosphere": "calm", "setting": "coast"}
    return {"title": "Two keepers", "genre": "drama", "seed": 5, "characters": [ch("ada", "Ada"), ch("bo", "Bo")],
            "scenes": [{**scene, "scene_description": "Ada alone", "characters": ["ada"], "narration": "Ada waits."},
                       {**scene, "scene_description": "Bo alone", "characters": ["bo"], "narration": "Bo rows."},
                       {**scene, "scene_description": "Both", "characters": ["ada", "bo"], "narration": "They meet."}]}


def png(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (96, 128), colour).save(buf, format="PNG")
    return buf.getvalue()


def made(movie_id: str, after_event: int = 0) -> set[tuple[str, int | None]]:
    """The stages computed (not cache hits) after an event id."""
    with read_session() as s:
        return {(e.stage, e.scene) for e in movies.events(s, movie_id, after_event)
                if e.kind == "stage_done" and not e.data["cached"]}


def test_a_replaced_portrait_rerenders_that_characters_scenes(jobs_env: JobsEnv, inproc_worker: object) -> None:
    with session_scope() as s:
        mid = movies.submit_movie(s, "alice", prompt="two keepers", story=story(), resolution="360p",
                                   providers=PROVIDERS).id
    m = wait_movie(mid)
    assert m.status == "succeeded", m.error
    rows = {(st.name, st.scene) for st in m.stages}
    assert {("cast", 0), ("cast", 1)} <= rows
    first = dict(m.result)
    with read_session() as s:
        last = max(e.id for e in movies.events(s, mid))

    # Ada brings her own portrait: only her portrait, the two scenes she is in, the segments that show them, the cut
    with session_scope() as s:
        ref = import_portrait(open_store(), png((10, 200, 90)))
        out = set_portrait(s, "alice", mid, "Ada", ref)
        assert out is not None and out["character"] == "ada"
    m = wait_movie(mid)
    assert m.status == "succeeded", m.error
    # segment 1 too: its transition at the end blends into scene 2's new picture
    assert made(mid, last) == {("cast", 0), ("picture", 0), ("picture", 2), ("segment", 0), ("segment", 1),
                               ("segment", 2), ("cut", None)}
    assert m.result["artifacts"]["pictures"][1] == first["artifacts"]["pictures"][1]  # Bo's scene kept
    assert m.result["artifacts"]["cut"] != first["artifacts"]["cut"]
    assert m.story["characters"][0]["portrait"]["key"] == ref.key


def test_portrait_changes_that_cannot_be_made(jobs_env: JobsEnv) -> None:
    with session_scope() as s:
        mid = movies.submit_movie(s, "alice", prompt="two keepers", story=story(), resolution="360p",
                                   providers=PROVIDERS).id
    ref = import_portrait(open_store(), png((1, 2, 3)))
    with session_scope() as s:
        assert set_portrait(s, "bob", mid, "Ada", ref) is None  # someone else's film: not found
        with pytest.raises(JobStateError, match="queued"):
            set_portrait(s, "alice", mid, "Ada", ref)  # still being made
    with session_scope() as s:
        movies.cancel_movie(s, "alice", mid)
    with session_scope() as s, pytest.raises(InvalidInput, match="Ada, Bo"):
        set_portrait(s, "alice", mid, "Zed", ref)
    with read_session() as s:
        m = movies.get_movie(s, "alice", mid)
        assert m is not None and m.status == "cancelled" and "portrait" not in m.story["characters"][0]
