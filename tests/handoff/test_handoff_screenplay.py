"""Issue 22: `deepflix make --screenplay`: a Fountain script of 3 scenes and 2
speakers becomes a film (no LLM) whose scene order, speakers and lines are the
script's; malformed Fountain gets one clear error line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """Title: The Lamp
Author: DeepFlix tests

INT. LIGHTHOUSE - NIGHT

Rain hammers the glass. MAREN climbs the spiral stairs to the dead lamp.

MAREN
The lamp is out again.

TOMAS (O.S.)
(shouting)
Then we light it by hand!

EXT. BEACH - DAY

The storm is gone. Wreckage lies on the sand.

TOMAS
Look what the sea gave back.

DISSOLVE TO:

EXT. FOREST - DUSK

Maren and Tomas walk home under the pines.

MAREN
We should have left years ago.

TOMAS
We stayed for the light.
"""


def deepflix(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "deepflix", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "160"}, timeout=900)


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("play")
    (d / "lamp.fountain").write_text(SCRIPT)
    proc = deepflix("make", "--screenplay", str(d / "lamp.fountain"), "--resolution", "360p", "--out", str(d / "film"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return d / "film"


def test_the_script_is_the_story(film: Path) -> None:
    story = json.loads((film / "story.json").read_text())
    assert story["title"] == "The Lamp"
    assert [c["name"] for c in story["characters"]] == ["Maren", "Tomas"]
    ids = {c["name"]: c["id"] for c in story["characters"]}
    scenes = story["scenes"]
    assert [(s["setting"], s["time_of_day"], s["location"]) for s in scenes] == [
        ("lighthouse", "night", "Lighthouse"), ("coast", "day", "Beach"), ("forest", "dusk", "Forest")]
    assert [[(d["speaker"], d["text"]) for d in s["dialogue"]] for s in scenes] == [
        [(ids["Maren"], "The lamp is out again."), (ids["Tomas"], "Then we light it by hand!")],
        [(ids["Tomas"], "Look what the sea gave back.")],
        [(ids["Maren"], "We should have left years ago."), (ids["Tomas"], "We stayed for the light.")],
    ]
    assert scenes[0]["narration"].startswith("Rain hammers the glass. Maren climbs")  # the cue's capitals, said as a name
    assert scenes[0]["weather"] == "rain" and scenes[1]["weather"] == "clear"  # "the storm is gone"
    assert scenes[1]["transition"] == "crossfade"  # DISSOLVE TO:
    assert scenes[0]["characters"] == [ids["Maren"], ids["Tomas"]]
    # each speaker has a look and a voice of their own, apart from the narrator's
    voices = [json.dumps(c["voice"], sort_keys=True) for c in story["characters"]] + [json.dumps(story["narrator"], sort_keys=True)]
    assert len(set(voices)) == 3
    assert all(c["appearance"] and c["clothing"] for c in story["characters"])


def test_the_film_speaks_the_lines_in_order(film: Path) -> None:
    manifest = json.loads((film / "film.json").read_text())
    assert manifest["stages"]["made"].get("story", 0) == 0  # no story provider ran: the script is the story
    srt = (film / "movie.srt").read_text()
    lines = ["The lamp is out again.", "Then we light it by hand!", "Look what the sea gave back.",
             "We should have left years ago.", "We stayed for the light."]
    at = [srt.find(t) for t in lines]
    assert all(a >= 0 for a in at) and at == sorted(at), at
    assert (film / "movie.mp4").stat().st_size > 10_000


@pytest.mark.parametrize("text, words", [
    ("Just prose, and no scene heading.\n\nMore prose.\n", "text before the first scene heading"),
    ("INT. KITCHEN - NIGHT\n\nShe waits.\n\nBOB\n(beat)\n\nEXT. ROAD - DAY\n\nRain.\n", "has no line"),
    ("Title: Empty\n", "no scene headings"),
    ("INT. KITCHEN - NIGHT\n\n/* a note never closed\n\nShe waits.\n", "boneyard"),
    ("INT. KITCHEN - NIGHT\n\nEXT. ROAD - DAY\n\nRain.\n", "has no action and no dialogue"),
])
def test_malformed_fountain_is_one_line_and_exit_2(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "bad.fountain").write_text(text)
    out = tmp_path / "film"
    proc = deepflix("make", "--screenplay", str(tmp_path / "bad.fountain"), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and words in proc.stderr, proc.stderr
    assert proc.stderr.startswith("error: screenplay ")
    assert not out.exists()
