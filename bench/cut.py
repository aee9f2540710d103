"""The cut, three ways, on one 60-s 1080p test film (see issue 7):

1. ours: ``builtin/ffmpeg`` (OpenCV frames piped into one ffmpeg), the whole cut:
   sound mix, picture, soft subtitles, poster and preview; timed from the request in
   a process that has its modules loaded, as a worker has;
2. MoviePy 2, the same edit (Ken Burns, cross-fades, subtitles, ducked music),
   run by another interpreter (MoviePy pins Pillow < 12, so keep it in its own venv):
       python -m venv .venv-moviepy && .venv-moviepy/bin/pip install moviepy==2.2.1
       python bench/cut.py --moviepy-python .venv-moviepy/bin/python
3. the encode-only floor: ffmpeg encoding the very frames of our cut (written raw
   to disk first) with the same encoder arguments as our picture: what the encode
   alone costs. A row "ours, picture alone" draws and encodes those frames with no
   sound, poster or preview: the floor's work plus the drawing.

Each output's SSIM is taken against its lossless reference (ours: the raw frames;
MoviePy's: its own lossless render), so speeds are compared at equal quality.
Peak RSS is sampled: the process plus its ffmpeg children, at the same moment. ``--sweep`` first
encodes 10 s of the raw frames at several presets and CRFs (speed vs SSIM), to
choose the settings. ``--parallax`` adds a row for our cut with the pictures'
depth layers. Timings are medians of ``--repeat`` runs.

    python bench/cut.py [--seconds 60] [--resolution 1080p] [--preset superfast] [--crf 22] [--sweep]
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

from deepflix.cut.ffmpeg.encode import COLOR_TAGS, FrameSink, video_codec_args
from deepflix.cut.ffmpeg.probe import ffmpeg_exe
from deepflix.cut.ffmpeg.render import Shot, one_opencv_thread, render_segment
from deepflix.cut.ffmpeg_cut import FFmpegCut, draw_film, frame_edges, picture_args
from deepflix.models import ArtifactRef, CutRequest, CutScene, SubtitleCue, frame_size
from deepflix.provider import StageContext

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
    import cv2

    from deepflix.models import CharacterSheet, PictureRequest, SceneVisual
    from deepflix.picture.illustrator import render

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
    sr = 48000  # as the composer writes it
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


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _usage(t0: float, cpu0: float = 0.0) -> dict:
    """Wall and CPU (this process and its children) since t0 / cpu0, and peak RSS."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": time.perf_counter() - t0,
            "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime - cpu0,
            "rss_mb": me.ru_maxrss / 1024, "child_rss_mb": kids.ru_maxrss / 1024}


def warm_imports() -> None:
    """Load what the cut will import, as a worker or ``deepflix make`` (whose score stage
    ran first) has: the clock measures the cut, not the interpreter starting (scipy alone
    is 0.8 s of CPU to import)."""
    from deepflix.score import dsp, mix

    for lazy in (dsp.signal, dsp.wavfile, mix.ndimage):
        _ = lazy.__name__  # the first attribute loads it


def child_ours(req_path: str, out: str) -> None:
    req = CutRequest.model_validate_json(Path(req_path).read_text())
    warm_imports()
    marks: dict[str, float] = {}
    t0, cpu0 = time.perf_counter(), _cpu()

    def progress(frac: float, msg: str) -> None:
        marks.setdefault(msg.split(" ")[0], time.perf_counter() - t0)

    ctx = StageContext(out_dir=Path(out), resolve=lambda r: Path(r.name), progress=progress)
    sampler = Sampler()
    FFmpegCut().generate(req, ctx)
    print(json.dumps({**_usage(t0, cpu0), **sampler.stop(), "marks": marks}))


def child_frames(req_path: str, out: str, encode: bool) -> None:
    """Our cut's frames alone, drawn as the cut draws them: raw yuv420p into ``out``
    exactly as the encoder receives them (the reference), or (``encode``) encoded as
    the cut encodes its picture: the floor's work plus the drawing, no sound,
    preview or poster."""
    req = CutRequest.model_validate_json(Path(req_path).read_text())
    w, h = frame_size(req.aspect, req.resolution)
    ctx = StageContext(out_dir=Path(out).parent, resolve=lambda r: Path(r.name))
    t0, cpu0 = time.perf_counter(), _cpu()
    sampler = Sampler()
    edges = frame_edges(req)
    args = picture_args(req, edges) if encode else ["-c:v", "rawvideo", "-f", "rawvideo"]
    with one_opencv_thread(), FrameSink(w, h, req.fps, args, Path(out)) as sink:
        draw_film(req, ctx, sink, edges)
    print(json.dumps({**_usage(t0, cpu0), **sampler.stop()}))


