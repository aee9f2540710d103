"""The video with HTTP Range (what players need to seek), the subtitles, the poster."""

from __future__ import annotations

import pytest
from conftest import Gateway, finished_movie


@pytest.fixture(scope="module")
def film(gw: Gateway, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, bytes]]:
    return finished_movie(gw, "alice", tmp_path_factory.mktemp("media"))


def test_whole_video_says_it_accepts_ranges(gw: Gateway, film: tuple[str, dict[str, bytes]]) -> None:
    mid, files = film
    r = gw.client.get(f"/api/movies/{mid}/video", headers=gw.h("alice"))
    assert r.status_code == 200
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-type"] == "video/mp4"
    assert r.content == files["video"] and int(r.headers["content-length"]) == len(files["video"])
    assert r.content[4:8] == b"ftyp"


@pytest.mark.parametrize(
    "header,start,end",
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, None), ("bytes=-64", -64, None), ("bytes=10-10", 10, 10),
     ("bytes=50-999999999", 50, None)],
)
def test_range_gives_206_with_content_range(gw: Gateway, film: tuple[str, dict[str, bytes]], header: str,
                                            start: int, end: int | None) -> None:
    mid, files = film
    data = files["video"]
    size = len(data)
    first = start if start >= 0 else size + start
    last = end if end is not None else size - 1
    r = gw.client.get(f"/api/movies/{mid}/video", headers={**gw.h("alice"), "Range": header})
    assert r.status_code == 206, r.text
    assert r.headers["content-range"] == f"bytes {first}-{last}/{size}"
    assert r.content == data[first:last + 1]
    assert int(r.headers["content-length"]) == last - first + 1


def test_range_past_the_end_is_416(gw: Gateway, film: tuple[str, dict[str, bytes]]) -> None:
    mid, files = film
    size = len(files["video"])
    r = gw.client.get(f"/api/movies/{mid}/video", headers={**gw.h("alice"), "Range": f"bytes={size}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"


def test_malformed_range_is_ignored(gw: Gateway, film: tuple[str, dict[str, bytes]]) -> None:
    mid, files = film
    for bad in ("bytes=abc", "items=0-5", "bytes=", "bytes=9-3"):
        r = gw.client.get(f"/api/movies/{mid}/video", headers={**gw.h("alice"), "Range": bad})
        assert r.status_code == 200 and r.content == files["video"], bad


def test_two_ranges_come_as_multipart(gw: Gateway, film: tuple[str, dict[str, bytes]]) -> None:
    mid, files = film
    r = gw.client.get(f"/api/movies/{mid}/video", headers={**gw.h("alice"), "Range": "bytes=0-3,20-23"})
    assert r.status_code == 206
    assert r.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert files["video"][0:4] in r.content and files["video"][20:24] in r.content


def test_subtitles_and_poster(gw: Gateway, film: tuple[str, dict[str, bytes]]) -> None:
    mid, files = film
    for path, kind, ctype in (("subtitles.srt", "srt", "application/x-subrip"), ("subtitles.vtt", "vtt", "text/vtt"),
                              ("poster.jpg", "poster", "image/jpeg")):
        r = gw.client.get(f"/api/movies/{mid}/{path}", headers=gw.h("alice"))
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith(ctype)
        assert r.content == files[kind]
        assert "inline" in r.headers["content-disposition"]
    assert files["poster"][:2] == b"\xff\xd8"


def test_status_lists_the_files_of_a_finished_film(gw: Gateway, film: tuple[str, dict[str, bytes]]) -> None:
    mid, _ = film
    body = gw.client.get(f"/api/movies/{mid}", headers=gw.h("alice")).json()
    assert body["status"] == "succeeded" and body["progress"] == 1.0
    assert body["artifacts"]["video"].startswith(f"/api/movies/{mid}/video?token=")  # a signed link
    cut = next(s for s in body["stages"] if s["name"] == "cut")
    assert cut["status"] == "succeeded" and cut["seconds"] == 1.25


def test_an_unfinished_film_has_no_video_yet(gw: Gateway) -> None:
    mid = gw.client.post("/api/movies", json={"prompt": "not yet"}, headers=gw.h("alice")).json()["id"]
    r = gw.client.get(f"/api/movies/{mid}/video", headers=gw.h("alice"))
    assert r.status_code == 409 and "queued" in r.json()["detail"]


def test_files_named_by_the_cut_stage_alone(gw: Gateway, film: tuple[str, dict[str, bytes]]) -> None:
    """A film whose job result has no file list (older rows) is served from the cut stage's stored result."""
    from sqlalchemy import update

    from deepflix import db
    from deepflix.db.models import Movie

    mid, files = film
    with db.session_scope() as s:
        s.execute(update(Movie).where(Movie.id == mid).values(result=None))
    r = gw.client.get(f"/api/movies/{mid}/subtitles.vtt", headers=gw.h("alice"))
    assert r.status_code == 200 and r.content == files["vtt"]
