"""The stage keys and bytes of sample films, pinned.

Recorded on main before the film plan moved the stage graph into one place
(and re-recorded only when a provider's output is meant to change), so a
refactor of how stages are wired is provably byte-identical: the same keys for
every stage, the same movie, subtitles and poster.

Re-record: DEEPFLIX_PIN_WRITE=1 python -m pytest tests/core/test_plan_pinned.py
The bytes also depend on the packages that draw and encode (ffmpeg, OpenCV, Pillow,
NumPy, ...): scripts/test installs them at scripts/constraints.txt's versions. And on
the machine's class of CPU: NumPy and onnxruntime pick their float kernels by it
(AVX-512 or AVX2), so the score's and the voice's samples differ in their last bits
from one class to another. The keys are the same everywhere; the bytes are pinned per
class (``machine_class``), each recorded from a tree known to make the pinned ones
(a class with no record has its keys checked and says so). The picture and the sound
are hashed apart as well (ffmpeg's streamhash), so a change names which one moved.
The x86_64-v4 record is the one made before classes were told apart (whole files only),
on the machines of the sessions then; an x86_64-v3 (AVX2) machine makes the same keys,
subtitles and poster, and another movie.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deepflix.cut.ffmpeg.probe import ffmpeg_exe
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


def machine_class() -> str:
    """The CPU's class as NumPy sees it (x86-64 levels: v4 has AVX-512)."""
    features = np._core._multiarray_umath.__cpu_features__  # type: ignore[attr-defined]
    level = next((lv for lv in ("X86_V4", "X86_V3", "X86_V2") if features.get(lv)), "base")
    return f"{platform.machine()}-{level.lower().replace('x86_', '')}"


def stream_hashes(movie: Path) -> dict[str, str]:
    """The picture's, the sound's and the subtitle track's packets, hashed apart."""
    out = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(movie), "-map", "0", "-c", "copy", "-f", "streamhash",
                          "-hash", "sha256", "-"], capture_output=True, text=True, check=True, timeout=60).stdout
    kinds = {"v": "picture", "a": "sound", "s": "subtitle track"}
    return {kinds[kind]: value.split("=", 1)[1] for _, kind, value in (line.split(",", 2) for line in out.split())}


def film_record(name: str, tmp: Path) -> dict[str, Any]:
    prompt, genre, aspect = SAMPLES[name]
    store = LocalStore(tmp / "store")
    res = make_film(StoryRequest(prompt=prompt, genre=genre, num_scenes=3, seed=7),  # type: ignore[arg-type]
                    opts=FilmOptions(aspect=aspect), out_dir=tmp / "film", store=store)  # type: ignore[arg-type]
    manifest = json.loads(res.files["manifest"].read_text())
    return {
        "artifacts": manifest["artifacts"],
        "files": {**{label: _sha(res.files[label]) for label in FILES}, **stream_hashes(res.files["movie"])},
    }


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_film_keys_and_bytes_are_pinned(name: str, tmp_path: Path) -> None:
    got = film_record(name, tmp_path)
    pinned = json.loads(PINNED.read_text()) if PINNED.exists() else {}
    here = machine_class()
    if os.environ.get("DEEPFLIX_PIN_WRITE") == "1":
        kept = pinned.get(name, {})
        others = kept.get("files", {}) if kept.get("artifacts") == got["artifacts"] else {}  # new keys: new bytes
        pinned[name] = {"artifacts": got["artifacts"], "files": {**others, here: got["files"]}}
        PINNED.write_text(json.dumps(pinned, indent=2, sort_keys=True) + "\n")
    assert name in pinned, f"no pinned record for {name}: run with DEEPFLIX_PIN_WRITE=1"
    want = pinned[name]
    # keys first (stage by stage, so a failure names the stage), then the bytes
    for stage, keys in want["artifacts"].items():
        assert got["artifacts"].get(stage) == keys, f"{stage} keys changed"
    if here not in want["files"]:
        pytest.skip(f"keys as pinned; no bytes pinned for a {here} CPU (pinned: {', '.join(want['files'])}): "
                    "record them with DEEPFLIX_PIN_WRITE=1 from a tree known to make the pinned bytes")
    recorded = want["files"][here]
    assert {label: got["files"].get(label) for label in recorded} == recorded
