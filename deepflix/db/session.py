"""Engines and sessions for the job truth: SQLite on one machine, PostgreSQL in a fleet.

SQLite notes. WAL mode (readers never block the writer), a 30 s busy timeout,
foreign keys on (stage and event rows go with their movie). Write sessions
start with BEGIN IMMEDIATE: the write lock is taken at the start of the
transaction, so a transaction never reads a snapshot that another writer has
since changed (which SQLite would answer with SQLITE_BUSY instead of waiting),
and the job transitions (fan-in included) run one at a time. Read sessions
start a plain deferred BEGIN and never block writers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ..core import config
from ..core.private import private_dir, private_file

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_makers: dict[tuple[str, bool], sessionmaker[Session]] = {}


def database_url() -> str:
    return config.settings.database


def is_sqlite(bind: Any) -> bool:
    return bool(bind.dialect.name == "sqlite")


def _private_sqlite(db: Path) -> None:
    """The database holds key hashes and every prompt: 0600 (its -wal and -shm files take
    its mode), in a 0700 folder when that is the data folder or one we make."""

    if not db.parent.is_dir() or db.parent.resolve() == Path(config.settings.deepflix_data_dir).resolve():
        private_dir(db.parent)
    private_file(db)
    for extra in ("-wal", "-shm"):
        if db.with_name(db.name + extra).exists():
            private_file(db.with_name(db.name + extra))


def _sqlite_engine(url: str) -> Engine:
    u = make_url(url)
    file_db = bool(u.database) and u.database != ":memory:"
    if file_db:
        _private_sqlite(Path(str(u.database)))
    # A pool as large as the gateway's thread pool (anyio's 40): past pool_size every
    # connection was opened and closed per request (its PRAGMAs each time), about 7% of
    # the gateway's CPU under 200 clients. A connection costs a file handle and a page cache.
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           **({"pool_size": 40, "max_overflow": 20} if file_db else {}))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN " + conn.get_execution_options().get("sqlite_begin", "DEFERRED"))

    return engine


def get_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = _sqlite_engine(url)
            else:
                engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
            _engines[url] = engine
        return engine


def _maker(url: str | None, write: bool) -> sessionmaker[Session]:
    url = url or database_url()
    with _lock:
        mk = _makers.get((url, write))
    if mk is None:
        engine = get_engine(url)
        bind = engine.execution_options(sqlite_begin="IMMEDIATE") if write and is_sqlite(engine) else engine
        mk = sessionmaker(bind=bind, expire_on_commit=False)
        with _lock:
            _makers[(url, write)] = mk
    return mk


def new_session(url: str | None = None, *, write: bool = True) -> Session:
    return _maker(url, write)()


@contextmanager
def session_scope(url: str | None = None, *, write: bool = True) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = new_session(url, write=write)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_session(url: str | None = None) -> Iterator[Session]:
    with session_scope(url, write=False) as s:
        yield s


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before a fork)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _makers.clear()


def ping(url: str | None = None) -> bool:
    try:
        with get_engine(url).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
