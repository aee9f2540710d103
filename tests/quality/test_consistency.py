"""The story consistency checker finds every contradiction planted in the hand-written
stories of tests/quality/data, and nothing else; `deepflix check-story` lists them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from deepflix.models import Story
from deepflix.quality.consistency import check_story

DATA = Path(__file__).parent / "data"
FILES = sorted(DATA.glob("*.json"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_finds_each_planted_contradiction(path: Path) -> None:
    data = json.loads(path.read_text())
    story = Story.model_validate(data["story"])
    found = Counter((f.kind, f.scene, f.character) for f in check_story(story))
    planted = Counter((kind, scene, who) for kind, scene, who, _why in data["planted"])
    assert found == planted, f"missed {planted - found}, unexpected {found - planted}"


def test_check_story_cli(tmp_path: Path) -> None:
    bad = DATA / "lighthouse_bad.json"
    story = tmp_path / "story.json"
    story.write_text(json.dumps(json.loads(bad.read_text())["story"]))
    cmd = [sys.executable, "-m", "deepflix", "check-story"]
    run = subprocess.run(cmd + [str(story)], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 1, run.stderr
    assert "stars" in run.stdout and "whose father" in run.stdout
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(json.loads((DATA / "clean_llm.json").read_text())["story"]))
    run = subprocess.run(cmd + [str(clean)], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    run = subprocess.run(cmd + [str(tmp_path / "missing.json")], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 2 and "not found" in run.stderr
