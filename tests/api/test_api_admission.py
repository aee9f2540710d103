"""Quotas hold under a race: eight gateways (apps, one database) submit, or retry,
for one user at the same instant; the per-user admission lock (service.admission.lock_user)
lets exactly as many through as the quota allows, on PostgreSQL and on SQLite."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from conftest import _env, gateway_settings
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent.parent / "jobs"))  # fleet_services: the machine's PostgreSQL

N = 8  # gateways, each sending one request at the same moment
BODY = {"prompt": "a race for the last place", "num_sequences": 1}


def _at_once(calls: list) -> list[int]:  # type: ignore[type-arg]
    """Run the calls in threads released together; their status codes."""
    barrier = threading.Barrier(len(calls))
    out: list[int] = [0] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        out[i] = calls[i]().status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def _race(db_url: str) -> None:
    from sqlalchemy import func, select

    from deepflix import db
    from deepflix.api.main import create_app
    from deepflix.api.settings import ApiSettings
    from deepflix.core import config
    from deepflix.db.models import Movie
    from deepflix.security import keys
    from deepflix.service import movies

    old = _env(DATABASE_URL=db_url, REDIS_URL=None, DEEPFLIX_SECRET_KEY="test-pepper-not-for-production")
    config.reload_settings()
    keys.forget_cached_keys()
    try:
        db.migrate()
        with db.session_scope() as s:
            one_at_once = keys.create_key(s, "dora", max_concurrent_jobs=1)[0]
            one_a_day = keys.create_key(s, "ed", films_per_day=1)[0]
            retrier = keys.create_key(s, "fay", max_concurrent_jobs=1)[0]
            stopped = [movies.submit_movie(s, "fay", prompt=f"film {i}", num_sequences=1).id for i in range(N)]
        with db.session_scope() as s:
            for mid in stopped:
                movies.cancel_movie(s, "fay", mid)

        settings = ApiSettings(**gateway_settings())  # type: ignore[arg-type]  # the keys carry the limits
        with ExitStack() as stack:
            gws = [stack.enter_context(TestClient(create_app(settings), raise_server_exceptions=False))
                   for _ in range(N)]
            # FastAPI builds an app's routes on its first request, inside warnings.catch_warnings(), which is
            # not thread-safe: first requests to several fresh apps at once can leak a pydantic warning, an
            # error under this suite's filterwarnings. One request each beforehand (a 404 walks every route).
            for c in gws:
                assert c.get("/api/no-such-route").status_code == 404

            def post(c: TestClient, key: str):  # type: ignore[no-untyped-def]
                return lambda: c.post("/api/movies", json=BODY, headers={"X-API-Key": key})

            for user, key in (("dora", one_at_once), ("ed", one_a_day)):
                codes = _at_once([post(c, key) for c in gws])
                assert sorted(codes) == [202] + [429] * (N - 1), (user, codes)
                with db.read_session() as s:
                    assert s.scalar(select(func.count()).select_from(Movie).where(Movie.owner == user)) == 1

            # retries are admitted the same way: eight stopped films, room for one
            codes = _at_once([
                (lambda c=c, mid=mid: c.post(f"/api/movies/{mid}/retry", headers={"X-API-Key": retrier}))
                for c, mid in zip(gws, stopped, strict=True)
            ])
            assert sorted(codes) == [202] + [429] * (N - 1), codes
            with db.read_session() as s:
                assert s.scalar(select(func.count()).select_from(Movie).where(
                    Movie.owner == "fay", Movie.status.in_(("queued", "running")))) == 1
    finally:
        db.dispose_engines()
        _env(**old)
        config.reload_settings()
        keys.forget_cached_keys()


@pytest.fixture
def pg_url() -> Iterator[str]:
    from fleet_services import pg_database

    with pg_database() as url:
        yield url


@pytest.mark.fleet
def test_admission_race_postgres(pg_url: str) -> None:
    _race(pg_url)


def test_admission_race_sqlite(tmp_path: Path) -> None:
    _race(f"sqlite:///{tmp_path / 'race.db'}")


def test_user_lock_key_is_stable() -> None:
    from deepflix.service.admission import user_lock_key

    # a fixed number (not hash(), which differs per process): every gateway must lock the same thing
    assert user_lock_key("dora") == -3875807301329547990
    assert user_lock_key("ed") != user_lock_key("dora")
    assert all(-(2**63) <= user_lock_key(u) < 2**63 for u in ("dora", "ed", "x" * 64))  # a PostgreSQL bigint
