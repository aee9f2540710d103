"""One scene's speech from per-sentence audio: what every speech provider shares.

A provider turns each line's sentences into ``Chunk``s (audio plus, when it
knows them, word timings). ``render_scene`` trims each chunk's edge silence,
evens out the level of each line, puts a short pause between sentences and a
longer one between lines, writes one mono 16-bit WAV and returns the segments.

Segments tile the audio: a sentence's segment runs from its first sound to the
next sentence's first sound (the pause belongs to the sentence before it), and
the last ends with the audio. So sentence timings add up to the duration
exactly; where the speech itself ends is its last word's ``end``.
"""

from __future__ import annotations

import hashlib
import wave
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..lazy import lazy_module

signal = lazy_module("scipy.signal")  # seconds to import; only needed when speaking

from ..errors import InvalidInput, ProviderBadOutput
from ..models import Segment, SpeechLine, SpeechRequest, SpeechResult, Voice, Word
from ..provider import StageContext
from .timing import Sentence, prepare, words_proportional

SAMPLE_RATE = 22050
EDGE = 0.03  # seconds of silence kept at each end of a sentence (breath, release)
TARGET_RMS = 0.1  # -20 dBFS over the sounding part of each line
PEAK = 0.9


@dataclass
class Chunk:
    audio: np.ndarray  # float mono, about [-1, 1]
    sample_rate: int
    words: list[Word] | None = None  # relative to the chunk's start, one per written token


SynthLine = Callable[[SpeechLine, Voice, list[Sentence]], list[Chunk]]

# Distinct people from one voice model: (semitones, formant, speed). The narrator keeps the
# model's own voice; characters get these, in order (assign_voices) or by id (character_voice).
PRESETS: tuple[tuple[float, float, float], ...] = (
    (7.0, 1.17, 1.0),  # a woman, warm
    (-3.0, 0.93, 0.92),  # an older man, slower
    (10.0, 1.21, 1.06),  # a young woman, bright
    (3.0, 1.07, 1.05),  # a young man
    (-5.0, 0.9, 0.95),  # a deep voice
    (5.0, 1.12, 1.08),  # a boy, quick
    (8.5, 1.14, 0.94),  # an older woman, measured
    (1.5, 0.97, 1.1),  # a man, brisk
)


def _preset(i: int) -> Voice:
    st, fm, sp = PRESETS[i % len(PRESETS)]
    return Voice(pitch_semitones=st, formant=fm, speed=sp)


def assign_voices(character_ids: list[str]) -> dict[str, Voice]:
    """Distinct voices for a story's characters, in order (for a story planner to store)."""
    return {cid: _preset(i) for i, cid in enumerate(character_ids)}


def character_voice(speaker: str) -> Voice:
    """A stable voice for a character id whose story gave none (the same in every scene)."""
    return _preset(int(hashlib.sha256(speaker.encode()).hexdigest()[:8], 16))


def effective_voice(line: SpeechLine) -> Voice:
    if line.kind == "dialogue" and line.speaker != "narrator" and line.voice == Voice():
        return character_voice(line.speaker).model_copy(update={"voice_id": line.voice.voice_id})
    return line.voice


