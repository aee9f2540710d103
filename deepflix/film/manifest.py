"""A finished film's record: its files, size, providers and every stage's keys.

The job system stores it as the movie's result; ``deepflix make`` writes it,
with the story and the timings, as film.json. One function, so both say the
same of the same film.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..models import CutResult, Story
from ..storage import ArtifactStore
from .plan import Plan

# the cut's files: (label, the CutResult field, the name in a film folder)
FILM_FILES = (("movie", "video", "movie.mp4"), ("srt", "srt", "movie.srt"), ("vtt", "vtt", "movie.vtt"),
              ("poster", "poster", "poster.jpg"), ("preview", "preview", "preview"))


def artifacts(plan: Plan, keys: dict[str, list[str | None]]) -> dict[str, Any]:
    """Every stage's keys under its manifest name: a list per scene or character, one key per film."""
    out: dict[str, Any] = {}
    for st in plan:
        found = list(keys.get(st.name, []))
        while st.per != "film" and found and found[-1] is None:  # by scene: None where a scene has none
            found.pop()
        out[st.artifact] = (found[0] if found else None) if st.per == "film" else found
    return out


def film_record(plan: Plan, final: Any, providers: dict[str, str], keys: dict[str, list[str | None]],
                warnings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``warnings``: what a viewer should know the film lacks or gets wrong, each
    ``{"stage", "scene", "message"}``: the story checker's findings (quality.consistency,
    which the callers run: this layer sits below it) and the rows a film went on without
    (a clip that failed is its still). Only written when there are some."""
    res: CutResult = final.result
    files = {label: {"key": final.key, "name": getattr(res, field)}
             for label, field, _ in FILM_FILES if getattr(res, field)}
    record = {"files": files, "duration": res.duration, "width": res.width, "height": res.height,
              "providers": providers, "artifacts": artifacts(plan, keys)}
    if warnings:
        record["warnings"] = warnings
    return record


def _place(src: Path, dest: Path) -> None:
    """Put a stored file at dest: a hard link when possible (no copy), replacing atomically."""
    if dest.exists() and dest.samefile(src):
        return  # rename() onto a hard link of the same file does nothing and leaves the .tmp behind
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        try:
            tmp.hardlink_to(src)
        except OSError:
            shutil.copyfile(src, tmp)
        tmp.replace(dest)
    except OSError as exc:  # a full disk, most often: leave nothing half-written behind
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {dest}: {exc.strerror or exc}; free some space (or choose another --out) "
                           "and run the same command again: finished stages are kept") from exc


def export(store: ArtifactStore, record: dict[str, Any], story: Story, out_dir: Path,
           extra: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write a finished film into a folder: its media, story.json and film.json."""
    files: dict[str, Path] = {}
    for label, _, dest in FILM_FILES:
        f = record["files"].get(label)
        if not f:
            continue
        name = dest + (Path(f["name"]).suffix if label == "preview" else "")
        _place(store.local_path(f["key"], f["name"]), out_dir / name)
        files[label] = out_dir / name
    (out_dir / "story.json").write_text(story.model_dump_json(indent=2))
    files["story"] = out_dir / "story.json"
    manifest = {"story": story.model_dump(mode="json"), **record, **(extra or {})}
    (out_dir / "film.json").write_text(json.dumps(manifest, indent=2))
    files["manifest"] = out_dir / "film.json"
    return files
