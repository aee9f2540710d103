"""The offline voice, listened to through numbers.

Speaks one scene (narration + two characters + one character with no voice of
its own) with piper/joe and prints: load time, realtime factor of synthesis
(seconds of compute per second of audio, with and without the pitch/formant
shifting), level (RMS of the speech, peak), measured F0 per voice against the
shift asked for, spectral centroid, whether a second run gives the same bytes,
and the subtitle events the scene makes. Usage:

    python bench/speech.py [--out DIR]     (keeps speech.wav there to listen to)
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np

from deepflix.models import SpeechLine, SpeechRequest
from deepflix.provider import StageContext
from deepflix.speech.assemble import assign_voices, character_voice, read_wav
from deepflix.speech.piper import PiperSpeech, bundled_paths, load_voice
from deepflix.speech.voicefx import median_f0, shift_voice, spectral_centroid
from deepflix.subtitles import build_cues, check_rules, to_srt

NARRATION = (
    "The keeper climbed the hundred and twelve steps at dusk, as he had every night since 1987. "
    "Below, wedged between the rocks, a green bottle caught the last of the light. "
    "Inside was a letter, folded twice, addressed to him by name."
)
LINE = "Keep the lamp lit until the morning comes, whatever happens out there tonight."


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="deepflix-speech-"))

    t0 = time.perf_counter()
    loaded = load_voice(*bundled_paths())
    print(f"load (patch graph + session): {time.perf_counter() - t0:.2f} s; deterministic noise: "
          f"{loaded.deterministic_noise}; phoneme alignments: {loaded.aligned}")

    voices = assign_voices(["mara", "tom"])
    req = SpeechRequest(lines=[
        SpeechLine(speaker="narrator", text=NARRATION),
        SpeechLine(speaker="narrator", text=LINE),
        SpeechLine(speaker="mara", kind="dialogue", voice=voices["mara"], text=LINE),
        SpeechLine(speaker="tom", kind="dialogue", voice=voices["tom"], text=LINE),
        SpeechLine(speaker="ghost", kind="dialogue", text=LINE),
    ])
    prov = PiperSpeech()
    t0 = time.perf_counter()
    res = prov.generate(req, StageContext(out_dir=out))
    took = time.perf_counter() - t0
    audio, sr = read_wav(out / res.audio)
    print(f"scene: {res.duration:.2f} s of audio in {took:.2f} s -> realtime factor {took / res.duration:.3f}")

    # the shifting alone, on the narration
    x = audio[: int(res.segments[2].end * sr)]
    t0 = time.perf_counter()
    shift_voice(x, sr, 7.0, 1.17)
    print(f"pitch+formant shift alone: realtime factor {(time.perf_counter() - t0) / (len(x) / sr):.3f}")

    speech = np.concatenate([audio[int(w.start * sr): int(w.end * sr)] for s in res.segments for w in s.words])
    rms = float(np.sqrt(np.mean(speech**2)))
    print(f"level: speech RMS {rms:.3f} ({20 * np.log10(rms):.1f} dBFS), peak {np.abs(audio).max():.3f} "
          f"({20 * np.log10(np.abs(audio).max()):.1f} dBFS)")

    same = [s for s in res.segments if s.text == LINE]
    base = median_f0(audio[int(same[0].start * sr): int(same[0].end * sr)], sr)
    print("same sentence, each voice:  speaker   F0 Hz  ratio  asked  centroid Hz")
    shifts = {"narrator": 0.0, "mara": voices["mara"].pitch_semitones, "tom": voices["tom"].pitch_semitones,
              "ghost": character_voice("ghost").pitch_semitones}
    for s in same:
        clip = audio[int(s.start * sr): int(s.end * sr)]
        f0 = median_f0(clip, sr)
        print(f"{'':28s}{s.speaker:9s} {f0:6.1f}  {f0 / base:5.2f}  {2 ** (shifts[s.speaker] / 12):5.2f}"
              f"  {spectral_centroid(clip, sr):8.0f}")

    again = prov.generate(req, StageContext(out_dir=out / "again"))
    a = hashlib.sha256((out / res.audio).read_bytes()).hexdigest()
    b = hashlib.sha256((out / "again" / again.audio).read_bytes()).hexdigest()
    print(f"deterministic: {a == b} ({a[:16]})")
    total = sum(s.end - s.start for s in res.segments)
    print(f"segments: {len(res.segments)}, their durations add up to {total:.4f} s of {res.duration:.4f} s")

    cues = build_cues([(0.0, res.duration + 1.0, res.segments)])
    print(f"subtitles: {len(cues)} events, rule check: {check_rules(cues, [(0.0, res.duration + 1.0)]) or 'ok'}")
    print(to_srt(cues)[:600])
    print(f"audio kept at {out / res.audio}")


if __name__ == "__main__":
    main()