def child_reference(req_path: str, raw: str) -> None:
    child_frames(req_path, raw, encode=False)


def child_picture(req_path: str, out: str) -> None:
    child_frames(req_path, out, encode=True)


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    return kids


class Sampler:
    """RSS of this process and the sum of its children's, every 0.2 s. (getrusage's
    peak for children is no use here: a child forked from a big parent starts with
    the parent's pages counted.)"""

    def __init__(self) -> None:
        import threading

        self.samples: list[tuple[float, float, int, int]] = []  # (t, progress, self kB, children kB)
        self.progress, self.done, self.t0 = 0.0, False, time.perf_counter()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        me = os.getpid()
        while not self.done:
            self.samples.append((time.perf_counter() - self.t0, self.progress, _rss_kb(me),
                                 sum(_rss_kb(k) for k in _children(me))))
            time.sleep(0.2)

    def stop(self) -> dict:
        self.done = True
        self.thread.join()
        exact = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # this process: exact, not sampled
        return {"rss_mb": exact, "child_rss_mb": max(s[3] for s in self.samples) / 1024,
                "sum_rss_mb": max(exact, max(s[2] + s[3] for s in self.samples) / 1024)}


def child_memory(req_path: str, out: str) -> None:
    """Our cut of a long film, sampling RSS: does memory grow with the film's length?"""
    req = CutRequest.model_validate_json(Path(req_path).read_text())
    warm_imports()
    t0 = time.perf_counter()
    sampler = Sampler()
    ctx = StageContext(out_dir=Path(out), resolve=lambda r: Path(r.name),
                       progress=lambda f, m="": setattr(sampler, "progress", f))
    FFmpegCut().generate(req, ctx)
    peaks = sampler.stop()
    print(json.dumps({**_usage(t0), **peaks, "samples": sampler.samples}))


def run_child(args: list[str], python: str = sys.executable) -> dict:
    proc = subprocess.run([python, *args], capture_output=True, text=True, check=False)
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
    return {"wall": time.perf_counter() - t0, "cpu": ru.ru_utime + ru.ru_stime, "sum_rss_mb": ru.ru_maxrss / 1024}


def raw_input(w: int, h: int, fps: int, path: Path) -> list[str]:
    """The raw BT.709 frames as an input, tagged as FrameSink tags them (untagged, ffmpeg would
    convert every frame to the output's tags through RGB: slower, and not the same pixels)."""
    return ["-f", "rawvideo", "-pix_fmt", "yuv420p", *COLOR_TAGS, "-s", f"{w}x{h}", "-r", str(fps), "-i", str(path)]


def ssim(video: Path, reference: list[str], frames: int | None = None) -> float:
    """SSIM (all planes) of ``video`` against ``reference`` (ffmpeg input arguments)."""
    limit = ["-frames:v", str(frames)] if frames else []
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(video), *reference,
                           "-lavfi", "[0:v][1:v]ssim", *limit, "-f", "null", "-"], capture_output=True, text=True,
                          check=False)
    m = re.search(r"All:([\d.]+)", proc.stderr)
    if not m:
        sys.exit(f"ssim failed: {proc.stderr[-1500:]}")
    return float(m.group(1))


def median(runs: list[dict]) -> dict:
    keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float))]
    return {k: statistics.median(r[k] for r in runs) for k in keys}


# --------------------------------------------------------------------------- main


def sweep(raw: Path, w: int, h: int, fps: int, tmp: Path) -> None:
    combos = [("ultrafast", 20), ("superfast", 20), ("superfast", 22), ("superfast", 24), ("veryfast", 18),
              ("veryfast", 20), ("veryfast", 22), ("faster", 20), ("medium", 20), ("medium", 23)]
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


