"""The movie service (deepflix/service/) as the one facade: the API and the CLI show the
same movie for the same row, a movie's row holds its FilmSpec and nothing else, a bad
submission (through the facade or the API) writes nothing, a full quota refuses before
anything is written, and InvalidInput answers in one 422 shape wherever it is raised."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Gateway, finished_movie, make_gateway
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from deepflix import db
from deepflix.db.access import Admission
from deepflix.db.models import Event, Movie, Stage
from deepflix.errors import InvalidInput
from deepflix.film.spec import FilmSpec
from deepflix.service import admission, movies


@pytest.fixture(scope="module")
def sgw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from make_gateway(tmp_path_factory.mktemp("service"))


def _cli(*args: str) -> str:
    out = CliRunner().invoke(_root(), list(args), catch_exceptions=False)
    assert out.exit_code == 0, out.output
    return out.stdout


def _counts() -> dict[str, int]:
    with db.read_session() as s:
        return {t.__name__: int(s.scalar(select(func.count()).select_from(t)) or 0)
                for t in (Movie, Stage, Event, Admission)}


def test_the_cli_shows_the_movie_the_api_shows(sgw: Gateway, tmp_path: Path) -> None:
    queued = sgw.client.post("/api/movies", json={"prompt": "a queued film", "num_sequences": 2, "seed": 3},
                             headers=sgw.h("alice")).json()["id"]
    done, _ = finished_movie(sgw, "alice", tmp_path)  # signed media links in its answer
    for mid in (queued, done):
        before = sgw.client.get(f"/api/movies/{mid}", headers=sgw.h("alice")).json()
        shown = json.loads(_cli("jobs", "show", mid))
        shown_as_alice = json.loads(_cli("jobs", "show", mid, "--user", "alice"))
        after = sgw.client.get(f"/api/movies/{mid}", headers=sgw.h("alice")).json()
        # a link's expiry is rounded to a quarter hour: both CLI reads fall between these two, and
        # within seconds at most one boundary passes, so each matches one of them
        assert shown in (before, after)
        assert shown_as_alice in (before, after)
    listed = sgw.client.get("/api/movies", headers=sgw.h("alice")).json()["items"]
    lines = [json.loads(line) for line in _cli("jobs", "list", "--user", "alice").splitlines()]
    assert [x["id"] for x in lines] == [x["id"] for x in listed] and [done, queued] == [x["id"] for x in listed][:2]
    assert lines[1] == listed[1]  # the queued one (no signed links to expire)


def test_the_cli_cancels_through_the_service(sgw: Gateway) -> None:
    mid = sgw.client.post("/api/movies", json={"prompt": "a film to stop", "num_sequences": 1},
                          headers=sgw.h("bob")).json()["id"]
    out = json.loads(_cli("jobs", "cancel", mid))
    assert out["status"] == "cancelled"
    assert sgw.client.get(f"/api/movies/{mid}", headers=sgw.h("bob")).json()["status"] == "cancelled"
    again = CliRunner().invoke(_root(), ["jobs", "cancel", mid])
    assert again.exit_code != 0 and "only queued or running movies can be cancelled" in str(again.exception)
    assert json.loads(_cli("jobs", "delete", mid, "--user", "bob")) == {"id": mid, "status": "deleted"}
    assert sgw.client.get(f"/api/movies/{mid}", headers=sgw.h("bob")).status_code == 404


def _root() -> Any:
    import typer

    from deepflix.service import cli

    root = typer.Typer()
    cli.register(root)
    return root


def test_the_row_holds_the_film_spec(sgw: Gateway) -> None:
    body = {"prompt": "  a lighthouse keeper  ", "num_sequences": 3, "seed": 9, "aspect": "9:16", "resolution": "480p",
            "steps": 12, "cfg_scale": 5.5, "review": "story"}
    mid = sgw.client.post("/api/movies", json=body, headers=sgw.h("alice")).json()["id"]
    with db.read_session() as s:
        m = s.get(Movie, mid)
        assert m is not None
        request, options = dict(m.request), dict(m.options)
    spec = FilmSpec.stored(request, options)  # what every worker reads (jobs/parts.py)
    assert spec.columns() == (request, options)  # the stored form is the spec's dump, nothing added or lost
    assert spec.prompt == spec.story.prompt == "a lighthouse keeper" and spec.story.num_scenes == 3
    assert (spec.options.aspect, spec.options.resolution, spec.options.params.steps) == ("9:16", "480p", 12)
    shown = sgw.client.get(f"/api/movies/{mid}", headers=sgw.h("alice")).json()["request"]
    assert shown == {k: v for k, v in request.items() if k != "story"}
    assert list(shown) == ["prompt", "genre", "num_sequences", "seed", "sampler", "steps", "cfg_scale", "aspect",
                           "resolution", "priority", "review"]
    with pytest.raises(ValueError, match="disagree"):  # the look is stored twice: both halves must agree
        FilmSpec.stored({**request, "resolution": "1080p"}, options)


@pytest.mark.parametrize("fields,needle", [
    ({"prompt": " "}, "prompt"), ({"num_sequences": 0}, "num_sequences"), ({"genre": "western"}, "genre"),
    ({"resolution": "8k"}, "resolution"), ({"priority": "urgent"}, "priority"), ({"review": "cut"}, "review"),
    ({"language": "zu"}, "English only"), ({"story": {"title": "no scenes"}}, "story"),
    ({"webhook_url": "ftp://example.org/x"}, "webhook_url"), ({"steps": 0}, "steps"),
])
def test_a_bad_submission_writes_nothing(sgw: Gateway, fields: dict[str, Any], needle: str) -> None:
    before = _counts()
    with db.session_scope() as s, pytest.raises(InvalidInput, match=needle):
        movies.submit_movie(s, "alice", **{"prompt": "a film", "num_sequences": 2, **fields})
    assert _counts() == before


def test_a_body_the_service_refuses_is_a_422_that_writes_nothing(sgw: Gateway) -> None:
    before = _counts()
    r = sgw.client.post("/api/movies", json={"prompt": "a film", "language": "zu"}, headers=sgw.h("alice"))
    assert r.status_code == 422 and "English only" in r.json()["detail"][0]["msg"], r.text
    assert r.json()["detail"][0]["loc"] == ["body"]
    assert _counts() == before


def test_a_full_quota_refuses_before_anything_is_written(sgw: Gateway) -> None:
    with db.session_scope() as s:
        movies.submit_movie(s, "carol", prompt="the one film", num_sequences=1)
    before = _counts()
    with pytest.raises(admission.QuotaExceeded, match="most at once is 1") as exc, db.session_scope() as s:
        admission.admit(s, "carol", max_jobs=1)
        movies.submit_movie(s, "carol", prompt="one too many", num_sequences=1)
    assert exc.value.retry_after > 0 and _counts() == before
    with db.session_scope() as s:  # someone else's films are not counted
        admission.admit(s, "dave", max_jobs=1, per_day=1)


def test_invalid_input_is_one_422_shape_in_the_gateway_and_a_stage_service(sgw: Gateway) -> None:
    from deepflix.api.routes import story_service
    from deepflix.api.service import stage_app

    story = sgw.client.post("/generate-cinematic-story", json={"genre": "drama", "num_scenes": 1},
                            headers=sgw.h("alice")).json()
    complete = {"genre": "drama", "num_scenes": 1, "previous_sequence": story["scenes"]}
    via_gateway = sgw.client.post("/generate-cinematic-story", json=complete, headers=sgw.h("alice"))
    with TestClient(stage_app("story", story_service.router)) as alone:
        via_service = alone.post("/generate-cinematic-story", json=complete)
    assert via_gateway.status_code == via_service.status_code == 422
    assert via_gateway.json() == via_service.json()
    assert via_service.json()["detail"][0]["loc"] == ["body"] and "complete" in via_service.json()["detail"][0]["msg"]
