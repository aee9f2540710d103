"""Issue 22: `GET /api/movies/{id}/export?format=...` serves a finished film's
timeline zipped with its media, to its owner only. The film is a real one (the
session's tiny film, made in process into the same store); its rows are marked
done with that film's artifact keys, as the job system leaves them."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest

_spec = importlib.util.spec_from_file_location("api_conftest", Path(__file__).parents[1] / "api" / "conftest.py")
api_conftest = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
sys.modules["api_conftest"] = api_conftest  # dataclasses look their module up there
_spec.loader.exec_module(api_conftest)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from api_conftest.make_gateway(tmp_path_factory.mktemp("gw-export"))


def _finish(mid: str, manifest: dict[str, Any]) -> None:
    from sqlalchemy import delete, update

    from deepflix import db
    from deepflix.db.models import Movie, Stage

    art = manifest["artifacts"]
    rows = [("story", None, "story-key"), ("score", None, art["score"]), ("cut", None, art["cut"])]
    for name, keys in (("picture", art["pictures"]), ("speech", art["speech"]), ("segment", art["segments"]),
                       ("cast", art.get("cast", []))):
        rows += [(name, i, k) for i, k in enumerate(keys)]
    now = db.utcnow()
    with db.session_scope() as s:
        s.execute(delete(Stage).where(Stage.movie_id == mid))
        for name, scene, key in rows:
            s.add(Stage(movie_id=mid, name=name, scene=scene, status="succeeded", queue="cpu.normal", attempts=1,
                        artifact_key=key, cached=False, seconds=0.5, finished_at=now,
                        provider=manifest["providers"].get(name)))
        s.execute(update(Movie).where(Movie.id == mid).values(status="succeeded", started_at=now, finished_at=now,
                                                              story=manifest["story"], title=manifest["story"]["title"],
                                                              # the record the cut leaves (film_record): it names
                                                              # every provider, a stage without rows (clip) too
                                                              result={k: manifest[k] for k in ("providers", "artifacts")}))


@pytest.fixture(scope="module")
def movie(gw: Any, tiny_film: Path) -> tuple[str, dict[str, Any]]:
    body = {"prompt": "A lighthouse keeper finds a message in a bottle", "num_sequences": 2, "seed": 7,
            "resolution": "360p"}
    r = gw.client.post("/api/movies", json=body, headers=gw.h("alice"))
    assert r.status_code == 202, r.text
    manifest = json.loads((tiny_film / "film.json").read_text())
    _finish(r.json()["id"], manifest)
    return r.json()["id"], manifest


def test_owner_downloads_the_timeline_with_its_media(gw: Any, movie: tuple[str, dict[str, Any]],
                                                     tiny_film: Path, tmp_path: Path) -> None:
    mid, manifest = movie
    r = gw.client.get(f"/api/movies/{mid}/export", params={"format": "otio"}, headers=gw.h("alice"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].startswith("attachment; filename=") and "-otio.zip" in r.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        z.extractall(tmp_path)
        names = z.namelist()
    (otio_path,) = [tmp_path / n for n in names if n.endswith(".otio")]
    tl = otio.adapters.read_from_file(str(otio_path))
    frames = [round(s["duration"] * 30) for s in manifest["story"]["scenes"]]
    clips = list(tl.tracks[0].find_clips())
    assert [c.source_range.duration.value for c in clips] == frames
    for c in tl.find_clips():  # every medium is in the zip, where the timeline says
        assert (otio_path.parent / c.media_reference.target_url).is_file(), c.media_reference.target_url
    # the same timeline the CLI writes for the film folder
    from deepflix.handoff.export import timeline_text
    from deepflix.handoff.sources import from_film_dir
    from deepflix.storage import open_store

    assert otio_path.read_text() == timeline_text(from_film_dir(tiny_film, open_store()), "otio")[0]

    for fmt, ext in (("fcpxml", ".fcpxml"), ("edl", ".edl")):
        r = gw.client.get(f"/api/movies/{mid}/export", params={"format": fmt}, headers=gw.h("alice"))
        assert r.status_code == 200
        assert any(n.endswith(ext) for n in zipfile.ZipFile(io.BytesIO(r.content)).namelist())


def test_only_the_owner_and_only_finished_films(gw: Any, movie: tuple[str, dict[str, Any]]) -> None:
    mid, _ = movie
    assert gw.client.get(f"/api/movies/{mid}/export", headers=gw.h("bob")).status_code == 404
    assert gw.client.get(f"/api/movies/{mid}/export").status_code == 401
    r = gw.client.get(f"/api/movies/{mid}/export", params={"format": "aaf"}, headers=gw.h("alice"))
    assert r.status_code == 422
    queued = gw.client.post("/api/movies", json={"prompt": "not made yet"}, headers=gw.h("alice")).json()["id"]
    r = gw.client.get(f"/api/movies/{queued}/export", headers=gw.h("alice"))
    assert r.status_code == 409 and "not finished" in r.json()["detail"]


def test_mcp_tools_against_the_service_act_as_the_key_user(gw: Any, movie: tuple[str, dict[str, Any]]) -> None:
    """The MCP server's service mode, through the real REST API (the gateway's
    TestClient: real routes, keys and limits, no socket): alice's key sees alice's films, bob's key does not."""
    import anyio
    from mcp.client import Client

    from deepflix.handoff.mcp_films import ServiceFilms
    from deepflix.handoff.mcp_server import build_server
    from deepflix.handoff.remote import ServiceClient

    mid, manifest = movie

    def server(user: str) -> Any:
        return build_server(ServiceFilms(ServiceClient("http://testserver", gw.keys[user], http=gw.client),
                                         {"resolution": "360p"}))

    async def as_alice() -> None:
        async with Client(server("alice")) as c:
            st = (await c.call_tool("film_status", {"film_id": mid})).structured_content
            assert st["status"] == "succeeded" and st["title"] == manifest["story"]["title"]
            story = (await c.call_tool("read_story", {"film_id": mid})).structured_content
            assert story["scenes"] == manifest["story"]["scenes"]
            links = (await c.call_tool("media_links", {"film_id": mid})).structured_content
            assert links["export_otio"] == f"http://testserver/api/movies/{mid}/export?format=otio"
            assert "token=" in links["video"]  # a finished film's media links are signed
            new = (await c.call_tool("make_film", {"prompt": "A kite over the dunes", "scenes": 2})).structured_content
            assert new["status"] == "queued"
            films = (await c.call_tool("list_films", {})).structured_content["films"]
            assert {mid, new["id"]} <= {f["id"] for f in films}
            r = await c.call_tool("make_film", {"prompt": "   "})
            assert r.is_error
            r = await c.call_tool("edit_story", {"film_id": mid, "story": story})
            assert r.is_error and "no route to edit" in r.content[0].text

    async def as_bob() -> None:
        async with Client(server("bob")) as c:
            r = await c.call_tool("film_status", {"film_id": mid})
            assert r.is_error and "404" in r.content[0].text
            films = (await c.call_tool("list_films", {})).structured_content["films"]
            assert mid not in {f["id"] for f in films}

    anyio.run(as_alice)
    anyio.run(as_bob)
