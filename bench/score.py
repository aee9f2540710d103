"""The builtin composer's speed, and what its scores sound like in numbers.

For each genre: the seconds to write and render a 60-s, five-scene score (the
SoundFont already parsed; the first line reports that one-off cost), the tempo,
key and instruments it chose, and listening proxies on the result:

  flat     spectral flatness (white noise 0.56; a tone 0; music well under 0.05)
  scale    share of pitched energy on the scene's scale (random pitches: 0.58)
  end      share of the last 2.5 s on the tonic triad (random: 0.25)
  beat     onset autocorrelation at the beat vs. the best lag in 40-200 bpm
  silence  longest stretch under -50 dBFS before the final fade, seconds

    python bench/score.py [--genres noir,horror] [--samples /tmp]   # --samples: also write 30-s WAVs
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from deepflix.models import GENRES, ScoreCue, ScoreRequest
from deepflix.score import composer, dsp
from deepflix.score.composition import analysis, arrange, theory
from deepflix.score.composition.render import Synth
from deepflix.score.composition.styles import style_for

RATE = 48000
ARC = [("mysterious", 0.3), ("tense", 0.7), ("sad", 0.4), ("hopeful", 0.6), ("triumphant", 0.9)]


def request(genre: str, duration: float) -> ScoreRequest:
    n = len(ARC)
    cuts = [round(duration * f, 3) for f in (0, 0.17, 0.38, 0.55, 0.78)][:n]
    cues = [ScoreCue(start=s, duration=round(e - s, 3), mood=m, intensity=x)
            for s, e, (m, x) in zip(cuts, cuts[1:] + [duration], ARC)]
    return ScoreRequest(genre=genre, seed=0, cues=cues, duration=duration)


def listen(genre: str, req: ScoreRequest, x) -> str:  # type: ignore[no-untyped-def]
    style = style_for(genre)
    tonic = arrange.choose_key(style, req.seed, req)
    sections, _ = arrange.plan(req, style, tonic)
    scale = [analysis.in_scale_fraction(x[int(s.start * RATE): int(s.end * RATE)], RATE,
                                        theory.scale_pcs(tonic, s.mode)) for s in sections]
    end = analysis.chroma(x[-int(2.5 * RATE):], RATE)[list(theory.tonic_chord(tonic, sections[-1].mode).pcs)].sum()
    beats = [analysis.beat_regularity(x[int(s.start * RATE): int(s.end * RATE)], RATE, s.bpm) for s in sections]
    beat = sorted(b[0] / max(b[1], 1e-9) for b in beats)[len(beats) // 2]
    silence = analysis.longest_silence(x[: -3 * RATE], RATE)
    return (f"flat {analysis.spectral_flatness(x, RATE):.4f}  scale {min(scale):.2f}-{max(scale):.2f}  "
            f"end {end:.2f}  beat {beat:.2f}  silence {silence:.2f}s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--genres", default=",".join(GENRES))
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--samples", type=Path, default=None, help="also write a 30-s WAV per genre here")
    args = ap.parse_args()
    t0 = time.perf_counter()
    synth = Synth()
    print(f"SoundFont parsed in {time.perf_counter() - t0:.2f} s (once per process)")
    times = []
    for genre in args.genres.split(","):
        req = request(genre, args.seconds)
        synth._src.clear()  # time a cold cache for each genre: no help from the previous one
        synth._env.clear()
        t, c = time.perf_counter(), time.process_time()
        x, info = composer.render_score(req, synth)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        times.append(wall)
        print(f"{genre:9s} {args.seconds:.0f}-s score in {wall:5.2f} s ({cpu:.2f} s CPU)  "
              f"{info['tempo']:5.1f} bpm  {info['key']:18s} {', '.join(info['instruments'])}")  # type: ignore[arg-type]
        print(f"          {listen(genre, req, x)}")
        if args.samples:
            short = request(genre, 30.0)
            y, _ = composer.render_score(short, synth)
            dsp.write_wav(args.samples / f"deepflix_score_{genre}.wav", RATE, y)
            print(f"          30-s sample: {args.samples / f'deepflix_score_{genre}.wav'}  {listen(genre, short, y)}")
    times.sort()
    print(f"median render of a {args.seconds:.0f}-s score: {times[len(times) // 2]:.2f} s; worst {times[-1]:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