def memory_check(a: argparse.Namespace) -> None:
    """A long film (--memory seconds; 7.5-s scenes reusing 8 pictures), sampled RSS."""
    w, h = frame_size("16:9", a.resolution)
    with tempfile.TemporaryDirectory(prefix="deepflix-bench-mem-") as tmp_dir:
        tmp = Path(tmp_dir)
        n = max(1, round(a.memory / 7.5))
        base = make_inputs(tmp, 8 * 7.5, 8, w, h, a.parallax)
        scenes, cues = [], []
        for i in range(n):
            s = dict(base["scenes"][i % 8])
            s["start"] = i * 7.5
            scenes.append(s)
            cues += [{**c, "start": c["start"] - (i % 8) * 7.5 + i * 7.5, "end": c["end"] - (i % 8) * 7.5 + i * 7.5,
                      "scene_index": i} for c in base["cues"] if c["scene_index"] == i % 8]
        long_music = tmp / "music_long.wav"
        with wave.open(base["music"]) as src:
            frames, rate = src.readframes(src.getnframes()), src.getframerate()
        reps = int(np.ceil(n * 7.5 / 60))
        with wave.open(str(long_music), "wb") as dst:
            dst.setnchannels(2)
            dst.setsampwidth(2)
            dst.setframerate(rate)
            dst.writeframes(frames * reps)
        inputs = {"scenes": scenes, "cues": cues, "music": str(long_music), "duration": n * 7.5}
        req = cut_request(inputs, a.resolution, a.preset, a.crf, layers=a.parallax)
        rp = tmp / "request.json"
        rp.write_text(req.model_dump_json())
        (tmp / "out").mkdir()
        r = run_child([str(Path(__file__).resolve()), "--child", "memory", str(rp), str(tmp / "out")])
    samples = r["samples"]
    print(f"{n * 7.5:.0f}-s film ({n} scenes) at {w}x{h}, x264 {a.preset} crf {a.crf}"
          f"{', parallax layers' if a.parallax else ''}: {r['wall']:.0f} s wall, {r['cpu']:.0f} s CPU")
    print(f"peak RSS: python {r['rss_mb']:.0f} MB (exact), ffmpeg {r['child_rss_mb']:.0f} MB (sampled every 0.2 s), "
          f"both at once {r['sum_rss_mb']:.0f} MB")
    print("RSS over the film (MB): progress  python  ffmpeg")
    for q in (0.1, 0.25, 0.5, 0.75, 0.9):
        s = min(samples, key=lambda x: abs(x[1] - q))
        print(f"   {s[1]:5.2f}  {s[2] / 1024:7.0f} {s[3] / 1024:7.0f}")


def jitter_check(a: argparse.Namespace) -> None:
    """Jitter of the encoded film: one picture, push_in and pan_right at 1080p, encoded at
    the chosen settings and decoded, each frame registered against the canvas (jitter.py).
    For comparison, ffmpeg's zoompan on the same canvas along the same path."""
    import cv2

    from deepflix.cut.ffmpeg.jitter import jitter
    from deepflix.cut.ffmpeg.render import SegmentPlan, ShotSpec
    from deepflix.cut.ffmpeg.warp import PAD

    w, h = frame_size("16:9", a.resolution)
    fps, n = 30, 180
    with tempfile.TemporaryDirectory(prefix="deepflix-bench-jitter-") as tmp_dir:
        tmp = Path(tmp_dir)
        make_inputs(tmp, 7.5, 1, w, h, False)
        pic = tmp / "pic0.png"
        for move in ("push_in", "pan_right"):
            shot = Shot(ShotSpec(pic, (), None, move), w, h, fps)
            shot.set_length(n)
            canvas = shot.base.y[PAD:-PAD, PAD:-PAD]  # type: ignore[union-attr]
            _, vargs = video_codec_args("h264", a.crf, a.preset, fps)
            out = tmp / f"{move}.mp4"
            with FrameSink(w, h, fps, [*vargs, "-pix_fmt", "yuv420p", *COLOR_TAGS, "-an", "-f", "mp4"], out) as sink:
                render_segment(SegmentPlan(shot=shot.spec, frames=n), sink, shot)
            picks = list(range(5, n, 9))
            views = [shot.camera.view(k / (n - 1)) for k in picks]
            ours = luma_frames(out, picks)
            # zoompan along the same path: crop (iw/zoom x ih/zoom) at (x, y), scaled to the frame
            cw_ = canvas.shape[1]
            cv2.imwrite(str(tmp / "canvas.png"), canvas)
            e = f"(0.5-0.5*cos(PI*on/{n - 1}))"
            v0, v1 = shot.camera.view(0), shot.camera.view(1)
            if move == "push_in":
                ratio = v1.s / v0.s
                zoom = f"{cw_ / (w * v0.s)}/pow({ratio},{e})"
            else:
                zoom = f"{cw_ / (w * v0.s)}"
            x = f"{v0.ox}+({v1.ox - v0.ox})*{e}" if move != "push_in" else "(iw-iw/zoom)/2"
            y = f"{v0.oy}" if move != "push_in" else "(ih-ih/zoom)/2"
            zp = tmp / f"{move}_zoompan.mp4"
            timed_ffmpeg(["-i", str(tmp / "canvas.png"), "-vf",
                          f"zoompan=z='{zoom}':x='{x}':y='{y}':d={n}:s={w}x{h}:fps={fps}", "-frames:v", str(n),
                          *vargs, "-pix_fmt", "yuv420p", "-an", "-y", str(zp)])
            theirs = luma_frames(zp, picks)
            print(f"{move:<10} ours {jitter(ours, canvas, views)}")
            print(f"{'':<10} zoompan {jitter(theirs, canvas, views)}")


