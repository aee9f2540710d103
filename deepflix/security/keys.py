"""API keys: made here, shown once, stored only as a keyed hash.

A key reads ``dfx_<id>_<secret>``: the id (public, 12 hex digits) finds the row,
the secret (32 random bytes) proves the caller holds it. The row keeps
HMAC-SHA256(pepper, key), the pepper being DEEPFLIX_SECRET_KEY, so a copy of the
database alone cannot be used to check guesses. Keys carry 256 bits of entropy,
so one fast keyed hash is enough (a slow password hash buys nothing here and
would cost every request); the comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..core import config
from ..db.access import ApiKey
from ..errors import InvalidInput

KEY_RE = re.compile(r"dfx_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
USER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
ROLES = ("user", "admin")
# last_used_at is kept to this granularity: a busy key costs one write a minute, not one per request
LAST_USED_EVERY = 60.0


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user a key belongs to, and that key's limits."""

    user: str
    key_id: str
    role: str = "user"
    max_concurrent_jobs: int | None = None
    films_per_day: int | None = None
    rate_per_minute: float | None = None
    high_priority: bool = False  # may submit priority "high" (admins always may)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _pepper() -> bytes:
    return config.settings.deepflix_secret_key.get_secret_value().encode()


def hash_key(raw: str) -> str:
    return hmac.new(_pepper(), raw.encode(), hashlib.sha256).hexdigest()


def check_user(user: str) -> str:
    if not USER_RE.fullmatch(user or ""):
        raise InvalidInput(
            f"user name {user!r} is not allowed: 1-64 characters, letters, digits and . _ @ -, starting with a letter or digit"
        )
    return user


def create_key(
    session: Session,
    user: str,
    *,
    name: str = "",
    role: str = "user",
    max_concurrent_jobs: int | None = None,
    films_per_day: int | None = None,
    rate_per_minute: float | None = None,
    high_priority: bool = False,
) -> tuple[str, ApiKey]:
    """A new key for ``user``: returns the key (shown once, never stored) and its row."""
    check_user(user)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    key_id = secrets.token_hex(6)
    raw = f"dfx_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        id=key_id,
        user=user,
        name=name[:100],
        key_hash=hash_key(raw),
        role=role,
        created_at=datetime.now(UTC),
        max_concurrent_jobs=max_concurrent_jobs,
        films_per_day=films_per_day,
        rate_per_minute=rate_per_minute,
        high_priority=high_priority,
    )
    session.add(row)
    session.flush()
    return raw, row


def list_keys(session: Session, user: str | None = None) -> list[ApiKey]:
    q = select(ApiKey).order_by(ApiKey.created_at)
    if user:
        q = q.where(ApiKey.user == user)
    return list(session.scalars(q))


def revoke_key(session: Session, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise InvalidInput(f"no API key with id {key_id!r}; `deepflix keys list` shows them")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
    _cache.forget(key_id)
    return row


def touch_due(key_id: str) -> bool:
    """True at most once per LAST_USED_EVERY seconds per key in this process: the caller
    should then write last_used_at (touch). Claims the slot at once, so of many requests
    arriving together only one goes to the database."""
    return _cache.claim_touch(key_id, LAST_USED_EVERY)


def touch(session: Session, key_id: str, now: datetime | None = None) -> bool:
    """Set the key's last_used_at to now unless it was set less than LAST_USED_EVERY ago.
    One conditional UPDATE: other gateways (or threads) touching the same key at the same
    moment neither wait on a read nor each write; the row is written at most once a minute.
    Returns whether this call wrote it."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(seconds=LAST_USED_EVERY)
    result = session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < cutoff))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def verify_cached(raw: str) -> Principal | None:
    """The principal when this key was verified moments ago (see _KeyCache), else None."""
    m = KEY_RE.fullmatch(raw or "")
    return _cache.get(m.group(1), hash_key(raw)) if m else None


def verify(session: Session, raw: str) -> Principal | None:
    """The principal for a presented key, or None (malformed, unknown, wrong, revoked)."""
    m = KEY_RE.fullmatch(raw or "")
    if not m:
        return None
    digest = hash_key(raw)
    cached = _cache.get(m.group(1), digest)
    if cached is not None:
        return cached
    row = session.get(ApiKey, m.group(1))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest):
        return None
    p = Principal(
        user=row.user,
        key_id=row.id,
        role=row.role,
        max_concurrent_jobs=row.max_concurrent_jobs,
        films_per_day=row.films_per_day,
        rate_per_minute=row.rate_per_minute,
        high_priority=bool(row.high_priority),
    )
    _cache.put(row.id, digest, p)
    return p


class _KeyCache:
    """Verified keys for a few seconds, so a busy client costs one hash, not a query,
    per request. Stores the digest too: a different secret under a cached id misses."""

    def __init__(self) -> None:
        self._d: dict[str, tuple[str, Principal, float]] = {}
        self._touched: dict[str, float] = {}  # key id -> when this process last wrote its last_used_at
        self._lock = threading.Lock()

    def ttl(self) -> float:
        return config.settings.gateway.deepflix_key_cache_seconds

    def get(self, key_id: str, digest: str) -> Principal | None:
        with self._lock:
            hit = self._d.get(key_id)
        if hit and hmac.compare_digest(hit[0], digest) and time.monotonic() - hit[2] < self.ttl():
            return hit[1]
        return None

    def put(self, key_id: str, digest: str, p: Principal) -> None:
        if self.ttl() <= 0:
            return
        with self._lock:
            if len(self._d) > 50_000:
                self._d.clear()
            self._d[key_id] = (digest, p, time.monotonic())

    def claim_touch(self, key_id: str, every: float) -> bool:
        now = time.monotonic()
        with self._lock:
            last = self._touched.get(key_id)
            if last is not None and now - last < every:
                return False
            if len(self._touched) > 50_000:
                self._touched.clear()
            self._touched[key_id] = now
            return True

    def forget(self, key_id: str | None = None) -> None:
        with self._lock:
            if key_id is None:
                self._d.clear()
                self._touched.clear()
            else:
                self._d.pop(key_id, None)
                self._touched.pop(key_id, None)


_cache = _KeyCache()
forget_cached_keys = _cache.forget
