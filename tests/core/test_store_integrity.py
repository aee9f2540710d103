"""Issue 17, finding 7: a corrupt or missing artifact in the store is noticed.

Every stored result records its files' sizes and sha256; a cache hit checks
them, and a broken artifact is a miss: the stage is made again and its publish
replaces the broken folder. One small film (2 scenes, 720p: fake story,
pictures, speech and score, the real ffmpeg segment and cut) is made, then
broken in the store in several ways and made again in process: each time the
film is byte-identical to the first. The same for the S3 store (SeaweedFS).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deepflix.models import GenerationParams, StoryRequest
from deepflix.pipeline import FilmOptions, make_film
from deepflix.storage import ArtifactStore, LocalStore

JOBS = Path(__file__).parents[1] / "jobs"
RESOLUTION = "360p"  # small and quick: the checks do not depend on the size
REAL_VIDEO = {"segment": "builtin/ffmpeg-segment", "cut": "builtin/ffmpeg"}


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, str]]:
    """The job tests' fast fake providers for story, pictures, speech and score; real video stages."""
    from deepflix import plugins
    from deepflix.jobs.worker import load_plugins

    sys.path.insert(0, str(JOBS))
    load_plugins("jobs_fake_providers")
    import jobs_fake_providers as fk

    try:
        yield {**fk.FAKES, **REAL_VIDEO}
    finally:
        if plugins.pm.is_registered(fk):
            plugins.pm.unregister(fk)
        plugins.reset()
        sys.path.remove(str(JOBS))


def make(store: ArtifactStore, out: Path, providers: dict[str, str]) -> Any:
    opts = FilmOptions(resolution=RESOLUTION, params=GenerationParams(seed=7), providers=providers)
    return make_film(StoryRequest(prompt="A lighthouse keeper finds a bottle", num_scenes=2, seed=7),
                     opts=opts, out_dir=out, store=store)


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def first(fakes: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalStore, Any, str]:
    store = LocalStore(tmp_path_factory.mktemp("store"))
    film = make(store, tmp_path_factory.mktemp("film-0"), fakes)
    return store, film, sha(film.files["movie"])


def test_results_record_each_files_size_and_hash(first: tuple[LocalStore, Any, str]) -> None:
    store, film, _ = first
    stored = store.load_result(film.keys["cut"])
    assert stored is not None
    movie = stored["files"]["movie.mp4"]
    path = store.local_path(film.keys["cut"], "movie.mp4")
    assert movie == {"size": path.stat().st_size, "sha256": sha(path)}
    assert "result.json" not in stored["files"]


