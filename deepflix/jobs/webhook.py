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

import dramatiq
import httpx

from ..core import config
from ..db.models import Movie
from ..db.session import read_session, session_scope
from .dispatch import add_event

ACTOR = "notify"
QUEUE = "cpu.high"  # small and urgent: ahead of the films
_ROUTES = {"movie": "video", "srt": "subtitles.srt", "vtt": "subtitles.vtt", "poster": "poster.jpg"}  # the gateway's


def sign(body: bytes, timestamp: str, secret: str | None = None) -> str:
    key = (secret or config.settings.deepflix_secret_key.get_secret_value()).encode()
    return "sha256=" + hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def message(movie_id: str) -> dramatiq.Message[Any]:
    return dramatiq.Message(queue_name=QUEUE, actor_name=ACTOR, args=(movie_id,), kwargs={}, options={})


def payload(movie: Movie) -> dict[str, Any]:
    files = (movie.result or {}).get("files", {})
    base = f"/api/movies/{movie.id}"
    return {
        "id": movie.id, "status": movie.status, "title": movie.title, "error": movie.error,
        "finished_at": movie.finished_at.isoformat() if movie.finished_at else None,
        "urls": {label: f"{base}/{path}" for label, path in _ROUTES.items() if label in files},
    }


def notify(movie_id: str) -> None:
    """The actor: POST the movie's outcome; an error or non-2xx answer raises, so Dramatiq retries."""
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
    try:
        r = httpx.post(url, content=body, headers=headers, timeout=10.0, follow_redirects=False)
        ok, detail = r.is_success, f"HTTP {r.status_code}"
    except httpx.HTTPError as exc:
        ok, detail = False, type(exc).__name__
    with session_scope() as s:
        add_event(s, movie_id, "webhook" if ok else "webhook_failed", message=detail)
    if not ok:
        raise RuntimeError(f"webhook for {movie_id} answered {detail}")
