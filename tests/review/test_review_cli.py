"""`deepflix make --review`: the story only, its path and the command that continues."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from deepflix.cli import app
from deepflix.models import Story


def test_make_review_stops_after_the_story(tmp_path: Path) -> None:
    out = tmp_path / "film"
    r = CliRunner().invoke(app, ["make", "a fox steals the moon", "-n", "2", "--resolution", "360p", "--review",
                                 "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    story = out / "story.json"
    assert f"story: {story}" in r.output
    assert re.search(rf"deepflix make --story {re.escape(str(story))} --resolution 360p\s*$", r.output), r.output
    assert len(Story.model_validate_json(story.read_text()).scenes) == 2
    assert sorted(p.name for p in out.iterdir()) == ["story.json"]  # nothing else was made
    again = CliRunner().invoke(app, ["make", "--story", str(story), "--review"])
    assert again.exit_code != 0 and "leave one of them out" in str(again.exception), again.output
