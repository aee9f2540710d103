"""Shared steps of the review tests: wait for a film's state, read what a render remade."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from web_harness import Gateway


def wait_status(gw: Gateway, user: str, movie_id: str, want: str, seconds: float = 240.0) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        m = httpx.get(f"{gw.base_url}/api/movies/{movie_id}", headers=gw.auth(user), timeout=30).json()
        if m["status"] == want:
            return m
        if m["status"] in ("failed", "cancelled") or time.monotonic() > deadline:
            raise AssertionError(f"wanted {want}, the film is {m['status']}: {m['error']} {m['stages']}")
        time.sleep(0.2)


def last_render(movie_id: str) -> tuple[set[tuple[str, int | None]], set[tuple[str, int | None]]]:
    """(remade, cached) stage rows of the film's latest render, from its stage_done events."""
    from sqlalchemy import select

    from deepflix import db
    from deepflix.db.models import Event

    with db.read_session() as s:
        start = s.scalar(select(Event.id).where(Event.movie_id == movie_id, Event.kind == "render")
                         .order_by(Event.id.desc()).limit(1))
        assert start is not None, "the film was never rendered"
        done = list(s.scalars(select(Event).where(Event.movie_id == movie_id, Event.id > start,
                                                  Event.kind == "stage_done")))
    remade = {(e.stage, e.scene) for e in done if not (e.data or {}).get("cached")}
    cached = {(e.stage, e.scene) for e in done if (e.data or {}).get("cached")}
    return remade, cached


def dry_rows(gw: Gateway, user: str, movie_id: str) -> dict[str, Any]:
    r = httpx.get(f"{gw.base_url}/api/movies/{movie_id}/render", headers=gw.auth(user), timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    body["remake"] = {(x["stage"], x["index"]) for x in body["rows"] if x["remake"]}
    body["cached"] = {(x["stage"], x["index"]) for x in body["rows"] if not x["remake"]}
    return body
