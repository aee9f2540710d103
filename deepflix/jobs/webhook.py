"""Error notification: an optional webhook per movie, called when it is done
or has failed, signed with HMAC-SHA256 and retried with backoff.

The request: ``POST <webhook_url>`` with a JSON body (id, status, title,
error, finished_at, urls of the video, subtitles and poster) and the headers
``X-DeepFlix-Event: movie.succeeded | movie.failed``,
``X-DeepFlix-Timestamp: <unix seconds>`` and
``X-DeepFlix-Signature: sha256=<hex HMAC of "<timestamp>.<body>" keyed with DEEPFLIX_SECRET_KEY>``.
A receiver recomputes the HMAC and rejects old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from dramatiq.middleware import CurrentMessage

from ..core import config
from ..db.models import Movie
from ..db.session import read_session, session_scope
from ..security.netguard import AddressRefused, resolve_checked
from . import broker
from .broker import NOTIFY_ACTOR as ACTOR
from .broker import NOTIFY_QUEUE as QUEUE
from .broker import notify_message as message
from .dispatch import add_event
from .settings import job_settings

_ROUTES = {"movie": "video", "srt": "subtitles.srt", "vtt": "subtitles.vtt", "poster": "poster.jpg"}  # the gateway's


def sign(body: bytes, timestamp: str, secret: str | None = None) -> str:
    key = (secret or config.settings.deepflix_secret_key.get_secret_value()).encode()
    return "sha256=" + hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def payload(movie: Movie) -> dict[str, Any]:
    files = (movie.result or {}).get("files", {})
    base = f"/api/movies/{movie.id}"
    return {
        "id": movie.id, "status": movie.status, "title": movie.title, "error": movie.error,
        "finished_at": movie.finished_at.isoformat() if movie.finished_at else None,
        "urls": {label: f"{base}/{path}" for label, path in _ROUTES.items() if label in files},
    }


def _attempt() -> int:
    msg = CurrentMessage.get_current_message()
    return int(msg.options.get("retries", 0)) + 1 if msg is not None else 1


def _post(url: str, body: bytes, headers: dict[str, str], allow_private: bool) -> httpx.Response:
    """POST to the address that was checked (security/netguard.py), naming the host in
    the Host header and, for https, in SNI and the certificate check: a second DNS
    lookup (which could answer with another address) never happens."""
    host, port, addrs = resolve_checked(url, allow_private)
    parts = urlsplit(url)
    ip = addrs[0]
    netloc = (f"[{ip}]" if ":" in ip else ip) + f":{port}"
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    default = 443 if parts.scheme == "https" else 80
    headers = {**headers, "Host": host if port == default else f"{host}:{port}"}
    with httpx.Client(timeout=10.0, follow_redirects=False) as client:
        request = client.build_request("POST", target, content=body, headers=headers,
                                       extensions={"sni_hostname": host})
        return client.send(request)


def notify(movie_id: str) -> None:
    """The actor: POST the movie's outcome. Each attempt is recorded as an event
    (webhook / webhook_failed / webhook_refused, with the attempt and the status);
    an error or a non-2xx answer raises, so Dramatiq retries with backoff. A refused
    address or a redirect (never followed) is not retried."""

    with read_session() as s:
        movie = s.get(Movie, movie_id)
        if movie is None or not movie.webhook_url or movie.status not in ("succeeded", "failed"):
            return
        url, body_obj = movie.webhook_url, payload(movie)
    body = json.dumps(body_obj, sort_keys=True).encode()
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "DeepFlix-Webhook/1",
               "X-DeepFlix-Event": f"movie.{body_obj['status']}", "X-DeepFlix-Timestamp": ts,
               "X-DeepFlix-Signature": sign(body, ts)}
    attempt, status, retry = _attempt(), None, True
    try:
        r = _post(url, body, headers, job_settings().webhook_allow_private)
        status = r.status_code
        ok, kind, detail = r.is_success, "webhook", f"HTTP {r.status_code}"
        if r.is_redirect or 300 <= r.status_code < 400:
            ok, kind, retry = False, "webhook_refused", False
            detail = f"HTTP {r.status_code}: redirects are not followed"
        elif not ok:
            kind = "webhook_failed"
    except AddressRefused as exc:
        ok, kind, detail, retry = False, "webhook_refused", str(exc), False
    except httpx.HTTPError as exc:
        ok, kind, detail = False, "webhook_failed", type(exc).__name__
    with session_scope() as s:
        add_event(s, movie_id, kind, message=detail, data={"attempt": attempt, "status": status})
    if not ok and retry:
        raise RuntimeError(f"webhook for {movie_id} answered {detail}")


broker.handle(ACTOR, notify)  # the broker's notify actor runs this (broker.py: it never imports us)

__all__ = ["ACTOR", "QUEUE", "message", "notify", "payload", "sign"]
