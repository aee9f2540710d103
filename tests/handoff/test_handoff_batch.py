"""Issue 22: `deepflix make --batch`: 3 requests, one of them invalid, make 2
films, one clear error and a summary; running the batch again makes nothing new."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BATCH = """# two films and a mistake
A fox learns to sail on a windy lake
{"prompt": "A robot gardener on the moon", "genre": "western"}
{"prompt": "Two sisters open a bakery in the village", "genre": "comedy", "seed": 3}
"""


def batch(path: Path, films: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "deepflix", "make", "--batch", str(path), "--out", str(films),
                           "--scenes", "1", "--resolution", "360p"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"}, timeout=900)


def test_a_batch_makes_the_good_lines_once(tmp_path: Path) -> None:
    (tmp_path / "films.txt").write_text(BATCH)
    films = tmp_path / "films"
    first = batch(tmp_path / "films.txt", films)
    assert first.returncode == 1, first.stderr  # one line failed
    errors = [ln for ln in first.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: line 3: genre:"), first.stderr
    made = sorted(p for p in films.iterdir() if (p / "film.json").is_file())
    assert len(made) == 2
    stories = {json.loads((p / "story.json").read_text())["prompt"]: p for p in made}
    assert set(stories) == {"A fox learns to sail on a windy lake", "Two sisters open a bakery in the village"}
    bakery = json.loads((stories["Two sisters open a bakery in the village"] / "story.json").read_text())
    assert bakery["genre"] == "comedy" and bakery["seed"] == 3 and len(bakery["scenes"]) == 1
    assert "batch: 2 made, 0 already made, 1 failed" in first.stdout
    for word in ("made", "failed", "A fox learns to sail"):
        assert word in first.stdout

    stamps = {p: (p / "movie.mp4").stat().st_mtime_ns for p in made}
    second = batch(tmp_path / "films.txt", films)
    assert second.returncode == 1
    assert "batch: 0 made, 2 already made, 1 failed" in second.stdout, second.stdout
    assert sorted(p for p in films.iterdir()) == made
    assert {p: (p / "movie.mp4").stat().st_mtime_ns for p in made} == stamps  # nothing was remade


def test_a_batch_with_no_prompts_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("# nothing here\n\n")
    proc = batch(tmp_path / "empty.txt", tmp_path / "films")
    assert proc.returncode == 2 and "holds no prompts" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "films").exists()
