"""The offline film, three runs in one go, with a fresh store:

1. first run of `deepflix make PROMPT`          (everything computed)
2. the same command again                        (everything cached)
3. one scene's narration edited, `--story FILE`  (that scene's speech, the score, the cut)

then the encode-only floor of the first run's picture: each scene's segment decoded
to raw frames on disk, then encoded again by ffmpeg with the segment stage's own
encoder arguments (x264 preset, CRF, tags), one segment after another: what the
encode of those frames costs alone. Prints each run's wall time, its ratio to the
first, the first run's ratio to the floor, what run 3 made and took from the cache,
and the first run's per-stage times (as `deepflix make` reports them) and CPU seconds,
the first run's and the edit's side by side (bench/stage_cpu.py: each stage's own
thread, the QA, the ffmpegs, the rest), beside the floor's. Usage:

    python bench/make.py ["prompt"] [--scenes 6] [--resolution 1080p]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CPU: dict[str, float] = {}  # each run's CPU seconds (the process and its ffmpegs): steadier than wall on a shared machine


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run(args: list[str], env: dict[str, str], name: str = "", staged: Path | None = None) -> tuple[float, str]:
    """One deepflix command; ``staged``: through bench/stage_cpu.py, its CPU by stage written there."""
    t0, c0 = time.perf_counter(), _children_cpu()
    cmd = [str(Path(__file__).with_name("stage_cpu.py"))] if staged else ["-m", "deepflix"]
    if staged:
        env = {**env, "STAGE_CPU_OUT": str(staged)}
    proc = subprocess.run([sys.executable, *cmd, *args], env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    CPU[name] = _children_cpu() - c0
    if proc.returncode != 0:
        sys.exit(f"deepflix {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return took, proc.stdout


def encode_floor(data: Path, segment_keys: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of encoding the segments' frames again, raw from disk, with the
    segment stage's arguments (``builtin/ffmpeg-segment``)."""
    from cut import raw_input, timed_ffmpeg  # bench/cut.py: the same floor, for the cut

    from deepflix.cut.ffmpeg.encode import COLOR_TAGS, video_codec_args
    from deepflix.cut.ffmpeg.probe import ffmpeg_exe
    from deepflix.models import DEFAULT_CRF, DEFAULT_PRESET

    wall = cpu = 0.0
    for key in segment_keys:
        folder = data / "store" / key[:2] / key
        res = json.loads((folder / "result.json").read_text())["result"]
        w, h, fps = res["width"], res["height"], round(res["frames"] / res["duration"])
        raw = folder.parent / f"{key}.yuv"
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(folder / res["video"]), "-f", "rawvideo",
                        "-pix_fmt", "yuv420p", str(raw)], check=True)
        _, vargs = video_codec_args("h264", DEFAULT_CRF, DEFAULT_PRESET, fps)
        try:
            took = timed_ffmpeg([*raw_input(w, h, fps, raw), "-map", "0:v:0", *vargs, "-pix_fmt", "yuv420p",
                                 *COLOR_TAGS, "-an", "-f", "mp4", "-y", str(raw.with_suffix(".mp4"))])
        finally:
            raw.unlink(missing_ok=True)
            raw.with_suffix(".mp4").unlink(missing_ok=True)
        wall, cpu = wall + took["wall"], cpu + took["cpu"]
    return wall, cpu


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
        first, log1 = run(["make", *base], env, "first", staged=Path(tmp) / "stage_cpu.json")
        stage_cpu = json.loads((Path(tmp) / "stage_cpu.json").read_text())
        manifest = json.loads((out / "film.json").read_text())
        second, _ = run(["make", *base], env, "again")

        story = json.loads((out / "story.json").read_text())
        k = len(story["scenes"]) // 2
        story["scenes"][k]["narration"] += " The wind had changed, and nobody else had noticed."
        edited = Path(tmp) / "edited.json"
        edited.write_text(json.dumps(story))
        third, log3 = run(["make", "--story", str(edited), "--resolution", a.resolution, "--out", str(out)], env, "edit",
                          staged=Path(tmp) / "stage_cpu_edit.json")
        edit_cpu = json.loads((Path(tmp) / "stage_cpu_edit.json").read_text())
        redone = json.loads((out / "film.json").read_text())["stages"]
        floor, floor_cpu = encode_floor(Path(tmp) / "data", manifest["artifacts"]["segments"])

    print(f"film: {a.scenes} scenes at {a.resolution}, {manifest['duration']:.1f} s of video, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    print("\nfirst run, per stage (wall s):")
    for stage, secs in manifest["stage_seconds"].items():
        print(f"  {stage:<8} {secs:7.2f}")
    print("\nCPU s (stages: the thread that ran each row; ffmpegs apart)   first run    run 3 (the edit)")
    staged = {"first": 0.0, "edit": 0.0}
    for stage in dict.fromkeys([*stage_cpu, *edit_cpu]):
        if stage not in ("process", "ffmpeg", "qa ffmpeg"):
            staged["first"] += stage_cpu.get(stage, 0.0)
            staged["edit"] += edit_cpu.get(stage, 0.0)
            print(f"  {stage:<58} {stage_cpu.get(stage, 0.0):7.2f} {edit_cpu.get(stage, 0.0):12.2f}")
    rows = (("rest of the process (imports, pipe writers, the cut's threads)", lambda c, n: c["process"] - staged[n]),
            ("ffmpeg: the QA", lambda c, n: c.get("qa ffmpeg", 0.0)),
            ("ffmpeg: encodes, the cut", lambda c, n: c["ffmpeg"] - c.get("qa ffmpeg", 0.0)))
    for label, value in rows:
        print(f"  {label:<58} {value(stage_cpu, 'first'):7.2f} {value(edit_cpu, 'edit'):12.2f}")
    print(f"  (the floor's encode: {floor_cpu:.2f})")
    print(f"\n{'run':<34}{'wall s':>8}{'ratio':>8}{'CPU s':>8}{'ratio':>8}")
    c1 = CPU["first"]
    for name, t, cpu in (("1 first run", first, c1), ("2 same command again", second, CPU["again"]),
                         ("3 one narration edited --story", third, CPU["edit"]),
                         ("encode-only floor of run 1", floor, floor_cpu)):
        print(f"{name:<34}{t:8.2f}{t / first:8.2f}{cpu:8.1f}{cpu / c1:8.2f}")
    print(f"\nfirst run / floor: {first / floor:.2f}x wall, {c1 / floor_cpu:.2f}x CPU; "
          f"edit / first run: {third / first:.2f} wall, {CPU['edit'] / c1:.2f} CPU")
    print("run 3 made " + ", ".join(f"{k} {v}" for k, v in redone["made"].items()) +
          "; cached " + ", ".join(f"{k} {v}" for k, v in redone["cached"].items()))
    print("\nrun 3 as deepflix reported it:\n" + log3)


if __name__ == "__main__":
    main()
