"""Signed links to a finished film's files: a <video> or <img> opens them without
the key (and so can stream and seek); each token opens one file of one film, for
a while, and nothing else."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import Gateway, finished_movie

from deepflix.security import links

FILES = (("video", "video"), ("subtitles_srt", "srt"), ("subtitles_vtt", "vtt"), ("poster", "poster"))


@pytest.fixture(scope="module")
def film(gw: Gateway, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, bytes]]:
    return finished_movie(gw, "alice", tmp_path_factory.mktemp("links"))


def status_urls(gw: Gateway, mid: str) -> dict[str, str]:
    r = gw.client.get(f"/api/movies/{mid}", headers=gw.h("alice"))
    assert r.status_code == 200
    return r.json()["urls"]  # type: ignore[no-any-return]


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def test_finished_film_gives_signed_links_that_open_without_a_key(gw: Gateway, film: tuple[str, dict[str, bytes]]) -> None:
    mid, files = film
    urls = status_urls(gw, mid)
    for field, name in FILES:
        assert "token=" in urls[field], field
        r = gw.client.get(urls[field])  # no key
        assert r.status_code == 200, (field, r.text)
        assert r.content == files[name], field
    # the list's poster link opens too
    items = gw.client.get("/api/movies", headers=gw.h("alice")).json()["items"]
    poster = next(m["urls"]["poster"] for m in items if m["id"] == mid)
    assert gw.client.get(poster).status_code == 200


def test_signed_video_streams_with_range(gw: Gateway, film: tuple[str, dict[str, bytes]]) -> None:
    mid, files = film
    url = status_urls(gw, mid)["video"]
    r = gw.client.get(url, headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.content == files["video"][:100]
    assert r.headers["content-range"] == f"bytes 0-99/{len(files['video'])}"


def test_a_token_opens_only_its_own_file_and_film(gw: Gateway, film: tuple[str, dict[str, bytes]],
                                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    mid, _ = film
    urls = status_urls(gw, mid)
    video_token = token_of(urls["video"])
    # the video's token does not open the poster
    assert gw.client.get(f"/api/movies/{mid}/poster.jpg?token={video_token}").status_code == 401
    # nor another film (bob's) with the same file name
    other, _ = finished_movie(gw, "bob", tmp_path_factory.mktemp("links-bob"))
    assert gw.client.get(f"/api/movies/{other}/video?token={video_token}").status_code == 401
    # a changed signature, and a link that has expired, are refused with the same answer
    bad = video_token[:-1] + ("0" if video_token[-1] != "0" else "1")
    assert gw.client.get(f"/api/movies/{mid}/video?token={bad}").status_code == 401
    old = links.sign(mid, "video", "alice", now=1_000_000)
    r = gw.client.get(f"/api/movies/{mid}/video?token={old}")
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    # a film that does not exist looks the same as a bad token
    assert gw.client.get(f"/api/movies/{mid[:-4]}ffff/video?token={video_token}").status_code == 401


def test_a_malformed_token_is_a_422_and_keys_still_work(gw: Gateway, film: tuple[str, dict[str, bytes]]) -> None:
    mid, files = film
    assert gw.client.get(f"/api/movies/{mid}/video?token=nope").status_code == 422
    # with a key the token is not needed, and another user's key still gets 404
    assert gw.client.get(f"/api/movies/{mid}/video", headers=gw.h("alice")).content == files["video"]
    token = token_of(status_urls(gw, mid)["video"])
    assert gw.client.get(f"/api/movies/{mid}/video?token={token}", headers=gw.h("bob")).status_code == 404


def test_an_unfinished_film_has_no_signed_media_links(gw: Gateway) -> None:
    r = gw.client.post("/api/movies", json={"prompt": "still being made", "num_sequences": 1}, headers=gw.h("alice"))
    urls = r.json()["urls"]
    assert "token=" not in urls["video"]
    status = gw.client.get(urls["self"], headers=gw.h("alice")).json()
    assert "token=" not in status["urls"]["video"]


def test_links_expire_between_one_hour_and_a_quarter_more() -> None:
    now = 1_800_000_123.0
    exp = int(links.sign("m", "video", "u", now=now).split(".")[0])
    assert links.TTL <= exp - now <= links.TTL + links.ROUND
    token = links.sign("m", "video", "u", now=now)
    assert links.check(token, "m", "video", "u", now=now)
    assert links.sign("m", "video", "u", now=now + 60) == token  # the same link for a while: browsers cache it
    assert not links.check(token, "m", "video", "u", now=exp + 1)
    assert not links.check(token, "m", "poster", "u", now=now)
    assert not links.check(token, "m", "video", "someone else", now=now)
