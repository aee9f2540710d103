"""`deepflix keys create|list|revoke`: a key is printed once, stored only as a keyed
hash, works as X-API-Key or Bearer, and stops working when revoked. The audit
log records who did what, when, from where."""

from __future__ import annotations

import hashlib
import hmac

import typer
from conftest import Gateway
from sqlalchemy import select
from typer.testing import CliRunner


def _cli() -> typer.Typer:
    from deepflix.api.cli import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app)
    return app


def test_keys_create_list_revoke(gw: Gateway) -> None:
    from deepflix import db
    from deepflix.security.models import ApiKey

    runner = CliRunner()
    app = _cli()
    r = runner.invoke(app, ["keys", "create", "--user", "carol", "--name", "laptop"])
    assert r.exit_code == 0, r.output
    key = r.stdout.strip().splitlines()[0]
    assert key.startswith("dfx_") and len(key) == 4 + 12 + 1 + 43
    key_id = key[4:16]

    with db.read_session() as s:
        row = s.get(ApiKey, key_id)
        assert row is not None and row.user == "carol" and row.name == "laptop"
        pepper = b"test-pepper-not-for-production"
        assert row.key_hash == hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()
        stored = " ".join(str(v) for v in vars(row).values())
        assert key not in stored and key[17:] not in stored  # the secret is nowhere in the row

    listing = runner.invoke(app, ["keys", "list", "--user", "carol"])
    assert listing.exit_code == 0 and key_id in listing.stdout and key[17:] not in listing.stdout

    c = gw.client
    assert c.get("/api/movies", headers={"X-API-Key": key}).status_code == 200
    assert c.get("/api/movies", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert c.get("/api/movies", headers={"X-API-Key": key[:-1] + ("A" if key[-1] != "A" else "B")}).status_code == 401

    r = runner.invoke(app, ["keys", "revoke", key_id])
    assert r.exit_code == 0, r.output
    assert c.get("/api/movies", headers={"X-API-Key": key}).status_code == 401
    assert "revoked" in runner.invoke(app, ["keys", "list", "--user", "carol"]).stdout


def test_bad_user_names_are_refused(gw: Gateway) -> None:
    r = CliRunner().invoke(_cli(), ["keys", "create", "--user", "no spaces please"])
    assert r.exit_code != 0 and "not allowed" in str(r.exception)


def test_audit_log_records_actions_and_refusals(gw: Gateway) -> None:
    from deepflix import db
    from deepflix.security.models import AuditEntry

    c = gw.client
    mid = c.post("/api/movies", json={"prompt": "audited"}, headers={**gw.h("alice"), "User-Agent": "audit-test/1"}).json()["id"]
    c.post(f"/api/movies/{mid}/cancel", headers=gw.h("alice"))
    c.post(f"/api/movies/{mid}/cancel", headers=gw.h("alice"))  # 409: already cancelled
    c.delete(f"/api/movies/{mid}", headers=gw.h("alice"))
    c.get("/api/movies", headers={"X-API-Key": "dfx_0123456789ab_" + "D" * 43})
    with db.read_session() as s:
        rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    mine = [(r.action, r.outcome) for r in rows if r.target == mid]
    assert mine == [("movie.create", 202), ("movie.cancel", 200), ("movie.cancel", 409), ("movie.delete", 204)]
    create = next(r for r in rows if r.target == mid)
    assert create.user == "alice" and create.ip == "testclient" and create.user_agent == "audit-test/1"
    assert create.key_id == gw.keys["alice"][4:16] and create.request_id and create.at is not None
    denied = [r for r in rows if r.action == "auth.denied"]
    assert denied and denied[-1].user is None and denied[-1].outcome == 401
    assert all("dfx_" not in (r.detail or "") for r in rows)  # no key ever lands in the log
