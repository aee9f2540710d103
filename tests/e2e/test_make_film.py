"""Issue 2's acceptance: `deepflix make` turns a prompt into a finished film,
offline, through the real CLI and every real default provider.

One 1080p film is made (the default settings), then the same command is run
again, then one scene's narration is edited and the film remade from the story
file. Bad input is refused with one line and exit code 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from deepflix.cut.ffmpeg.probe import ffmpeg_exe, first_pts, mp4_layout, probe
from deepflix.film.plan import PLAN
from deepflix.models import SubtitleCue
from deepflix.subtitles import check_rules

PROMPT = "A lighthouse keeper finds a message in a bottle"


def deepflix(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "deepflix", *args], env=env, capture_output=True, text=True, timeout=1800)
    return proc, time.perf_counter() - t0


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("make-data")
    return {**os.environ, "DEEPFLIX_DATA_DIR": str(data), "COLUMNS": "160"}


@pytest.fixture(scope="module")
def film(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    out = tmp_path_factory.mktemp("film")
    proc, took = deepflix("make", PROMPT, "--scenes", "5", "--out", str(out), env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"out": out, "seconds": took, "stdout": proc.stdout, "stderr": proc.stderr}


def srt_cues(path: Path) -> list[tuple[float, float, str]]:
    def secs(stamp: str) -> float:
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    cues = []
    for block in path.read_text().strip().split("\n\n"):
        lines = block.splitlines()
        a, b = lines[1].split(" --> ")
        cues.append((secs(a), secs(b), "\n".join(lines[2:])))
    return cues


def film_audio(movie: Path) -> tuple[np.ndarray, int]:
    wav = movie.with_suffix(".test.wav")
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(movie), "-ac", "1", "-ar", "16000", str(wav)], check=True)
    with wave.open(str(wav)) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768
    wav.unlink()
    return x, 16000


def rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x**2)) + 1e-9))


def test_the_film_is_a_web_ready_mp4_as_long_as_its_scenes(film: dict) -> None:  # type: ignore[type-arg]
    out: Path = film["out"]
    for name in ("movie.mp4", "movie.srt", "movie.vtt", "poster.jpg", "story.json", "film.json"):
        assert (out / name).stat().st_size > 0, name
        assert str(out / name) in film["stdout"]  # the run prints where everything is
    story = json.loads((out / "story.json").read_text())
    assert len(story["scenes"]) >= 5
    info = probe(out / "movie.mp4")
    v, a = info.first("video"), info.first("audio")
    assert v and a and info.first("subtitle")
    assert (v.codec, v.pix_fmt, v.width, v.height) == ("h264", "yuv420p", 1920, 1080)
    assert a.codec == "aac"
    assert abs(info.duration - sum(s["duration"] for s in story["scenes"])) <= 0.5
    layout = mp4_layout(out / "movie.mp4")
    assert layout.faststart
    assert abs(first_pts(out / "movie.mp4", "v") - first_pts(out / "movie.mp4", "a")) <= 0.040


def test_narration_over_music_and_subtitles_that_follow_the_rules(film: dict) -> None:  # type: ignore[type-arg]
    out: Path = film["out"]
    story = json.loads((out / "story.json").read_text())
    x, rate = film_audio(out / "movie.mp4")
    cues = srt_cues(out / "movie.srt")
    assert len(cues) >= len(story["scenes"])
    # narration: loud while subtitles are up; music: present before the first words
    spoken = np.concatenate([x[int(s * rate):int(e * rate)] for s, e, _ in cues])
    assert rms_db(spoken) > -30
    first_words = cues[0][0]
    assert first_words > 2.0  # the title card comes first, over music
    assert rms_db(x[int(0.5 * rate):int((first_words - 0.2) * rate)]) > -45  # music, not silence
    # no silence over 2 s anywhere in the film
    frame = rate // 10
    levels = np.array([rms_db(x[i:i + frame]) for i in range(0, len(x) - frame, frame)])
    silent = levels < -55
    longest = max((len(run) for run in "".join("1" if s else "0" for s in silent).split("0")), default=0)
    assert longest * 0.1 <= 2.0, f"{longest * 0.1:.1f} s of silence"
    # the subtitle rules, against the real scene cuts
    bounds, t = [], 0.0
    for s in story["scenes"]:
        bounds.append((t, t + s["duration"]))
        t += s["duration"]
    scene_of = lambda mid: next(i for i, (a, b) in enumerate(bounds) if a <= mid < b)  # noqa: E731
    subs = [SubtitleCue(start=a, end=b, text=txt, scene_index=scene_of((a + b) / 2)) for a, b, txt in cues]
    assert check_rules(subs, bounds) == []
    assert (out / "movie.vtt").read_text().startswith("WEBVTT")


def test_same_command_again_reuses_every_stage(film: dict, env: dict[str, str]) -> None:  # type: ignore[type-arg]
    out: Path = film["out"]
    before = json.loads((out / "film.json").read_text())
    proc, _ = deepflix("make", PROMPT, "--scenes", "5", "--out", str(out), env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    after = json.loads((out / "film.json").read_text())
    assert after["stages"]["made"] == {}
    assert set(after["stages"]["cached"]) == set(PLAN.names) - {"clip"}  # a film without clips has no clip rows
    assert after["artifacts"] == before["artifacts"]
    assert "cached" in proc.stderr  # the progress says so


def test_editing_one_narration_remakes_only_what_depends_on_it(film: dict, env: dict[str, str], tmp_path: Path) -> None:  # type: ignore[type-arg]
    out: Path = film["out"]
    story = json.loads((out / "story.json").read_text())
    k = 2
    story["scenes"][k]["narration"] += " Far out on the water, a single light answered."
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(story))
    before = json.loads((out / "film.json").read_text())["artifacts"]
    proc, _ = deepflix("make", "--story", str(edited), "--out", str(out), env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = json.loads((out / "film.json").read_text())
    made, after = manifest["stages"]["made"], manifest["artifacts"]
    assert made.get("speech") == 1 and made.get("score") == 1 and made.get("cut") == 1
    assert "picture" not in made and "story" not in made
    assert made.get("segment") == 1  # only the edited scene: the one before it shows it at its opening framing
    assert after["pictures"] == before["pictures"]
    assert [a == b for a, b in zip(after["speech"], before["speech"])] == [i != k for i in range(len(after["speech"]))]
    assert "single light answered" in (out / "movie.srt").read_text().replace("\n", " ")


@pytest.mark.parametrize(
    "args, says",
    [
        (["make", ""], "prompt is empty"),
        (["make", "   "], "prompt is empty"),
        (["make", PROMPT, "--scenes", "0"], "--scenes"),
        (["make", PROMPT, "--scenes", "1000"], "--scenes"),
        (["make", PROMPT, "--genre", "western"], "unknown genre"),
        (["make", PROMPT, "--out", "/proc/deepflix-cannot-write"], "cannot write"),
        (["make", PROMPT, "--resolution", "4k"], "--resolution"),
        (["make", "--story", "/nonexistent/story.json"], "not found"),
    ],
)
def test_bad_input_gets_one_clear_line_and_exit_2(args: list[str], says: str, env: dict[str, str]) -> None:
    proc, _ = deepflix(*args, env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_bad_story_file_is_refused_in_one_line(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "story.json"
    bad.write_text(json.dumps({"title": "x", "genre": "noir", "scenes": []}))
    proc, _ = deepflix("make", "--story", str(bad), env=env)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    bad.write_text("{not json")
    proc, _ = deepflix("make", "--story", str(bad), env=env)
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr
