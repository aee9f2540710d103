"""The cut, three ways, on one 60-s 1080p test film (see issue 7):

1. ours: ``builtin/ffmpeg`` (OpenCV frames piped into one ffmpeg), the whole cut:
   sound mix, picture, soft subtitles, poster and preview;
2. MoviePy 2, the same edit (Ken Burns, cross-fades, subtitles, ducked music),
   run by another interpreter (MoviePy pins Pillow < 12, so keep it in its own venv):
       python -m venv .venv-moviepy && .venv-moviepy/bin/pip install moviepy==2.2.1
       python bench/cut.py --moviepy-python .venv-moviepy/bin/python
3. the encode-only floor: ffmpeg encoding the very frames of our cut (written raw
   to disk first) at the same settings: what the encode alone costs.

Each output's SSIM is taken against its lossless reference (ours: the raw frames;
MoviePy's: its own lossless render), so speeds are compared at equal quality.
Peak RSS is the process's plus its largest ffmpeg child's. ``--sweep`` first
encodes 10 s of the raw frames at several presets and CRFs (speed vs SSIM), to
choose the settings. ``--parallax`` adds a row for our cut with the pictures'
depth layers. Timings are medians of ``--repeat`` runs.

    python bench/cut.py [--seconds 60] [--resolution 1080p] [--preset veryfast] [--crf 20] [--sweep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deepflix.models import ArtifactRef, CutRequest, CutScene, SubtitleCue, frame_size  # noqa: E402
from deepflix.provider import StageContext  # noqa: E402
from deepflix.video.encode import COLOR_TAGS, FrameSink, video_codec_args  # noqa: E402
from deepflix.video.ffmpeg_cut import FFmpegCut, film_plans, frame_edges  # noqa: E402
from deepflix.video.probe import ffmpeg_exe  # noqa: E402
from deepflix.video.render import Shot, render_segment  # noqa: E402

SETTINGS = ("lighthouse", "forest", "city", "coast", "mountains", "village", "desert", "night_street")
LINES = ["The keeper climbed the stairs as the storm came in.", "Nobody had lit the lamp for years.",
         "Then the bottle knocked against the rocks.", "Inside, a letter, dry as bone.",
         "It was addressed to her, in her own hand.", "The sea, it seemed, remembered everything."]


# --------------------------------------------------------------------------- inputs


def _wav(path: Path, data: np.ndarray, sr: int) -> None:
    x = (np.clip(data, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1 if x.ndim == 1 else x.shape[1])
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(x.tobytes())


def make_inputs(tmp: Path, seconds: float, n: int, width: int, height: int, layers: bool) -> dict:
    """Pictures (the illustrator's, with depth layers), voice-like speech and a music bed."""
    from deepflix.models import CharacterSheet, PictureRequest, SceneVisual
    from deepflix.picture.illustrator import render

    import cv2

    chars = [CharacterSheet(id="ada", name="Ada", base_traits="tall woman", facial_features="sharp",
                            clothing="red coat", distinctive_features="scar"),
             CharacterSheet(id="bo", name="Bo", base_traits="old man", facial_features="beard",
                            clothing="blue jacket", distinctive_features="cane")]
    dur = seconds / n
    rng = np.random.default_rng(0)
    scenes, cues = [], []
    for i in range(n):
        vis = SceneVisual(scene_description="two figures by the sea", atmosphere="moody", setting=SETTINGS[i % 8],
                          characters=["ada", "bo"], weather=("rain", "fog", "clear", "snow")[i % 4],
                          time_of_day=("dusk", "day", "night", "dawn")[i % 4])
        pic = render(PictureRequest(scene=vis, characters=chars, genre="drama", width=width, height=height,
                                    scene_index=i))
        cv2.imwrite(str(tmp / f"pic{i}.png"), pic.image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        layer_paths = []
        if layers:
            for j, (label, img) in enumerate(pic.layers):
                p = tmp / f"pic{i}_layer{j}_{label}.png"
                cv2.imwrite(str(p), img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
                layer_paths.append(str(p))
        speak = dur - 2.0
        sr = 22050
        t = np.arange(int(speak * sr)) / sr
        voice = (np.sin(2 * np.pi * (120 + 20 * i) * t) * 0.5 + rng.normal(0, 0.15, t.size)) * \
            (0.5 + 0.5 * np.sin(2 * np.pi * 3.7 * t) ** 2) * 0.4
        _wav(tmp / f"speech{i}.wav", voice, sr)
        start = i * dur
        scenes.append({"picture": str(tmp / f"pic{i}.png"), "layers": layer_paths, "start": start, "duration": dur,
                       "speech": str(tmp / f"speech{i}.wav"), "speech_offset": 0.6})
        half = speak / 2
        for k in range(2):
            cues.append({"start": round(start + 0.6 + k * half, 3), "end": round(start + 0.6 + (k + 1) * half - 0.1, 3),
                         "text": LINES[(2 * i + k) % len(LINES)], "scene_index": i})
    sr = 44100
    t = np.arange(int(seconds * sr)) / sr
    chord = sum(np.sin(2 * np.pi * f * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.1 * t + f)) for f in (110, 164.8, 220, 277.2))
    _wav(tmp / "music.wav", np.stack([chord, chord], axis=1) * 0.15, sr)
    return {"scenes": scenes, "cues": cues, "music": str(tmp / "music.wav"), "duration": seconds}


def cut_request(inputs: dict, resolution: str, preset: str, crf: int, layers: bool) -> CutRequest:
    def ref(p: str) -> ArtifactRef:
        return ArtifactRef(key="bench", name=p)

    moves = ("push_in", "pan_right", "pull_out", "pan_left", "tilt_up", "push_in", "pan_left", "pull_out")
    scenes = [CutScene(picture=ref(s["picture"]), layers=[ref(p) for p in s["layers"]] if layers else [],
                       start=s["start"], duration=s["duration"], speech=ref(s["speech"]),
                       speech_offset=s["speech_offset"], camera_move=moves[i % len(moves)], transition="crossfade")
              for i, s in enumerate(inputs["scenes"])]
    return CutRequest(title="The Keeper of Grey Point", logline="A lighthouse keeper finds a message in a bottle.",
                      credits=["Ada — the keeper", "Bo — the stranger", "", "Made with DeepFlix"],
                      resolution=resolution, scenes=scenes, score=ref(inputs["music"]),
                      subtitles=[SubtitleCue(**c) for c in inputs["cues"]], preset=preset, crf=crf)


# --------------------------------------------------------------------------- children (fresh processes, clean RSS)


def _usage(t0: float) -> dict:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": time.perf_counter() - t0, "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
            "rss_mb": me.ru_maxrss / 1024, "child_rss_mb": kids.ru_maxrss / 1024}


def child_ours(req_path: str, out: str) -> None:
    req = CutRequest.model_validate_json(Path(req_path).read_text())
    marks: dict[str, float] = {}
    t0 = time.perf_counter()

    def progress(frac: float, msg: str) -> None:
        marks.setdefault(msg.split(" ")[0], time.perf_counter() - t0)

    ctx = StageContext(out_dir=Path(out), resolve=lambda r: Path(r.name), progress=progress)
    FFmpegCut().generate(req, ctx)
    print(json.dumps({**_usage(t0), "marks": marks}))


def child_reference(req_path: str, raw: str) -> None:
    """Our cut's frames, raw yuv420p, exactly as the encoder receives them."""
    req = CutRequest.model_validate_json(Path(req_path).read_text())
    w, h = frame_size(req.aspect, req.resolution)
    ctx = StageContext(out_dir=Path(raw).parent, resolve=lambda r: Path(r.name))
    from deepflix.video.captions import CaptionStyle, Captions

    t0 = time.perf_counter()
    plans, edges = film_plans(req, ctx), frame_edges(req)
    captions = Captions(req.subtitles, CaptionStyle(w, h))
    live = [Shot(plans[0].shot, w, h, req.fps)]
    with FrameSink(w, h, req.fps, ["-c:v", "rawvideo", "-f", "rawvideo"], Path(raw)) as sink:
        for i, plan in enumerate(plans):
            if plan.next is not None:
                live.append(Shot(plan.next, w, h, req.fps))
            render_segment(plan, sink, live[0], live[1] if len(live) > 1 else None, captions, edges[i] / req.fps)
            live.pop(0).close()
    print(json.dumps(_usage(t0)))


def run_child(args: list[str], python: str = sys.executable) -> dict:
    proc = subprocess.run([python, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args[:2])} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def timed_ffmpeg(args: list[str]) -> dict:
    """Run ffmpeg, measuring its own wall, CPU and peak RSS (wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-v", "error", *args], stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        sys.exit(f"ffmpeg failed: {err[-2000:]}")
    return {"wall": time.perf_counter() - t0, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": 0.0,
            "child_rss_mb": ru.ru_maxrss / 1024}


def raw_input(w: int, h: int, fps: int, path: Path) -> list[str]:
    return ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-r", str(fps), "-i", str(path)]


def ssim(video: Path, reference: list[str], frames: int | None = None) -> float:
    """SSIM (all planes) of ``video`` against ``reference`` (ffmpeg input arguments)."""
    limit = ["-frames:v", str(frames)] if frames else []
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(video), *reference,
                           "-lavfi", "[0:v][1:v]ssim", *limit, "-f", "null", "-"], capture_output=True, text=True)
    m = re.search(r"All:([\d.]+)", proc.stderr)
    if not m:
        sys.exit(f"ssim failed: {proc.stderr[-1500:]}")
    return float(m.group(1))


def median(runs: list[dict]) -> dict:
    keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float))]
    return {k: statistics.median(r[k] for r in runs) for k in keys}


# --------------------------------------------------------------------------- main


def sweep(raw: Path, w: int, h: int, fps: int, tmp: Path) -> None:
    combos = [("ultrafast", 20), ("superfast", 20), ("veryfast", 18), ("veryfast", 20), ("veryfast", 22),
              ("faster", 20), ("fast", 20), ("medium", 20), ("medium", 22), ("medium", 23)]
    n = 10 * fps
    print(f"\nsettings sweep: the first {n} frames, SSIM against the raw frames")
    print(f"{'preset':<10}{'crf':>4}{'wall s':>8}{'cpu s':>8}{'SSIM':>9}{'kbit/s':>9}")
    for preset, crf in combos:
        out = tmp / f"sweep_{preset}_{crf}.mp4"
        _, vargs = video_codec_args("h264", crf, preset, fps)
        r = timed_ffmpeg([*raw_input(w, h, fps, raw), "-frames:v", str(n), *vargs, "-pix_fmt", "yuv420p",
                          *COLOR_TAGS, "-an", "-y", str(out)])
        s = ssim(out, raw_input(w, h, fps, raw), n)
        print(f"{preset:<10}{crf:>4}{r['wall']:8.1f}{r['cpu']:8.1f}{s:9.5f}{out.stat().st_size * 8 / 10 / 1000:9.0f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--scenes", type=int, default=8)
    ap.add_argument("--resolution", default="1080p")
    ap.add_argument("--preset", default="veryfast")
    ap.add_argument("--crf", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--moviepy-python", default=None, help="an interpreter with moviepy installed")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--parallax", action="store_true")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        {"ours": child_ours, "reference": child_reference}[a.child[0]](a.child[1], a.child[2])
        return

    w, h = frame_size("16:9", a.resolution)
    fps = 30
    with tempfile.TemporaryDirectory(prefix="deepflix-bench-cut-") as tmp_dir:
        tmp = Path(tmp_dir)
        inputs = make_inputs(tmp, a.seconds, a.scenes, w, h, a.parallax)
        req = cut_request(inputs, a.resolution, a.preset, a.crf, layers=False)
        req_path = tmp / "request.json"
        req_path.write_text(req.model_dump_json())
        me = [sys.executable, str(Path(__file__).resolve()), "--child"]
        rows: dict[str, dict] = {}

        raw = tmp / "reference.yuv"
        ref_run = run_child([*me[1:], "reference", str(req_path), str(raw)])
        if a.sweep:
            sweep(raw, w, h, fps, tmp)

        runs = []
        for k in range(a.repeat):
            out = tmp / f"ours{k}"
            out.mkdir()
            runs.append(run_child([*me[1:], "ours", str(req_path), str(out)]))
        rows["ours (builtin/ffmpeg)"] = {**median(runs), "ssim": ssim(tmp / "ours0" / "movie.mp4", raw_input(w, h, fps, raw))}
        marks = runs[0]["marks"]

        if a.parallax:
            preq = cut_request(inputs, a.resolution, a.preset, a.crf, layers=True)
            ppath = tmp / "request_parallax.json"
            ppath.write_text(preq.model_dump_json())
            praw = tmp / "reference_parallax.yuv"
            run_child([*me[1:], "reference", str(ppath), str(praw)])
            pout = tmp / "parallax"
            pout.mkdir()
            prun = run_child([*me[1:], "ours", str(ppath), str(pout)])
            rows["ours, parallax layers"] = {**prun, "ssim": ssim(pout / "movie.mp4", raw_input(w, h, fps, praw))}
            praw.unlink()

        _, vargs = video_codec_args("h264", a.crf, a.preset, fps)
        floors = [timed_ffmpeg([*raw_input(w, h, fps, raw), *vargs, "-pix_fmt", "yuv420p", *COLOR_TAGS, "-an", "-y",
                                str(tmp / "floor.mp4")]) for _ in range(a.repeat)]
        rows["encode-only floor"] = {**median(floors), "ssim": ssim(tmp / "floor.mp4", raw_input(w, h, fps, raw))}

        if a.moviepy_python:
            import importlib.resources as res

            font = res.files("font_source_sans_pro") / "files" / "SourceSansPro-Semibold.ttf"
            spec = {"width": w, "height": h, "fps": fps, "crf": a.crf, "preset": a.preset, "transition": 0.8,
                    "scenes": inputs["scenes"], "cues": inputs["cues"], "music": inputs["music"],
                    "duration": a.seconds, "font": str(font), "font_size": round(h * 0.05)}
            mp = str(ROOT / "bench" / "cut_moviepy.py")
            mruns = []
            for k in range(a.repeat):
                spath = tmp / "moviepy.json"
                spath.write_text(json.dumps({**spec, "out": str(tmp / "moviepy.mp4")}))
                mruns.append(run_child([mp, str(spath)], python=a.moviepy_python))
            spath.write_text(json.dumps({**spec, "out": str(tmp / "moviepy_ref.mp4"), "lossless": True}))
            run_child([mp, str(spath)], python=a.moviepy_python)
            rows["MoviePy 2"] = {**median(mruns), "ssim": ssim(tmp / "moviepy.mp4", ["-i", str(tmp / "moviepy_ref.mp4")])}

    cores = os.cpu_count()
    load = os.getloadavg()[0]
    print(f"\n{a.seconds:.0f}-s film at {w}x{h} {fps} fps, {a.scenes} scenes, x264 {a.preset} crf {a.crf}; "
          f"{cores} cores, load average {load:.1f} at the end (the machine is shared)")
    print(f"reference render (frames only, no encode): {ref_run['wall']:.1f} s wall, {ref_run['cpu']:.1f} s CPU")
    floor = rows["encode-only floor"]
    base = rows.get("MoviePy 2")
    print(f"\n| {'method':<24} | {'wall s':>7} | {'CPU s':>7} | {'peak RSS MB':>11} | {'SSIM':>7} | "
          f"{'vs floor':>8} | {'vs MoviePy':>10} |")
    print(f"|{'-' * 26}|{'-' * 9}|{'-' * 9}|{'-' * 13}|{'-' * 9}|{'-' * 10}|{'-' * 12}|")
    for name, r in rows.items():
        rss = r["rss_mb"] + r["child_rss_mb"]
        speed = f"{base['wall'] / r['wall']:.1f}x faster" if base and r is not base else ""
        print(f"| {name:<24} | {r['wall']:7.1f} | {r['cpu']:7.1f} | {rss:11.0f} | {r['ssim']:7.4f} | "
              f"{r['wall'] / floor['wall']:7.2f}x | {speed:>10} |")
    enc = marks.get("poster", 0) - marks.get("picture", 0)
    print(f"\nours, phases (s from start): sound mix done {marks.get('picture', 0):.1f}, picture encoded "
          f"{marks.get('poster', 0):.1f} (render+encode {enc:.1f} s = {enc / floor['wall']:.2f}x the floor), "
          f"all done {rows['ours (builtin/ffmpeg)']['wall']:.1f}")


if __name__ == "__main__":
    main()
