"""The film QA report: ``deepflix qa FILM_DIR`` writes ``qa.json`` beside the film.

Each check has a measured value, a threshold and pass or fail: integrated loudness and
true peak, the audio/video start offset, black, frozen and near-silent stretches, the
subtitle rules (``subtitles.check_rules``) and, when the optional ``qa`` extra is
installed, speech checked by ear (``hearing``): each subtitle's word error rate against
what a speech-recognition model hears, and the offset from the subtitle's start to its
first spoken word."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..models import Story, SubtitleCue
from ..storage import ArtifactStore
from ..subtitles import check_rules
from . import by_segment, media
from . import hearing as ear
from .consistency import story_warnings

THRESHOLDS = {
    "loudness_lu": 1.0,  # |integrated - target| in LU
    "true_peak_dbtp": -0.5,
    "av_offset_s": 0.040,
    "black_s": 1.0,  # no black stretch this long
    "frozen_s": 2.0,
    "silent_s": 1.5,
    "silence_db": -50.0,
    "wer": 0.35,  # mean word error rate of the subtitles against what is heard
    "subtitle_offset_s": 0.25,  # median |subtitle start - first spoken word|
}


def read_srt(path: Path) -> list[tuple[float, float, str]]:
    def secs(stamp: str) -> float:
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    cues = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        lines = block.strip().splitlines()
        if len(lines) >= 3 and "-->" in lines[1]:
            a, b = (x.strip() for x in lines[1].split("-->"))
            cues.append((secs(a), secs(b), "\n".join(lines[2:])))
    return cues


def scene_bounds(story: Story) -> list[tuple[float, float]]:
    out, t = [], 0.0
    for sc in story.scenes:
        out.append((t, t + sc.duration))
        t += sc.duration
    return out


def _check(name: str, value: Any, threshold: Any, passed: bool, **detail: Any) -> dict[str, Any]:
    return {"name": name, "value": value, "threshold": threshold, "passed": bool(passed), **detail}


def _stretches(name: str, found: list[list[float]], limit: float) -> dict[str, Any]:
    longest = max((round(b - a, 3) for a, b in found), default=0.0)
    return _check(name, longest, f"< {limit} s", not found, stretches=[[round(a, 3), round(b, 3)] for a, b in found])


def hearing_by_default() -> bool:
    """DEEPFLIX_QA_HEARING=1: the QA after every make (and in the job system) listens too; loading
    the speech model costs seconds, so it is off unless asked for."""
    return bool(os.environ.get("DEEPFLIX_QA_HEARING"))


def run_qa(film_dir: Path, target_lufs: float = -16.0, hearing: bool | None = None,
           store: ArtifactStore | None = None) -> dict[str, Any]:
    """Measure the film in ``film_dir`` and write ``qa.json`` there. ``hearing``: None runs the
    speech check when its extra is installed, True requires it, False skips it. ``store``:
    where ``make`` put the film; its picture is then checked a segment at a time, each
    segment's result kept (``by_segment``), so an edit decodes only what it re-encoded."""
    film_dir = Path(film_dir)
    movie, srt, story_file = film_dir / "movie.mp4", film_dir / "movie.srt", film_dir / "story.json"
    for f in (movie, srt, story_file):
        if not f.is_file():
            raise InvalidInput(f"{film_dir} is not a film folder: {f.name} is missing")
    story = Story.model_validate_json(story_file.read_text())
    segments = by_segment.film_segments(film_dir, store) if store is not None else None
    report = {"film": str(film_dir), **measure(movie, srt, story, target_lufs, hearing, store=store, segments=segments)}
    (film_dir / "qa.json").write_text(json.dumps(report, indent=2))
    return report


def measure(movie: Path, srt: Path, story: Story, target_lufs: float = -16.0,
            hearing: bool | None = None, *, store: ArtifactStore | None = None,
            segments: list[tuple[str, Path, float]] | None = None) -> dict[str, Any]:
    """The report of one film's files (``run_qa`` for a folder; the job system for the cut's files).
    Given the ``store`` and the ``segments`` (key, file, seconds) that ``movie`` is the store's cut
    of, the picture is read a segment at a time (``by_segment``)."""
    t = THRESHOLDS
    checks = []
    by_seg = None if not segments or store is None else by_segment.measured(
        store, segments, movie, t["black_s"], t["frozen_s"], t["silent_s"], t["silence_db"])
    audio = by_seg[0] if by_seg else media.decode_audio(movie)
    lufs, peak = media.loudness(audio)
    checks.append(_check("loudness", round(lufs, 2), f"{target_lufs} ± {t['loudness_lu']} LUFS",
                         abs(lufs - target_lufs) <= t["loudness_lu"]))
    checks.append(_check("true_peak", round(peak, 2), f"<= {t['true_peak_dbtp']} dBTP", peak <= t["true_peak_dbtp"]))
    offset = media.start_offset(movie)
    checks.append(_check("av_start_offset", round(offset, 4), f"|x| <= {t['av_offset_s']} s",
                         abs(offset) <= t["av_offset_s"]))
    found = by_seg[1] if by_seg else media.detect(movie, t["black_s"], t["frozen_s"], t["silent_s"], t["silence_db"])
    checks.append(_stretches("black", found["black"], t["black_s"]))
    checks.append(_stretches("frozen", found["frozen"], t["frozen_s"]))
    checks.append(_stretches("near_silent", found["silent"], t["silent_s"]))
    bounds = scene_bounds(story)
    raw = read_srt(srt)
    cues = [SubtitleCue(start=a, end=b, text=text,
                        scene_index=next((i for i, (s, e) in enumerate(bounds) if s - 0.01 <= a < e), len(bounds)))
            for a, b, text in raw]
    broken = check_rules(cues, bounds)
    checks.append(_check("subtitle_rules", len(broken), "0 broken rules", not broken, broken=broken[:20]))

    left = story_warnings(story)  # what an LLM's repair round left: the film's warnings (film.json)
    checks.append(_check("story_consistency", len(left), "0 contradictions", not left, findings=left[:50]))
    if hearing is not False:
        if ear.available() or hearing:
            heard = ear.listen(audio, raw)
            checks.append(_check("speech_wer", heard["mean_wer"], f"<= {t['wer']}", heard["mean_wer"] <= t["wer"],
                                 lines=heard["lines"]))
            med = heard["median_offset"]
            checks.append(_check("subtitle_speech_offset", med, f"|median| <= {t['subtitle_offset_s']} s",
                                 med is not None and abs(med) <= t["subtitle_offset_s"]))
    return {"passed": all(c["passed"] for c in checks), "checks": checks}


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The short form the API's movie status carries: pass or fail, the value and the threshold of
    each check (the lists of stretches, lines and findings stay in the whole report)."""
    if "checks" not in report:
        return {"passed": None, "error": str(report.get("error", "not measured")), "checks": []}
    return {"passed": bool(report["passed"]),
            "checks": [{k: c[k] for k in ("name", "passed", "value", "threshold")} for c in report["checks"]]}
