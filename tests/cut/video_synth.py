"""Synthetic inputs for the video tests: pictures, speech and music, and cut requests.

Pictures are textured (so motion shows in frame differences) and coloured
apart (so a cross-fade's blend is measurable), with no near-white pixels (so
white text in a frame can only be our captions and cards).
"""

from __future__ import annotations

import wave
from pathlib import Path

import cv2
import numpy as np

from deepflix.models import ArtifactRef, CutRequest, CutScene, SubtitleCue
from deepflix.provider import StageContext

COLOURS = {"red": (40, 50, 170), "blue": (170, 80, 40), "green": (50, 150, 60), "amber": (30, 120, 180)}  # BGR


def picture(path: Path, colour: str, width: int = 960, height: int = 540, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    base = np.array(COLOURS[colour], np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = base * (0.75 + 0.25 * (xx / width))[..., None] + 12 * np.sin(yy / 23.0)[..., None]
    img = img.astype(np.float32)
    for _ in range(60):
        c = tuple(float(v) for v in np.clip(base + rng.normal(0, 40, 3), 0, 200))
        cv2.circle(img, (int(rng.integers(0, width)), int(rng.integers(0, height))), int(rng.integers(6, 60)), c, -1,
                   cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    cv2.imwrite(str(path), np.clip(img, 0, 200).astype(np.uint8))
    return path


def speech_wav(path: Path, seconds: float, sr: int = 22050, seed: int = 0) -> Path:
    """Voice-like: noise shaped into syllables with a pitch buzz, mono 16-bit."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    syll = 0.5 + 0.5 * np.sin(2 * np.pi * 4.0 * t) ** 2
    voice = np.sin(2 * np.pi * 140 * t) * 0.5 + rng.normal(0, 0.2, t.size)
    x = (voice * syll * 0.3 * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(x.tobytes())
    return path


def music_wav(path: Path, seconds: float, sr: int = 44100) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) / 3
    x = (np.stack([chord, chord * 0.9], axis=1) * 0.25 * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(x.tobytes())
    return path


def ctx_for(out: Path) -> StageContext:
    """Refs in these tests name files directly (the store is not involved)."""
    out.mkdir(parents=True, exist_ok=True)
    return StageContext(out_dir=out, resolve=lambda ref: Path(ref.name))


def ref(path: Path) -> ArtifactRef:
    return ArtifactRef(key="test", name=str(path))


def request(tmp: Path, durations: list[float], colours: list[str], *, moves: list[str] | None = None,
            transitions: list[str] | None = None, cues: list[SubtitleCue] | None = None,
            clip: dict[int, Path] | None = None, **kw: object) -> CutRequest:
    tmp.mkdir(parents=True, exist_ok=True)
    scenes, t = [], 0.0
    for i, (d, c) in enumerate(zip(durations, colours)):
        pic = picture(tmp / f"pic{i}_{c}.png", c, seed=i)
        sp = speech_wav(tmp / f"speech{i}.wav", max(0.5, d - 1.2), seed=i)
        scenes.append(CutScene(
            picture=ref(pic), clip=ref(clip[i]) if clip and i in clip else None, start=round(t, 6), duration=d,
            speech=ref(sp), speech_offset=0.4, camera_move=(moves or ["push_in"] * len(durations))[i],
            transition=(transitions or ["crossfade"] * len(durations))[i],
        ))
        t += d
    fields: dict[str, object] = {
        "title": "The Tide Clock", "logline": "A keeper counts the waves.",
        "credits": ["Ada — keeper", "", "Made with DeepFlix"], "resolution": "360p", "scenes": scenes,
        "score": ref(music_wav(tmp / "score.wav", t)), "subtitles": cues or [], "title_duration": 1.2,
        "credits_duration": 1.2,
    }
    fields.update(kw)
    return CutRequest(**fields)  # type: ignore[arg-type]
