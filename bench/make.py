"""The offline film, three runs in one go, with a fresh store:

1. first run of `deepflix make PROMPT`          (everything computed)
2. the same command again                        (everything cached)
3. one scene's narration edited, `--story FILE`  (that scene's speech, the score, the cut)

Prints each run's wall time, its ratio to the first, and the first run's
per-stage times (as `deepflix make` reports them). Usage:

    python bench/make.py ["prompt"] [--scenes 6] [--resolution 1080p]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "deepflix", *args], env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"deepflix {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return took, proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("prompt", nargs="?", default="A lighthouse keeper finds a message in a bottle")
    ap.add_argument("--scenes", type=int, default=6)
    ap.add_argument("--resolution", default="1080p")
    ap.add_argument("--genre", default="drama")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="deepflix-bench-") as tmp:
        env = {**os.environ, "DEEPFLIX_DATA_DIR": str(Path(tmp) / "data"), "COLUMNS": "120"}
        out = Path(tmp) / "film"
        base = [a.prompt, "--scenes", str(a.scenes), "--resolution", a.resolution, "--genre", a.genre, "--out", str(out)]
        first, log1 = run(["make", *base], env)
        manifest = json.loads((out / "film.json").read_text())
        second, _ = run(["make", *base], env)

        story = json.loads((out / "story.json").read_text())
        k = len(story["scenes"]) // 2
        story["scenes"][k]["narration"] += " The wind had changed, and nobody else had noticed."
        edited = Path(tmp) / "edited.json"
        edited.write_text(json.dumps(story))
        third, log3 = run(["make", "--story", str(edited), "--resolution", a.resolution, "--out", str(out)], env)

    print(f"film: {a.scenes} scenes at {a.resolution}, {manifest['duration']:.1f} s of video, "
          f"{os.cpu_count()} cores")
    print("\nfirst run, per stage (wall s):")
    for stage, secs in manifest["stage_seconds"].items():
        print(f"  {stage:<8} {secs:7.2f}")
    print(f"\n{'run':<34}{'wall s':>8}{'ratio':>8}")
    for name, t in (("1 first run", first), ("2 same command again", second), ("3 one narration edited --story", third)):
        print(f"{name:<34}{t:8.2f}{t / first:8.2f}")
    print("\nrun 3 as deepflix reported it:\n" + log3)


if __name__ == "__main__":
    main()
