"""The gateway under test: a fresh SQLite database per module, two users with keys,
and no Redis, so a submitted film is stored with its first stage queued and no
worker ever runs it (the job system logs that the message could not be sent)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient


@dataclass
class Gateway:
    client: TestClient
    keys: dict[str, str]  # user -> key
    db_url: str

    def h(self, user: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[user]}


def _env(**values: str | None) -> dict[str, str | None]:
    old = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    return old


def make_gateway(tmp: Path, app: object = None, db_url: str | None = None, **settings: object) -> Iterator[Gateway]:
    from deepflix import db
    from deepflix.api.main import create_app
    from deepflix.api.settings import ApiSettings
    from deepflix.core import config
    from deepflix.security import keys

    url = db_url or f"sqlite:///{tmp / 'gateway.db'}"  # db_url: e.g. a fleet test's PostgreSQL database
    old = _env(DATABASE_URL=url, REDIS_URL=None, DEEPFLIX_SECRET_KEY="test-pepper-not-for-production")
    config.reload_settings()
    keys.forget_cached_keys()
    db.migrate()
    with db.session_scope() as s:
        made = {u: keys.create_key(s, u)[0] for u in ("alice", "bob")}
        made["root"] = keys.create_key(s, "root", role="admin")[0]
    base = gateway_settings(**settings)
    if app is None:
        app = create_app(ApiSettings(**base))  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        yield Gateway(client, made, url)
    _env(**old)
    config.reload_settings()
    keys.forget_cached_keys()


def gateway_settings(**settings: object) -> dict[str, object]:
    """Limits out of the way (the tests of limits set their own)."""
    base: dict[str, object] = dict(
        deepflix_rate_per_minute=60_000.0, deepflix_rate_burst=10_000, deepflix_max_concurrent_jobs=1000,
        deepflix_films_per_day=10_000, deepflix_sse_max_seconds=2.0, deepflix_sse_poll_seconds=0.05,
        deepflix_auth_failures_per_minute=60_000.0, deepflix_auth_failures_burst=10_000,
    )
    base.update(settings)
    return base


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from make_gateway(tmp_path_factory.mktemp("gw"))


def finished_movie(gw: Gateway, owner: str, tmp: Path) -> tuple[str, dict[str, bytes]]:
    """A film that finished: submitted through the API, then its rows marked done
    with a real cut artifact (an H.264 MP4, SRT, VTT, JPEG poster) in the store,
    as the job system leaves them. Returns the id and the files' bytes."""
    import subprocess

    import imageio_ffmpeg
    from sqlalchemy import update

    from deepflix import db
    from deepflix.db.models import Movie, Stage
    from deepflix.storage import open_store

    r = gw.client.post("/api/movies", json={"prompt": "a finished film", "num_sequences": 1}, headers=gw.h(owner))
    assert r.status_code == 202, r.text
    mid = r.json()["id"]
    store = open_store()
    key = f"cut{mid.replace('-', '')}"[:64]
    st = store.staging(key)
    ff = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run([ff, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=10:duration=3",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-y",
                    str(st.dir / "movie.mp4")], check=True)
    subprocess.run([ff, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x90", "-frames:v", "1", "-y",
                    str(st.dir / "poster.jpg")], check=True)
    (st.dir / "movie.srt").write_text("1\n00:00:00,000 --> 00:00:02,000\nHello.\n")
    (st.dir / "movie.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nHello.\n")
    st.publish({"stage": "cut", "provider": "builtin/ffmpeg", "version": "1", "result": {  # as the runner stores it
        "video": "movie.mp4", "srt": "movie.srt", "vtt": "movie.vtt", "poster": "poster.jpg",
        "duration": 3.0, "width": 160, "height": 90}})
    files = {n: store.local_path(key, f).read_bytes() for n, f in
             (("video", "movie.mp4"), ("srt", "movie.srt"), ("vtt", "movie.vtt"), ("poster", "poster.jpg"))}
    now = db.utcnow()
    with db.session_scope() as s:
        s.execute(update(Stage).where(Stage.movie_id == mid).values(status="succeeded", artifact_key="story0", seconds=0.5))
        s.add(Stage(movie_id=mid, name="cut", scene=None, status="succeeded", queue="cpu.normal", attempts=1,
                    artifact_key=key, cached=False, seconds=1.25, finished_at=now))
        refs = {label: {"key": key, "name": name} for label, name in
                 (("movie", "movie.mp4"), ("srt", "movie.srt"), ("vtt", "movie.vtt"), ("poster", "poster.jpg"))}
        s.execute(update(Movie).where(Movie.id == mid).values(status="succeeded", started_at=now, finished_at=now,
                                                              title="A Finished Film", result={"files": refs}))
    return mid, files