def resample(x: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    if sr_from == sr_to:
        return np.asarray(x, dtype=np.float32)
    f = Fraction(sr_to, sr_from)
    y: np.ndarray = signal.resample_poly(np.asarray(x, dtype=np.float64), f.numerator, f.denominator)
    return y.astype(np.float32)


def _frame_rms(x: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
    hop = max(1, sr // 100)
    n = len(x) // hop
    if n == 0:
        return np.zeros(0), hop
    return np.sqrt(np.mean(x[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1)), hop


def trim(x: np.ndarray, sr: int) -> tuple[int, int]:
    """[a, b) of x without its edge silence, keeping EDGE seconds around the sound."""
    rms, hop = _frame_rms(x, sr)
    if not len(rms) or rms.max() <= 1e-5:
        return 0, len(x)
    loud = np.flatnonzero(rms > max(rms.max() * 0.01, 1e-4))  # -40 dB under the loudest 10 ms
    edge = int(EDGE * sr)
    return max(0, loud[0] * hop - edge), min(len(x), (loud[-1] + 1) * hop + edge)


def level(parts: list[np.ndarray], sr: int) -> list[np.ndarray]:
    """Scale one line's sentences together: the sounding part at TARGET_RMS, peaks under PEAK."""
    x = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    rms, _ = _frame_rms(x, sr)
    if not len(rms) or rms.max() <= 1e-5:
        raise ProviderBadOutput("the voice returned silence")
    active = rms[rms > rms.max() * 0.03]
    gain = TARGET_RMS / float(np.sqrt(np.mean(active**2)))
    gain = min(gain, PEAK / float(np.max(np.abs(x))))
    return [(p * gain).astype(np.float32) for p in parts]


def write_wav(path: Path, x: np.ndarray, sr: int) -> None:
    pcm = np.round(np.clip(x, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        sr, n, width, ch = w.getframerate(), w.getnframes(), w.getsampwidth(), w.getnchannels()
        data = w.readframes(n)
    if width != 2:
        raise ProviderBadOutput(f"expected 16-bit WAV, got {8 * width}-bit")
    x = np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
    return (x.reshape(-1, ch).mean(axis=1) if ch > 1 else x), sr


def render_scene(
    request: SpeechRequest,
    ctx: StageContext,
    synth: SynthLine,
    *,
    sentence_pause: float = 0.3,
    line_pause: float = 0.55,
    sample_rate: int = SAMPLE_RATE,
    voice_of: Callable[[SpeechLine], Voice] = effective_voice,
) -> SpeechResult:
    pieces: list[np.ndarray] = []
    segments: list[Segment] = []
    t = 0  # samples written so far
    lines = [(line, prepare(line.text, request.language)) for line in request.lines]
    if not any(sents for _, sents in lines):
        texts = [line.text for line in request.lines]
        raise InvalidInput(f"scene {request.scene_index + 1} has nothing to say: {texts!r}")
    for line, sents in lines:
        if not sents:
            continue
        chunks = synth(line, voice_of(line), sents)
        if len(chunks) != len(sents):
            raise ProviderBadOutput(f"expected audio for {len(sents)} sentences, got {len(chunks)}")
        cut: list[tuple[np.ndarray, list[Word]]] = []
        for sent, ch in zip(sents, chunks):
            x = resample(np.nan_to_num(np.asarray(ch.audio, dtype=np.float32)), ch.sample_rate, sample_rate)
            a, b = trim(x, sample_rate)
            if ch.words is not None and len(ch.words) == len(sent.text.split()):
                shift = a / sample_rate
                span = (b - a) / sample_rate
                words = [
                    Word(start=min(max(w.start - shift, 0.0), span), end=min(max(w.end - shift, 0.0), span), text=w.text)
                    for w in ch.words
                ]
            else:  # no timing from the provider: spread the sounding part over the words
                words = words_proportional(sent, EDGE, max(EDGE, (b - a) / sample_rate - EDGE))
            cut.append((x[a:b], words))
        leveled = level([c[0] for c in cut], sample_rate)
        for si, (sent, audio, (_, words)) in enumerate(zip(sents, leveled, cut)):
            if segments:  # the pause before this sentence belongs to the segment before it
                gap = sentence_pause if si else line_pause
                pieces.append(np.zeros(int(round(gap * sample_rate)), np.float32))
                t += len(pieces[-1])
            start = t / sample_rate
            segments.append(
                Segment(
                    start=round(start, 4),
                    end=0.0,
                    text=sent.text,
                    speaker=line.speaker,
                    words=[Word(start=round(start + w.start, 4), end=round(start + w.end, 4), text=w.text) for w in words],
                )
            )
            pieces.append(audio)
            t += len(audio)
    for s, nxt in zip(segments, segments[1:]):
        s.end = nxt.start
    duration = t / sample_rate
    segments[-1].end = round(duration, 4)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    write_wav(ctx.out_dir / "speech.wav", np.concatenate(pieces), sample_rate)
    return SpeechResult(audio="speech.wav", sample_rate=sample_rate, duration=round(duration, 4), segments=segments)
