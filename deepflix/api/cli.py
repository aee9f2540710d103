"""`deepflix keys create|list|revoke` and `deepflix serve`, added to the main CLI by
``register(app)`` (deepflix/cli/ calls it when the `service` extra is installed)."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from .. import db
from ..core import config
from ..core.private import service_umask
from ..db import read_session, session_scope
from ..errors import InvalidInput
from ..security import audit, keys
from ..security.secret import ensure_serving_secret
from .logs import configure_json_logging, redact_logs
from .main import create_app

keys_app = typer.Typer(help="API keys: make, list and revoke them.", no_args_is_help=True)


def _db_ready() -> None:
    db.migrate()


@keys_app.command("create")
def keys_create(
    user: Annotated[str, typer.Option("--user", "-u", help="Whose key: films made with it belong to this user.")],
    name: Annotated[str, typer.Option(help="A label, e.g. the machine or app that uses it.")] = "",
    admin: Annotated[bool, typer.Option("--admin", help="May see the operators' queue board.")] = False,
    max_concurrent: Annotated[int | None, typer.Option(min=1, help="Unfinished films at once (default: DEEPFLIX_MAX_CONCURRENT_JOBS).")] = None,
    films_per_day: Annotated[int | None, typer.Option(min=1, help="Films started per 24 h (default: DEEPFLIX_FILMS_PER_DAY).")] = None,
    rate_per_minute: Annotated[float | None, typer.Option(min=0.1, help="Requests a minute (default: DEEPFLIX_RATE_PER_MINUTE).")] = None,
    high_priority: Annotated[bool, typer.Option("--high-priority", help="May submit films with priority high.")] = False,
) -> None:
    """Make a key and print it. It is shown once: only its hash is stored."""

    _db_ready()
    with session_scope() as s:
        raw, row = keys.create_key(s, user, name=name, role="admin" if admin else "user",
                                   max_concurrent_jobs=max_concurrent, films_per_day=films_per_day,
                                   rate_per_minute=rate_per_minute, high_priority=high_priority)
        audit.record(s, "key.create", user=user, key_id=row.id, target=row.id, detail={"via": "cli", "role": row.role})
    typer.echo(raw)
    typer.echo(f"key {row.id} for {user}: keep it secret; it is not shown again", err=True)


@keys_app.command("list")
def keys_list(user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's keys.")] = None) -> None:
    """List keys (ids, users, state, when last used (to the minute); never the keys themselves)."""

    _db_ready()
    with read_session() as s:
        rows = keys.list_keys(s, user)
        for r in rows:
            state = f"revoked {r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "active"
            limits = ", ".join(f"{k}={v}" for k, v in (("jobs", r.max_concurrent_jobs), ("per_day", r.films_per_day),
                                                      ("rpm", r.rate_per_minute)) if v is not None)
            used = f"used {r.last_used_at:%Y-%m-%d %H:%M}" if r.last_used_at else "never used"
            typer.echo(f"{r.id}  {r.user:<20} {r.role:<5} {state:<24} {r.created_at:%Y-%m-%d}  {used:<22} {r.name}"
                       + (f"  [{limits}]" if limits else ""))
    if not rows:
        typer.echo("no keys; make one with `deepflix keys create --user NAME`", err=True)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from `deepflix keys list`).")]) -> None:
    """Revoke a key: it stops working at once here, within DEEPFLIX_KEY_CACHE_SECONDS elsewhere."""

    _db_ready()
    with session_scope() as s:
        row = keys.revoke_key(s, key_id)
        audit.record(s, "key.revoke", user=row.user, key_id=row.id, target=row.id, detail={"via": "cli"})
    typer.echo(f"revoked {key_id} ({row.user})")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: PORT, 3006).")] = None,
    workers: Annotated[bool, typer.Option("--workers/--no-workers", help="Run stage workers in this process "
                                           "(--no-workers when `deepflix worker` processes do the work).")] = True,
    threads: Annotated[int | None, typer.Option(help="Worker threads in this process.")] = None,
    json_logs: Annotated[bool, typer.Option("--json-logs/--plain-logs", help="One JSON object per log line.")] = True,
) -> None:
    """Run the service: the REST API and web pages, plus the job system (a private
    Redis unless REDIS_URL is set, the reconciler, and worker threads)."""
    import uvicorn


    name, port = ("--port", port) if port is not None else ("PORT", config.settings.port)
    if not 1 <= port <= 65535:  # uvicorn would listen on port % 65536 and say the number asked for
        raise InvalidInput(f"{name} must be between 1 and 65535; got {port}")
    service_umask()  # the database, Redis's append-only file and the films: this user's alone
    if json_logs:
        configure_json_logging()
    else:
        redact_logs()
    ensure_serving_secret(host)  # off loopback, never the public default secret
    services = None
    try:
        from ..jobs.worker import start_services
    except ModuleNotFoundError:  # the job system is not installed: the API alone (submissions wait)
        _db_ready()
    else:
        services = start_services(threads=threads, workers=workers)
    # uvicorn re-raises the SIGTERM it caught once it has shut down; with only the default
    # handler that would kill the process before the job system (and its Redis) is stopped
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.run(create_app(), host=host, port=port, log_config=None,
                    proxy_headers=False, server_header=False)
    finally:
        if services is not None:
            services.stop()
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.command("serve")(serve)