def luma_frames(path: Path, picks: list[int]) -> list[np.ndarray]:
    """Decoded frames, back in the limited-range BT.709 luma the canvas is in."""
    from deepflix.cut.ffmpeg.planes import bgr_to_planes
    from deepflix.cut.ffmpeg.probe import grab_frames

    got = grab_frames(path, picks)
    return [bgr_to_planes(np.ascontiguousarray(got[k][:, :, ::-1])).y for k in picks]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--scenes", type=int, default=8)
    ap.add_argument("--resolution", default="1080p")
    ap.add_argument("--preset", default="superfast")
    ap.add_argument("--crf", type=int, default=22)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--also", default="", help="more x264 settings for ours vs the floor, e.g. veryfast:20,medium:20")
    ap.add_argument("--moviepy-python", default=None, help="an interpreter with moviepy installed")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--sweep-only", action="store_true", help="stop after the sweep")
    ap.add_argument("--parallax", action="store_true")
    ap.add_argument("--jitter", action="store_true", help="instead: jitter of the encoded motion, and zoompan's")
    ap.add_argument("--memory", type=float, default=0, help="instead: peak RSS of our cut of a film this long (s)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        {"ours": child_ours, "picture": child_picture, "reference": child_reference,
         "memory": child_memory}[a.child[0]](a.child[1], a.child[2])
        return
    if a.memory:
        memory_check(a)
        return
    if a.jitter:
        jitter_check(a)
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
        if a.sweep or a.sweep_only:
            sweep(raw, w, h, fps, tmp)
        if a.sweep_only:
            return

        def ours_and_floor(preset: str, crf: int, tag: str) -> tuple[dict, dict, dict, dict]:
            """Medians of our whole cut, of our picture alone, and of the floor (the same encoder
            arguments as our picture) at these settings, in alternating runs."""
            r = req.model_copy(update={"preset": preset, "crf": crf})
            rpath = tmp / f"request_{tag}.json"
            rpath.write_text(r.model_dump_json())
            vargs = picture_args(r, frame_edges(r))
            runs, pics, floors = [], [], []
            for k in range(a.repeat):  # alternate, so a change in the machine's load hits all alike
                out = tmp / f"ours_{tag}{k}"
                out.mkdir()
                runs.append(run_child([*me[1:], "ours", str(rpath), str(out)]))
                pics.append(run_child([*me[1:], "picture", str(rpath), str(tmp / f"picture_{tag}.mp4")]))
                floors.append(timed_ffmpeg([*raw_input(w, h, fps, raw), *vargs, "-y", str(tmp / f"floor_{tag}.mp4")]))
            ref = raw_input(w, h, fps, raw)
            marks = {key: statistics.median(x["marks"].get(key, 0.0) for x in runs) for key in runs[0]["marks"]}
            return ({**median(runs), "ssim": ssim(tmp / f"ours_{tag}0" / "movie.mp4", ref)},
                    {**median(pics), "ssim": ssim(tmp / f"picture_{tag}.mp4", ref)},
                    {**median(floors), "ssim": ssim(tmp / f"floor_{tag}.mp4", ref)}, marks)

        ours_row, picture_row, floor_row, marks = ours_and_floor(a.preset, a.crf, "main")
        rows["ours (builtin/ffmpeg)"] = ours_row
        rows["ours, picture alone"] = picture_row
        others = []
        for item in filter(None, a.also.split(",")):
            preset, crf = item.split(":")
            o, p, f, _ = ours_and_floor(preset, int(crf), f"{preset}{crf}")
            others.append((preset, int(crf), o, p, f))

        if a.parallax:
            preq = cut_request(inputs, a.resolution, a.preset, a.crf, layers=True)
            ppath = tmp / "request_parallax.json"
            ppath.write_text(preq.model_dump_json())
            praw = tmp / "reference_parallax.yuv"
            run_child([*me[1:], "reference", str(ppath), str(praw)])
            pout = tmp / "parallax"
            pout.mkdir()
            prun = run_child([*me[1:], "ours", str(ppath), str(pout)])
            prun.pop("marks", None)
            rows["ours, parallax layers"] = {**prun, "ssim": ssim(pout / "movie.mp4", raw_input(w, h, fps, praw))}
            praw.unlink()

        rows["encode-only floor"] = floor_row

        if a.moviepy_python:
            import importlib.resources as res

            font = res.files("font_source_sans_pro") / "files" / "SourceSansPro-Semibold.ttf"
            spec = {"width": w, "height": h, "fps": fps, "crf": a.crf, "preset": a.preset, "transition": 0.8,
                    "scenes": inputs["scenes"], "cues": inputs["cues"], "music": inputs["music"],
                    "duration": a.seconds, "font": str(font), "font_size": round(h * 0.05)}
            mp = str(ROOT / "bench" / "cut_moviepy.py")
            mruns = []
            for _ in range(a.repeat):
                spath = tmp / "moviepy.json"
                spath.write_text(json.dumps({**spec, "out": str(tmp / "moviepy.mp4")}))
                mruns.append(run_child([mp, str(spath)], python=a.moviepy_python))
            spath.write_text(json.dumps({**spec, "out": str(tmp / "moviepy_ref.mp4"), "lossless": True}))
            run_child([mp, str(spath)], python=a.moviepy_python)
            rows["MoviePy 2"] = {**median(mruns), "ssim": ssim(tmp / "moviepy.mp4", ["-i", str(tmp / "moviepy_ref.mp4")])}

    cores = os.cpu_count()
    load = os.getloadavg()[0]
    print(f"\n{a.seconds:.0f}-s film at {w}x{h} {fps} fps, {a.scenes} scenes, x264 {a.preset} crf {a.crf}; "
          f"medians of {a.repeat} alternating runs of ours and the floor; "
          f"{cores} cores, load average {load:.1f} at the end (the machine is shared)")
    print(f"reference render (frames only, no encode): {ref_run['wall']:.1f} s wall, {ref_run['cpu']:.1f} s CPU")
    floor = rows["encode-only floor"]
    base = rows.get("MoviePy 2")
    print(f"\n| {'method':<24} | {'wall s':>7} | {'CPU s':>7} | {'peak RSS MB':>11} | {'SSIM':>7} | "
          f"{'vs floor':>8} | {'vs MoviePy':>10} |")
    print(f"|{'-' * 26}|{'-' * 9}|{'-' * 9}|{'-' * 13}|{'-' * 9}|{'-' * 10}|{'-' * 12}|")
    for name, r in rows.items():
        rss = r["sum_rss_mb"]
        speed = f"{base['wall'] / r['wall']:.1f}x faster" if base and r is not base else ""
        print(f"| {name:<24} | {r['wall']:7.1f} | {r['cpu']:7.1f} | {rss:11.0f} | {r['ssim']:7.4f} | "
              f"{r['wall'] / floor['wall']:7.2f}x | {speed:>10} |")
    print(f"CPU, ours / floor: {rows['ours (builtin/ffmpeg)']['cpu'] / floor['cpu']:.2f}x")
    print(f"\nours, phases (s from start): picture drawn and encoded (the sound made beside it) "
          f"{marks.get('muxing', 0):.1f}, muxed, all done {rows['ours (builtin/ffmpeg)']['wall']:.1f}")
    if others:
        print(f"\nthe same at other settings (medians of {a.repeat}):")
        print(f"| {'x264':<16} | {'ours s':>7} | {'picture s':>9} | {'floor s':>7} | {'ours/floor':>10} | "
              f"{'picture/floor':>13} | {'SSIM ours':>9} | {'SSIM floor':>10} |")
        print(f"|{'-' * 18}|{'-' * 9}|{'-' * 11}|{'-' * 9}|{'-' * 12}|{'-' * 15}|{'-' * 11}|{'-' * 12}|")
        main_row = (a.preset, a.crf, rows["ours (builtin/ffmpeg)"], rows["ours, picture alone"], floor)
        for preset, crf, o, p, f in [main_row, *others]:
            print(f"| {preset + ' crf ' + str(crf):<16} | {o['wall']:7.1f} | {p['wall']:9.1f} | {f['wall']:7.1f} | "
                  f"{o['wall'] / f['wall']:9.2f}x | {p['wall'] / f['wall']:12.2f}x | {o['ssim']:9.4f} | "
                  f"{f['ssim']:10.4f} |")


if __name__ == "__main__":
    main()
