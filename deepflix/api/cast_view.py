"""A film's cast as the API shows it: each character's id, name and portrait URL.

A portrait is the cast stage's artifact for that character (row ``cast``, index =
the character's place in the story), served like a scene's picture: a signed link
that an <img> opens without the key, with the artifact's key in the address so a
replaced portrait gets a new one (no stale cache).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..security import links
from .schemas import CastMember


def portrait_url(movie: dict[str, Any], character_id: str, key: str) -> str:
    base = f"/api/movies/{movie['id']}/cast/{character_id}/portrait"
    return links.signed(base, movie["id"], f"portrait:{character_id}", movie["owner"]) + f"&v={key[:12]}"


def _keys(movie: dict[str, Any]) -> dict[int, str]:
    return {int(s["scene"] or 0): str(s["artifact_key"]) for s in movie["stages"]
            if s["name"] == "cast" and s["status"] == "succeeded" and s["artifact_key"]}


def cast_of(movie: dict[str, Any]) -> list[CastMember]:
    """The story's characters in order; a portrait URL for those whose portrait is made."""
    chars = (movie.get("story") or {}).get("characters") or []
    keys = _keys(movie)
    return [CastMember(id=c["id"], name=c["name"], role=c.get("role"), user=bool(c.get("portrait")),
                       portrait=portrait_url(movie, c["id"], keys[i]) if i in keys else None)
            for i, c in enumerate(chars)]


def portrait_path(movie: dict[str, Any], character_id: str) -> Path | None:
    """The local file of a character's portrait sheet (fetched when the store is remote), or None."""
    from ..storage import open_store

    chars = (movie.get("story") or {}).get("characters") or []
    i = next((j for j, c in enumerate(chars) if c.get("id") == character_id), None)
    key = _keys(movie).get(i) if i is not None else None
    if key is None:
        return None
    store = open_store()
    stored = store.load_result(key) or {}
    name = (stored.get("result") or {}).get("image")
    if not name:
        return None
    try:
        return store.local_path(key, str(name))
    except (FileNotFoundError, OSError):
        return None