def _truncate(p: Path) -> None:
    with open(p, "r+b") as f:  # in place, as a full disk or a killed copy leaves it
        f.truncate(p.stat().st_size // 2)


def _flip(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different bytes
    p.write_bytes(bytes(data))


def test_a_truncated_movie_is_made_again(first: tuple[LocalStore, Any, str], fakes: dict[str, str], tmp_path: Path) -> None:
    store, film, want = first
    cut = film.keys["cut"]
    _truncate(store._dir(cut) / "movie.mp4")
    with pytest.raises(FileNotFoundError):  # ArtifactBroken
        store.local_path(cut, "movie.mp4")
    again = make(store, tmp_path / "film", fakes)
    assert again.computed == {"cut": 1}  # only the broken stage ran
    assert sha(again.files["movie"]) == want
    assert store.load_verified(cut) is not None  # the broken folder was replaced
    assert sha(store.local_path(cut, "movie.mp4")) == want


def test_a_missing_segment_and_a_garbage_result_are_made_again(
    first: tuple[LocalStore, Any, str], fakes: dict[str, str], tmp_path: Path
) -> None:
    store, film, want = first
    seg0, seg1, cut = film.keys["segments"][0], film.keys["segments"][1], film.keys["cut"]
    video = store.load_result(seg0)["result"]["video"]  # type: ignore[index]
    (store._dir(seg0) / video).unlink()  # a segment file gone
    (store._dir(seg1) / "result.json").write_bytes(b"\x00garbage{")  # a result that is not JSON
    (store._dir(cut) / "result.json").write_text(json.dumps({"stage": "cut"}))  # JSON, not a result
    again = make(store, tmp_path / "film", fakes)
    assert again.computed == {"segment": 2, "cut": 1}
    assert sha(again.files["movie"]) == want
    for key in (seg0, seg1, cut):
        assert store.load_verified(key) is not None


def test_a_small_file_with_the_same_size_but_other_bytes_is_caught(
    first: tuple[LocalStore, Any, str], fakes: dict[str, str], tmp_path: Path
) -> None:
    store, film, want = first
    stored = store.load_result(film.keys["cut"])
    assert stored is not None and stored["files"]["movie.srt"]["size"] < 1 << 20  # hashed on every hit
    _flip(store._dir(film.keys["cut"]) / "movie.srt")
    again = make(store, tmp_path / "film", fakes)
    assert again.computed == {"cut": 1}
    assert sha(again.files["movie"]) == want


def test_results_from_before_sizes_were_recorded_still_load(
    first: tuple[LocalStore, Any, str], fakes: dict[str, str], tmp_path: Path
) -> None:
    store, film, want = first
    for key in [film.keys["cut"], *film.keys["segments"]]:
        p = store._dir(key) / "result.json"
        stored = json.loads(p.read_text())
        stored.pop("files", None)
        p.write_text(json.dumps(stored))
    again = make(store, tmp_path / "film", fakes)
    assert again.computed == {}  # unverified, but valid: every stage a hit
    assert sha(again.files["movie"]) == want


def test_publish_replaces_only_a_broken_folder(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    key = "cd" * 32

    def publish(body: bytes) -> None:
        st = store.staging(key)
        (st.dir / "a.bin").write_bytes(body)
        st.publish({"stage": "picture", "result": {"image": "a.bin"}})

    publish(b"first")
    publish(b"second")  # an intact artifact stands: first writer wins
    assert store.local_path(key, "a.bin").read_bytes() == b"first"
    (store._dir(key) / "a.bin").unlink()
    assert store.load_verified(key) is None
    publish(b"third")
    assert store.local_path(key, "a.bin").read_bytes() == b"third"
    assert not [p for p in store._dir(key).parent.iterdir() if p.name != key]  # nothing left beside it


# --------------------------------------------------------------------------- S3


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    sys.path.insert(0, str(JOBS))
    try:
        from fleet_services import s3_ready, seaweedfs
    finally:
        sys.path.remove(str(JOBS))
    with seaweedfs(tmp_path_factory.mktemp("weed")) as sw:
        s3_ready(sw.endpoint, "integrity")
        yield {"S3_ENDPOINT_URL": sw.endpoint, "S3_BUCKET": "integrity", "AWS_ACCESS_KEY_ID": "test",
               "AWS_SECRET_ACCESS_KEY": "test", "S3_PREFIX": "i/"}


@pytest.fixture
def s3_env(s3: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from deepflix.core import config

    for k, v in s3.items():
        monkeypatch.setenv(k, v)
    config.reload_settings()
    yield
    monkeypatch.undo()
    config.reload_settings()


def test_s3_store_notices_and_replaces_broken_artifacts(
    s3_env: None, first: tuple[LocalStore, Any, str], fakes: dict[str, str], tmp_path: Path
) -> None:
    from deepflix.storage.s3 import S3Store

    want = first[2]
    a = S3Store(tmp_path / "machine-a")
    film = make(a, tmp_path / "film-a", fakes)
    assert sha(film.files["movie"]) == want
    cut, seg0 = film.keys["cut"], film.keys["segments"][0]
    stored = a._remote_result(cut)
    assert stored is not None and stored["files"]["movie.mp4"]["sha256"] == want

    def obj(key: str, name: str) -> str:
        s = a._remote_result(key)
        return a._remote_name(s, key, name)

    # in the bucket: the movie truncated, a segment file gone, a garbage result.json
    movie = a.s3.get_object(Bucket=a.bucket, Key=obj(cut, "movie.mp4"))["Body"].read()
    a.s3.put_object(Bucket=a.bucket, Key=obj(cut, "movie.mp4"), Body=movie[: len(movie) // 2])
    seg_video = a._remote_result(seg0)["result"]["video"]  # type: ignore[index]
    a.s3.delete_object(Bucket=a.bucket, Key=obj(seg0, seg_video))
    seg1 = film.keys["segments"][1]
    a.s3.put_object(Bucket=a.bucket, Key=a._obj(seg1, "result.json"), Body=b"not json")

    b = S3Store(tmp_path / "machine-b")  # another machine: nothing cached
    again = make(b, tmp_path / "film-b", fakes)
    assert again.computed == {"segment": 2, "cut": 1}
    assert sha(again.files["movie"]) == want
    c = S3Store(tmp_path / "machine-c")
    for key in (cut, seg0, seg1):
        assert c.load_verified(key) is not None, key
    assert sha(c.local_path(cut, "movie.mp4")) == want
    # the broken upload's files are gone; only the replacement's remain
    names = [o["Key"] for o in a.s3.list_objects_v2(Bucket=a.bucket, Prefix=a._obj(cut, ""))["Contents"]]
    assert len(names) == 1 + len(c._remote_result(cut)["files"])  # type: ignore[index]

    # machine a's cache still holds the old, stale copy of a segment: it notices and recovers
    _truncate(a._dir(cut) / "movie.mp4")
    third = make(a, tmp_path / "film-a2", fakes)
    assert third.computed == {}  # its cached copy was stale; the bucket's artifact is intact
    assert sha(third.files["movie"]) == want
