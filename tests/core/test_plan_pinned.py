"""The stage keys and bytes of sample films, pinned.

Recorded on main before the film plan moved the stage graph into one place
(and re-recorded only when a provider's output is meant to change), so a
refactor of how stages are wired is provably byte-identical: the same keys for
every stage, the same movie, subtitles and poster.

Re-record: DEEPFLIX_PIN_WRITE=1 python -m pytest tests/core/test_plan_pinned.py
The bytes also depend on the packages that draw and encode (ffmpeg, OpenCV, Pillow,
NumPy, ...): scripts/test installs them at scripts/constraints.txt's versions.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from deepflix.models import StoryRequest
from deepflix.pipeline import FilmOptions, make_film
from deepflix.storage.local import LocalStore

PINNED = Path(__file__).parent / "data" / "pinned_films.json"
SAMPLES = {
    "lighthouse-16x9": ("A lighthouse keeper finds a message in a bottle", "drama", "16:9"),
    "robot-9x16": ("A small robot looks for its lost dog in a rainy city", "sci-fi", "9:16"),
}
FILES = ("movie", "srt", "vtt", "poster")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def film_record(name: str, tmp: Path) -> dict[str, Any]:
    prompt, genre, aspect = SAMPLES[name]
    store = LocalStore(tmp / "store")
    res = make_film(StoryRequest(prompt=prompt, genre=genre, num_scenes=3, seed=7),  # type: ignore[arg-type]
                    opts=FilmOptions(aspect=aspect), out_dir=tmp / "film", store=store)  # type: ignore[arg-type]
    manifest = json.loads(res.files["manifest"].read_text())
    return {
        "artifacts": manifest["artifacts"],
        "files": {label: _sha(res.files[label]) for label in FILES},
    }


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_film_keys_and_bytes_are_pinned(name: str, tmp_path: Path) -> None:
    got = film_record(name, tmp_path)
    pinned = json.loads(PINNED.read_text()) if PINNED.exists() else {}
    if os.environ.get("DEEPFLIX_PIN_WRITE") == "1":
        pinned[name] = got
        PINNED.write_text(json.dumps(pinned, indent=2, sort_keys=True) + "\n")
    assert name in pinned, f"no pinned record for {name}: run with DEEPFLIX_PIN_WRITE=1"
    want = pinned[name]
    # keys first (stage by stage, so a failure names the stage), then the bytes
    for stage, keys in want["artifacts"].items():
        assert got["artifacts"].get(stage) == keys, f"{stage} keys changed"
    assert got["files"] == want["files"]
