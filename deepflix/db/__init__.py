"""The database: the job truth (movies, stages, events) on SQLAlchemy 2.

``deepflix.db.migrate()`` upgrades it to the newest shipped Alembic revision;
``session_scope()`` / ``read_session()`` give sessions on
``config.settings.database`` (SQLite in the data dir unless DATABASE_URL names
PostgreSQL, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/deepflix``).

Adding tables (the gateway's api_keys, audit): declare them on
``deepflix.db.base.Base`` in a module of your own, import it from
``deepflix/db/migrations/env.py``, and add a revision file under
``deepflix/db/migrations/versions/`` whose ``down_revision`` is the current
head; see deepflix/db/migrations/README.md.
"""

from .base import Base, utcnow
from .migrate import current_revision, head_revision, migrate
from .models import Event, Movie, Stage
from .session import (
    dispose_engines,
    get_engine,
    new_session,
    ping,
    read_session,
    session_scope,
)

__all__ = [
    "Base",
    "Event",
    "Movie",
    "Stage",
    "current_revision",
    "dispose_engines",
    "get_engine",
    "head_revision",
    "migrate",
    "new_session",
    "ping",
    "read_session",
    "session_scope",
    "utcnow",
]
