"""QA of a film made here, a scene's segment at a time, each remembered in the store.

The film's picture is its scene segments joined by stream copy (the cut re-encodes
nothing), so the black and frozen stretches of the film are those of its segments,
placed at their starts and joined where one runs into the next across a cut. Each
segment's stretches are kept in the store under a key made of the segment's own key;
the sound is decoded once, with the silence detector on the same pass, and no picture.

Each segment's stretches were found by the segment stage on the frames it encoded
(the detectors in its encoder's graph: cut/ffmpeg/detect.py), so a film made here
decodes no picture for its QA; a segment that was not (made before, or with other
detector settings) is decoded once, with the same detectors.

Used only when the film's ``movie.mp4`` is the store's cut file (``make`` links it),
so what is measured is what the film holds; a copied or changed movie is measured whole
(``media.detect``). In the job system the cut's worker measures the cut it just made
from its inputs, and each segment's record was kept already by the worker that made it
(``remembered_stretches``)"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from ..cut.ffmpeg import detect
from ..cut.ffmpeg.probe import ffmpeg_exe
from ..models import SegmentResult
from ..storage import ArtifactStore
from .media import RATE, decode_sound

VERSION = "1"


def film_segments(film_dir: Path, store: ArtifactStore) -> list[tuple[str, Path, float]] | None:
    """(key, file, seconds) of each segment of the film in ``film_dir``, when its movie is
    the store's cut of them; None otherwise (then the movie is measured whole)."""
    try:
        record = json.loads((film_dir / "film.json").read_text())
        cut, keys = record["artifacts"]["cut"], record["artifacts"]["segments"]
        if not keys or not os.path.samefile(film_dir / "movie.mp4", store.local_path(cut, "movie.mp4")):
            return None
        out = []
        for key in keys:
            stored = store.load_result(key)
            if stored is None:
                return None
            res = stored["result"]
            out.append((key, store.local_path(key, res["video"]), float(res["duration"])))
        return out
    except (OSError, KeyError, TypeError, ValueError):
        return None


def stretches_key(segment_key: str) -> str:
    """Where a segment's measured stretches are kept in the store."""
    ident = {"qa": "picture_stretches", "version": VERSION, "segment": segment_key, "black_pix": detect.BLACK_PIX,
             "freeze_noise": detect.FREEZE_NOISE}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()


def _pairs(err: str, start: str, end: str, last: float) -> list[list[float]]:
    starts = [float(x) for x in re.findall(start + r"[:=]\s*(-?[\d.]+)", err)]
    ends = [float(x) for x in re.findall(end + r"[:=]\s*(-?[\d.]+)", err)]
    return [[s, ends[i] if i < len(ends) else last] for i, s in enumerate(starts)]


def segment_stretches(video: Path, seconds: float) -> dict[str, list[list[float]]]:
    """Every black and frozen stretch of one segment, decoded: the detectors the segment stage
    runs in its encoder (cut/ffmpeg/detect.py), for a segment that did not."""
    with tempfile.TemporaryDirectory(prefix="deepflix-qa-") as tmp:
        proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(video),
                               "-vf", detect.detectors(), "-an", "-f", "null", "-"],
                              capture_output=True, text=True, check=False, cwd=tmp)
        if proc.returncode != 0:
            raise ValueError(f"ffmpeg could not read {video.name}: {proc.stderr[-300:]}")
        return detect.read_found(Path(tmp) / detect.FOUND, seconds)


def _encoded_with(store: ArtifactStore, key: str) -> dict[str, list[list[float]]] | None:
    """What the segment stage found on the segment's frames as it encoded them, when it did
    and with today's detectors."""
    stored = store.load_result(key)
    try:
        found = SegmentResult.model_validate(stored["result"]).stretches if stored else None
    except (KeyError, TypeError, ValidationError):
        return None
    if found is None or found.measured_by != detect.MEASURED_BY:
        return None
    return {"black": found.black, "frozen": found.frozen}


def remembered_stretches(store: ArtifactStore, key: str, video: Path, seconds: float) -> dict[str, list[list[float]]]:
    """``segment_stretches``, from the store when this segment was measured before: by the QA,
    or by the segment stage as it encoded it (then nothing is decoded)."""
    qkey = stretches_key(key)
    stored = store.load_result(qkey)
    if stored is not None and isinstance(stored.get("result"), dict):
        return {k: [list(map(float, p)) for p in stored["result"][k]] for k in ("black", "frozen")}
    found = _encoded_with(store, key) or segment_stretches(video, seconds)
    staging = store.staging(qkey)
    try:
        staging.publish({"stage": "qa", "provider": "builtin/qa", "version": VERSION, "result": found})
    except OSError:
        staging.discard()
    return found


def join(per_segment: list[tuple[float, float, list[list[float]]]], limit: float) -> list[list[float]]:
    """Stretches on the film's clock, joined across cuts (one ending where its segment
    ends, the next starting at its segment's start), kept when at least ``limit`` long."""
    out: list[list[float]] = []
    eps = 0.02
    for start, seconds, found in per_segment:
        for a, b in found:
            a, b = start + a, start + min(b, seconds)
            if out and a <= start + eps and out[-1][1] >= start - eps:
                out[-1][1] = b
            else:
                out.append([a, b])
    return [[round(a, 6), round(b, 6)] for a, b in out if b - a >= limit]


def picture_stretches(store: ArtifactStore, segments: list[tuple[str, Path, float]], black_s: float,
                      frozen_s: float) -> dict[str, list[list[float]]]:
    """The film's black and frozen stretches at least this long, from its segments."""
    found, t = [], 0.0
    for key, video, seconds in segments:
        found.append((t, seconds, remembered_stretches(store, key, video, seconds)))
        t += seconds
    return {"black": join([(s, d, f["black"]) for s, d, f in found], black_s),
            "frozen": join([(s, d, f["frozen"]) for s, d, f in found], frozen_s)}


def audio_and_silences(movie: Path, silence_s: float, silence_db: float) -> tuple[np.ndarray, list[list[float]]]:
    """The film's sound as float32 (n, 2) at 48 kHz and its near-silent stretches, in one
    decode of the sound alone."""
    audio, err = decode_sound(movie, f"silencedetect=n={silence_db}dB:d={silence_s}")
    return audio, _pairs(err, "silence_start", "silence_end", len(audio) / RATE)


def measured(store: ArtifactStore, segments: list[tuple[str, Path, float]], movie: Path, black_s: float,
             frozen_s: float, silent_s: float, silence_db: float) -> tuple[np.ndarray, dict[str, list[list[float]]]]:
    """(sound, stretches) of the store's cut ``movie`` of these ``segments``: the picture by
    segment (``film_segments``, or the cut's own inputs in the job system), the sound whole."""
    # the sound's decode and the re-encoded segments' side by side: each is one ffmpeg, and
    # after an edit both are at the end of `make`, where nothing else runs
    with ThreadPoolExecutor(1, thread_name_prefix="deepflix-qa") as pool:
        pictures = pool.submit(picture_stretches, store, segments, black_s, frozen_s)
        audio, silent = audio_and_silences(movie, silent_s, silence_db)
        found: dict[str, Any] = pictures.result()
    return audio, {**found, "silent": silent}
