"""Review before render through the API, against the real service (in-process
workers, SQLite, the offline built-in providers): a film that stops after its
story, versions of the edited story, 422/404/409, and a dry run that names
exactly the rows the render then remakes."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from review_flow import dry_rows, last_render, wait_status
from web_harness import Gateway, start_gateway

FILM = {"prompt": "A lighthouse keeper finds a letter in a bottle, written tomorrow.", "num_sequences": 2,
        "resolution": "360p", "seed": 7}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with start_gateway(tmp_path_factory.mktemp("review-api")) as g:
        yield g


def _url(gw: Gateway, mid: str, tail: str = "") -> str:
    return f"{gw.base_url}/api/movies/{mid}{tail}"


@pytest.fixture(scope="module")
def reviewed(gw: Gateway) -> dict[str, Any]:
    r = httpx.post(f"{gw.base_url}/api/movies", json={**FILM, "review": "story"}, headers=gw.auth("alice"))
    assert r.status_code == 202, r.text
    mid = r.json()["id"]
    m = wait_status(gw, "alice", mid, "awaiting_review", 90)
    return {"id": mid, "movie": m}


def test_stops_after_the_story_holding_nothing(gw: Gateway, reviewed: dict[str, Any]) -> None:
    from deepflix import db
    from deepflix.db.models import Stage
    from deepflix.service.admission import count_active

    m = reviewed["movie"]
    by = {s["name"]: s["status"] for s in m["stages"]}
    assert by["story"] == "succeeded" and m["story"]["scenes"]
    with db.read_session() as s:
        rows = s.query(Stage).filter(Stage.movie_id == reviewed["id"], Stage.name != "story").all()
        assert rows and {r.status for r in rows} == {"waiting"}  # held: nothing ready, queued or running
        assert count_active(s, "alice") == 0  # no concurrency slot
    listed = httpx.get(f"{gw.base_url}/api/movies?status=awaiting_review", headers=gw.auth("alice")).json()
    assert [x["id"] for x in listed["items"]] == [reviewed["id"]]
    with httpx.stream("GET", _url(gw, reviewed["id"], "/events"), headers=gw.auth("alice"), timeout=30) as r:
        kinds = [line[7:] for line in r.iter_lines() if line.startswith("event: ")]
    assert "awaiting_review" in kinds and kinds[-1] == "end"  # the progress stream ends while it waits


def test_another_users_film_is_404(gw: Gateway, reviewed: dict[str, Any]) -> None:
    mid, story = reviewed["id"], reviewed["movie"]["story"]
    bob = gw.auth("bob")
    assert httpx.get(_url(gw, mid, "/story"), headers=bob).status_code == 404
    assert httpx.put(_url(gw, mid, "/story"), json={"story": story}, headers=bob).status_code == 404
    assert httpx.post(_url(gw, mid, "/scenes/0/redraw"), json={}, headers=bob).status_code == 404
    assert httpx.put(_url(gw, mid, "/voices/narrator"), json={"voice_id": "x"}, headers=bob).status_code == 404
    assert httpx.get(_url(gw, mid, "/render"), headers=bob).status_code == 404
    assert httpx.post(_url(gw, mid, "/render"), headers=bob).status_code == 404
    assert httpx.get(_url(gw, mid, "/story"), headers=gw.auth("alice")).json()["version"] == 1


def test_a_bad_story_is_422_naming_the_field(gw: Gateway, reviewed: dict[str, Any]) -> None:
    mid = reviewed["id"]
    bad = copy.deepcopy(reviewed["movie"]["story"])
    bad["scenes"][1]["narration"] = "x" * 5000
    r = httpx.put(_url(gw, mid, "/story"), json={"story": bad}, headers=gw.auth("alice"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "story", "scenes", 1, "narration"]
    bad = copy.deepcopy(reviewed["movie"]["story"])
    bad["scenes"][0]["characters"] = ["nobody"]
    r = httpx.put(_url(gw, mid, "/story"), json={"story": bad}, headers=gw.auth("alice"))
    assert r.status_code == 422 and "nobody" in r.text
    got = httpx.get(_url(gw, mid, "/story"), headers=gw.auth("alice")).json()
    assert got["version"] == 1 and got["story"] == reviewed["movie"]["story"]  # nothing changed


def test_versions_render_409_and_a_dry_run_that_is_exact(gw: Gateway, reviewed: dict[str, Any]) -> None:
    mid, alice = reviewed["id"], gw.auth("alice")
    story = copy.deepcopy(reviewed["movie"]["story"])
    story["title"] = "The Letter From Tomorrow"
    r = httpx.put(_url(gw, mid, "/story"), json={"story": story, "note": "title"}, headers=alice)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and [v["version"] for v in r.json()["versions"]] == [1, 2]
    assert httpx.get(_url(gw, mid, "/story/versions/1"), headers=alice).json() == reviewed["movie"]["story"]
    # first render: nothing is in the cache yet, and the dry run says so
    dry = dry_rows(gw, "alice", mid)
    assert not dry["cached"] and dry["summary"].startswith("2 portraits, 2 voices, 2 pictures")
    r = httpx.post(_url(gw, mid, "/render"), headers=alice)
    assert r.status_code == 202 and r.json()["status"] in ("queued", "running")
    # while it renders, an edit is refused whole
    story2 = copy.deepcopy(story)
    story2["scenes"][0]["narration"] = "Refused while rendering."
    assert httpx.put(_url(gw, mid, "/story"), json={"story": story2}, headers=alice).status_code == 409
    assert httpx.post(_url(gw, mid, "/scenes/1/redraw"), json={}, headers=alice).status_code == 409
    assert httpx.post(_url(gw, mid, "/render"), headers=alice).status_code == 409
    done = wait_status(gw, "alice", mid, "succeeded")
    assert done["title"] == "The Letter From Tomorrow"
    assert httpx.get(_url(gw, mid, "/story"), headers=alice).json()["version"] == 2
    first_srt = httpx.get(_url(gw, mid, "/subtitles.srt"), headers=alice).text

    # a re-render with no edits remakes nothing
    assert dry_rows(gw, "alice", mid)["remake"] == set()

    # one voice changed and one scene redrawn: the dry run is exact (no row waits on an unknown outcome)
    r = httpx.put(_url(gw, mid, "/voices/narrator"), json={"voice_id": "default", "pitch_semitones": 3.0},
                  headers=alice)
    assert r.status_code == 200 and r.json()["version"] == 3
    assert httpx.post(_url(gw, mid, "/scenes/1/redraw"), json={"seed": 4242}, headers=alice).status_code == 200
    dry = dry_rows(gw, "alice", mid)
    narrated = {("speech", i) for i, sc in enumerate(story["scenes"]) if sc["narration"].strip()}
    assert {r for r in dry["remake"] if r[0] == "speech"} == narrated
    assert ("picture", 1) in dry["remake"] and ("picture", 0) in dry["cached"]
    r = httpx.post(_url(gw, mid, "/render"), headers=alice)
    assert r.status_code == 202
    # the previous version's media stay available until the new cut is done
    assert httpx.get(_url(gw, mid, "/subtitles.srt"), headers=alice).text == first_srt
    wait_status(gw, "alice", mid, "succeeded")
    remade, cached = last_render(mid)
    assert remade == dry["remake"], (remade, dry["rows"])
    assert cached == dry["cached"]

    # a narration edit: speech, then what hangs on its new length, are remade "after speech"
    story3 = httpx.get(_url(gw, mid, "/story"), headers=alice).json()["story"]
    story3["scenes"][0]["narration"] = "The bottle was warm, as if someone had held it only a moment ago."
    assert httpx.put(_url(gw, mid, "/story"), json={"story": story3}, headers=alice).json()["version"] == 4
    dry = dry_rows(gw, "alice", mid)
    assert ("speech", 0) in dry["remake"] and ("picture", 0) in dry["cached"] and ("picture", 1) in dry["cached"]
    after = {(x["stage"], x["index"]) for x in dry["rows"] if x["after"] == "speech"}
    # the score, scene 1's encode and the cut hang on the new speech's length; scene 2's encode does not
    assert after == {("score", None), ("segment", 0), ("cut", None)}, dry["rows"]
    assert ("segment", 1) in dry["cached"]
    httpx.post(_url(gw, mid, "/render"), headers=alice).raise_for_status()
    wait_status(gw, "alice", mid, "succeeded")
    remade, cached = last_render(mid)
    assert remade == dry["remake"] and cached == dry["cached"], (remade, dry["rows"])
    srt = httpx.get(_url(gw, mid, "/subtitles.srt"), headers=alice).text
    assert "someone had held it" in srt.replace("\n", " ") and srt != first_srt


def test_edits_are_in_the_audit_log(gw: Gateway, reviewed: dict[str, Any]) -> None:
    from sqlalchemy import select

    from deepflix import db
    from deepflix.security.models import AuditEntry

    with db.read_session() as s:
        got = [(a.action, a.outcome) for a in s.scalars(select(AuditEntry).where(AuditEntry.target == reviewed["id"]))]
    assert ("movie.story.edit", 200) in got and ("movie.story.edit", 409) in got
    assert ("movie.story.voice", 200) in got and ("movie.scene.redraw", 200) in got and ("movie.render", 200) in got
