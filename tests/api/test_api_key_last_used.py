"""An API key's last_used_at: set when the key authenticates, written at most once a
minute (a busy key costs no write per request, in this process or across gateways),
and shown by `deepflix keys list`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Gateway, make_gateway
from test_api_keys import _cli
from typer.testing import CliRunner


@pytest.fixture(scope="module")
def lu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from make_gateway(tmp_path_factory.mktemp("last_used"))


def _last_used(key_id: str) -> datetime | None:
    from deepflix import db
    from deepflix.security.models import ApiKey

    with db.read_session() as s:
        row = s.get(ApiKey, key_id)
        assert row is not None
        return row.last_used_at


def test_last_used_at_is_set_and_throttled(lu: Gateway) -> None:
    from sqlalchemy import event, update

    from deepflix import db
    from deepflix.security import keys
    from deepflix.security.models import ApiKey

    with db.session_scope() as s:
        raw, row = keys.create_key(s, "gil")
        unused_raw, unused = keys.create_key(s, "gil", name="spare")
    key_id = row.id
    assert _last_used(key_id) is None

    before = datetime.now(UTC)
    assert lu.client.get("/api/movies", headers={"X-API-Key": raw}).status_code == 200
    first = _last_used(key_id)
    assert first is not None and before - timedelta(seconds=1) <= first <= datetime.now(UTC)

    # within the minute: no new write, neither from this process (not even an UPDATE sent) ...
    updates: list[str] = []

    def _seen(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE API_KEYS"):
            updates.append(statement)

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", _seen)
    try:
        for _ in range(3):
            assert lu.client.get("/api/movies", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", _seen)
    assert updates == [] and _last_used(key_id) == first
    # ... nor from another gateway (one that has not seen the key: the UPDATE's own condition holds it back)
    keys.forget_cached_keys()
    assert lu.client.get("/api/movies", headers={"X-API-Key": raw}).status_code == 200
    assert _last_used(key_id) == first
    with db.session_scope() as s:
        assert keys.touch(s, key_id) is False

    # a minute on, the next request records the use again
    with db.session_scope() as s:
        s.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=first - timedelta(seconds=61)))
    keys.forget_cached_keys()
    assert lu.client.get("/api/movies", headers={"X-API-Key": raw}).status_code == 200
    again = _last_used(key_id)
    assert again is not None and again >= first

    # a refused key records nothing; the spare key was never used
    wrong = unused_raw[:-1] + ("A" if unused_raw[-1] != "A" else "B")  # well formed, known id, wrong secret
    assert lu.client.get("/api/movies", headers={"X-API-Key": wrong}).status_code == 401
    assert _last_used(unused.id) is None

    listing = CliRunner().invoke(_cli(), ["keys", "list", "--user", "gil"])
    assert listing.exit_code == 0, listing.output
    lines = {ln.split()[0]: ln for ln in listing.stdout.splitlines()}
    assert f"used {again:%Y-%m-%d %H:%M}" in lines[key_id]
    assert "never used" in lines[unused.id]
