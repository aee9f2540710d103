"""Run the shipped Alembic migrations from code: ``deepflix.db.migrate()``.

Every process that opens the database calls it at start (``deepflix serve``,
``deepflix worker``); at head it only reads the version table. Concurrent
starts are serialised: a PostgreSQL advisory lock, or a file lock next to the
SQLite file, so two processes never both try to create the tables.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from .session import database_url, get_engine

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK = 0x6465_6570  # "deep": the advisory lock id for migrations


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return cfg


@contextmanager
def _sqlite_file_lock(url: str) -> Iterator[None]:
    db = make_url(url).database
    if not db or db == ":memory:":
        yield
        return
    lock = Path(db).with_name(Path(db).name + ".migrate.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def migrate(url: str | None = None, revision: str = "head") -> str | None:
    """Upgrade the database to ``revision``; returns the revision it is at."""
    url = url or database_url()
    engine = get_engine(url)
    cfg = alembic_config(url)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK})
            conn.commit()
            try:
                _upgrade(cfg, conn, revision)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK})
                conn.commit()
    else:
        with _sqlite_file_lock(url), engine.connect() as conn:
            _upgrade(cfg, conn, revision)
    return current_revision(url)


def _upgrade(cfg: Config, conn: Connection, revision: str) -> None:
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)
    conn.commit()


def current_revision(url: str | None = None) -> str | None:
    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
