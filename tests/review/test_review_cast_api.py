"""The cast through the API, against the real service (in-process workers, SQLite, the
offline providers): the film's status lists each character with a signed portrait URL;
PUT /api/movies/{id}/cast/{character} refuses a bad upload (not an image, a GIF, 1x1,
too large, another user's film, an unknown character, a render running) with a clear
4xx and nothing changed, and a good one re-renders exactly that character's portrait,
the pictures and segments of their scenes and the cut (the stage events say so)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from cast_flow import OWNER, image, made_film, registered
from PIL import Image
from review_flow import dry_rows, last_render, wait_status
from web_harness import Gateway, start_gateway


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    data = tmp_path_factory.mktemp("cast-api")
    with registered(), start_gateway(data) as g:
        g.data = data  # type: ignore[attr-defined]
        yield g


@pytest.fixture(scope="module")
def film(gw: Gateway) -> dict[str, Any]:
    return made_film(gw)


def _put(gw: Gateway, mid: str, who: str, data: bytes, user: str = OWNER, ctype: str = "image/png") -> httpx.Response:
    return httpx.put(f"{gw.base_url}/api/movies/{mid}/cast/{who}", headers=gw.auth(user), timeout=60,
                     files={"portrait": ("portrait.png", data, ctype)})


def snapshot(gw: Gateway, mid: str) -> dict[str, Any]:
    """What an upload could change: the story and its versions, the stage rows, the events, the store."""
    from sqlalchemy import func, select

    from deepflix import db
    from deepflix.db.models import Event, Movie, Stage

    with db.read_session() as s:
        m = s.get(Movie, mid)
        assert m is not None
        stages = sorted((st.id, st.name, st.scene, st.status, st.artifact_key) for st in
                        s.scalars(select(Stage).where(Stage.movie_id == mid)))
        events = s.scalar(select(func.count()).select_from(Event).where(Event.movie_id == mid))
        row = (m.status, m.story, m.story_versions, m.options, m.result)
    store = Path(gw.data) / "store"  # type: ignore[attr-defined]
    files = sorted(str(p.relative_to(store)) for p in store.rglob("*"))
    return {"row": row, "stages": stages, "events": events, "store": files}


def test_the_status_lists_the_cast_with_signed_portraits(gw: Gateway, film: dict[str, Any]) -> None:
    m, mid = film["movie"], film["id"]
    chars = m["story"]["characters"]
    assert [(c["id"], c["name"]) for c in m["cast"]] == [(c["id"], c["name"]) for c in chars]
    url = m["cast"][0]["portrait"]
    assert url.startswith(f"/api/movies/{mid}/cast/{chars[0]['id']}/portrait?token=") and "&v=" in url
    r = httpx.get(gw.base_url + url)  # the link opens it without a key, as an <img> does
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size == (768, 512)
    assert not m["cast"][0]["user"]
    assert httpx.get(f"{gw.base_url}/api/movies/{mid}/cast/{chars[0]['id']}/portrait").status_code == 401
    assert httpx.get(f"{gw.base_url}/api/movies/{mid}/cast/{chars[0]['id']}/portrait",
                     headers=gw.auth("bob")).status_code == 404
    if len(chars) > 1:  # one character's link opens no other's portrait
        other = url.replace(f"/cast/{chars[0]['id']}/", f"/cast/{chars[1]['id']}/")
        assert httpx.get(gw.base_url + other).status_code == 401


def test_a_bad_upload_is_refused_and_changes_nothing(gw: Gateway, film: dict[str, Any]) -> None:
    mid = film["id"]
    who = film["movie"]["story"]["characters"][0]["id"]
    before = snapshot(gw, mid)
    refused = [
        (_put(gw, mid, who, b"not an image at all", ctype="text/plain"), 422, "not a readable image"),
        (_put(gw, mid, who, image((1, 1))), 422, "1x1 px"),
        (_put(gw, mid, who, image((96, 96), fmt="GIF"), ctype="image/gif"), 422, "GIF"),
        (_put(gw, mid, who, image((5000, 64))), 422, "5000x64"),
        (_put(gw, mid, who, b"\x89PNG" + b"\0" * (20 * 1024 * 1024)), 413, "larger than this server accepts"),
        (_put(gw, mid, who, image((96, 96)), user="bob"), 404, "among yours"),
        (_put(gw, mid, "Zed", image((96, 96))), 404, "its cast: "),
        (httpx.put(f"{gw.base_url}/api/movies/{mid}/cast/{who}", headers=gw.auth(OWNER),
                   files={"picture": ("p.png", image((96, 96)), "image/png")}), 422, "portrait"),
    ]
    for r, status, words in refused:
        assert r.status_code == status and words in r.text, (status, r.status_code, r.text[:300])
    names = [c["name"] for c in film["movie"]["story"]["characters"]]
    assert all(n in refused[6][0].json()["detail"] for n in names)
    assert snapshot(gw, mid) == before


def test_a_portrait_remakes_only_that_characters_scenes(gw: Gateway, film: dict[str, Any]) -> None:
    mid, alice = film["id"], gw.auth(OWNER)
    first = httpx.get(f"{gw.base_url}/api/movies/{mid}", headers=alice).json()
    who = first["story"]["characters"][0]
    r = _put(gw, mid, who["name"].upper(), image((96, 128), (10, 200, 90)))  # by name, any case
    assert r.status_code == 202, r.text
    assert r.json()["status"] in ("queued", "running")
    during = snapshot(gw, mid)
    r = _put(gw, mid, who["id"], image((96, 128), (200, 10, 90)))  # while that render runs: refused whole
    assert r.status_code == 409 and "wait for it to finish" in r.text
    done = wait_status(gw, OWNER, mid, "succeeded")
    assert during["row"][2] == snapshot(gw, mid)["row"][2]  # no story version from the refused one
    remade, cached = last_render(mid)
    expect = {("cast", 0), ("picture", 0), ("segment", 0), ("cut", None)}
    assert remade == expect, remade
    assert ("picture", 1) in cached and ("speech", 0) in cached and ("score", None) in cached
    assert dry_rows(gw, OWNER, mid)["remake"] == set()  # the dry run builds the references as the workers do
    if len(first["cast"]) > 1:
        assert ("cast", 1) in cached and done["cast"][1]["portrait"] == first["cast"][1]["portrait"]
    # the new portrait is the user's picture, at a new address; the story's versions say so
    cast0 = done["cast"][0]
    assert cast0["user"] and cast0["portrait"] != first["cast"][0]["portrait"]
    sheet = np.asarray(Image.open(io.BytesIO(httpx.get(gw.base_url + cast0["portrait"]).content)).convert("RGB"))
    assert tuple(sheet[sheet.shape[0] // 2, sheet.shape[1] // 2]) == (10, 200, 90)
    story = httpx.get(f"{gw.base_url}/api/movies/{mid}/story", headers=alice).json()
    assert story["versions"][-1]["note"] == f"portrait of {who['name']}"
    assert done["artifacts"]["picture_1"] == first["artifacts"]["picture_1"]
    assert done["artifacts"]["picture_0"] != first["artifacts"]["picture_0"]
