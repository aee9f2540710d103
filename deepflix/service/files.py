"""A movie's files in the artifact store: the finished film's (video, subtitles, poster),
a scene's picture and a character's portrait, as local paths (fetched first when the
store is remote), or None when they are not made (or gone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..storage import open_store
from .public import Record, portrait_keys

FILES = {"video": "video", "srt": "srt", "vtt": "vtt", "poster": "poster"}  # which -> CutResult field
FILE_LABELS = {"video": "movie", "srt": "srt", "vtt": "vtt", "poster": "poster"}  # which -> job result's files


def _stored_result(key: str) -> dict[str, Any]:
    """A stage's result model as stored (the runner keeps it under "result" in result.json)."""
    stored = open_store().load_result(key) or {}
    inner = stored.get("result")
    return inner if isinstance(inner, dict) else stored


def _local(key: str, name: str) -> Path | None:
    try:
        return open_store().local_path(key, name)
    except (FileNotFoundError, OSError):
        return None


def artifact_path(movie: Record, which: str) -> Path | None:
    """A file of the finished film. The job's result names the files; failing that, the
    cut stage's stored result does."""
    ref = ((movie.get("result") or {}).get("files") or {}).get(FILE_LABELS[which])
    if isinstance(ref, dict) and ref.get("key") and ref.get("name"):
        return _local(str(ref["key"]), str(ref["name"]))
    key = next((s["artifact_key"] for s in movie["stages"] if s["name"] == "cut" and s["status"] == "succeeded"
                and s["artifact_key"]), None)
    if key is None:
        return None
    name = _stored_result(key).get(FILES[which])
    return _local(key, str(name)) if name else None


def scene_picture_path(movie: Record, scene: int) -> Path | None:
    key = next((s["artifact_key"] for s in movie["stages"] if s["name"] == "picture" and s["scene"] == scene
                and s["status"] == "succeeded" and s["artifact_key"]), None)
    if key is None:
        return None
    name = _stored_result(key).get("image")
    return _local(key, str(name)) if name else None


def portrait_path(movie: Record, character_id: str) -> Path | None:
    """A character's portrait sheet (the cast stage's artifact for them)."""
    chars = (movie.get("story") or {}).get("characters") or []
    i = next((j for j, c in enumerate(chars) if c.get("id") == character_id), None)
    key = portrait_keys(movie).get(i) if i is not None else None
    if key is None:
        return None
    name = _stored_result(key).get("image")
    return _local(key, str(name)) if name else None

