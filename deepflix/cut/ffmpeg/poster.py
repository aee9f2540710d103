"""The film's poster (a JPEG) and its short animated preview (a WebP)."""

from __future__ import annotations

import functools
import subprocess
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ...errors import ProviderError
from .cards import balance, font, lang_font, text_image, wrap
from .encode import FrameSink, partial_name, run_ffmpeg, stderr_tail
from .planes import Frame, cover, read_image
from .probe import ffmpeg_exe
from .render import Sink

POSTER_LONG_SIDE = 1920
PREVIEW_LONG_SIDE = 480
PREVIEW_FPS = 10
PREVIEW_WINDOW = 1.6  # seconds of each scene
PREVIEW_SCENES = 6


def make_poster(picture: Path, title: str, logline: str, width: int, height: int, out: Path,
                language: str = "en") -> None:
    """A scene's picture with the title over a dark foot, at the film's aspect."""
    scale = min(1.0, POSTER_LONG_SIDE / max(width, height))
    w, h = round(width * scale) // 2 * 2, round(height * scale) // 2 * 2
    bgr = cover(read_image(picture), w, h)[:, :, :3].astype(np.float32)
    # darken the lower part smoothly so the title reads on any picture
    ramp = np.clip((np.linspace(0, 1, h, dtype=np.float32) - 0.45) / 0.55, 0, 1) ** 1.2 * 0.78
    bgr *= (1.0 - ramp)[:, None, None]
    short = min(w, h)
    tfont = lang_font("Semibold", max(16, round(short * 0.1)), language)
    lines = [(line, tfont) for line in balance(title, tfont, w * 0.86)]
    if logline.strip():
        lfont = lang_font("LightIt", max(12, round(short * 0.036)), language)
        lines.append(("", font("Regular", max(6, round(short * 0.012)))))
        lines += [(line, lfont) for line in wrap(logline.strip(), lfont, w * 0.76)][:3]
    text = text_image(lines, w, line_gap=1.15, shadow=max(2, round(short * 0.006)), language=language)
    img = Image.fromarray(np.clip(bgr[:, :, ::-1] + 0.5, 0, 255).astype(np.uint8), "RGB").convert("RGBA")
    top = max(0, h - text.size[1] - round(h * 0.06))
    img.alpha_composite(text.crop((0, 0, w, min(text.size[1], h))), (0, top))
    rgb = np.asarray(img.convert("RGB"))
    ok, data = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    if not ok:
        raise RuntimeError("JPEG encoding of the poster failed")
    tmp = partial_name(out)
    tmp.write_bytes(data.tobytes())
    tmp.replace(out)


def preview_windows(scene_starts: Sequence[float], duration: float, title_duration: float) -> list[float]:
    """Start times of the preview's windows: up to six scenes, spread over the film."""
    n = len(scene_starts)
    picks = sorted({round(i * (n - 1) / max(1, PREVIEW_SCENES - 1)) for i in range(min(n, PREVIEW_SCENES))})
    starts = []
    for i in picks:
        t = scene_starts[i] + (min(title_duration * 0.4, 1.5) if i == 0 else 0.0)
        if t + 0.2 < duration:
            starts.append(round(t, 3))
    return starts or [0.0]


def preview_size(width: int, height: int) -> tuple[int, int]:
    scale = PREVIEW_LONG_SIDE / max(width, height)
    return max(2, round(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2)


# compression level 1 (of 0-6): half the CPU of level 3 for a file ~15% larger
WEBP_ARGS = ["-an", "-c:v", "libwebp_anim", "-lossless", "0", "-quality", "70", "-compression_level", "1",
             "-loop", "0", "-f", "webp"]


class PreviewTap:
    """Sits between the renderer and the encoder and streams small copies of the
    frames the preview shows into their own ffmpeg (an animated WebP) as the film is
    drawn: the preview needs no decode of the movie and no wait at the end."""

    def __init__(self, sink: Sink, starts: Sequence[float], out: Path) -> None:
        self.sink, self.width, self.height, self.fps = sink, sink.width, sink.height, sink.fps
        step = max(1, round(sink.fps / PREVIEW_FPS))
        self.wanted = {round(t * sink.fps) + k * step for t in starts
                       for k in range(int(PREVIEW_WINDOW * sink.fps) // step)}
        self.size = preview_size(sink.width, sink.height)
        self.encoder = FrameSink(*self.size, PREVIEW_FPS, WEBP_ARGS, out, pool=3)
        self.index = 0

    def __enter__(self) -> PreviewTap:  # noqa: PYI034
        self.encoder.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.encoder.__exit__(*exc)  # type: ignore[arg-type]

    def buffer(self) -> np.ndarray:
        return self.sink.buffer()

    def submit(self, buf: np.ndarray) -> None:
        if self.index in self.wanted:
            big, (w, h) = Frame(buf, self.width, self.height), self.size
            small = Frame(self.encoder.buffer(), w, h)
            for src, dst in zip(big.planes, small.planes, strict=True):
                cv2.resize(src, (dst.shape[1], dst.shape[0]), dst=dst, interpolation=cv2.INTER_AREA)
            self.encoder.submit(small.buf)
        self.index += 1
        self.sink.submit(buf)


def make_preview(clips: Sequence[tuple[Path, float, float]], width: int, height: int, out: Path) -> None:
    """An animated WebP: a moment of each picked scene, small and looping. ``clips``
    are (video, start, seconds): each its own input with a fast seek, so little is
    decoded (seek inside each scene's own segment: a seek through the concat demuxer
    decodes from the film's start)."""
    w, h = preview_size(width, height)
    args: list[str] = []
    chains = []
    for i, (video, t, d) in enumerate(clips):
        args += ["-ss", f"{t:.3f}", "-t", f"{d:.3f}", "-i", str(video)]
        chains.append(f"[{i}:v]fps={PREVIEW_FPS},scale={w}:{h}:flags=area,setsar=1[v{i}]")
    graph = ";".join(chains) + ";" + "".join(f"[v{i}]" for i in range(len(clips))) + \
        f"concat=n={len(clips)}:v=1:a=0[out]"
    run_ffmpeg([*args, "-filter_complex", graph, "-map", "[out]", *WEBP_ARGS, "-y", str(partial_name(out))],
               final=out, what="preview")


def _window_filter(w: int, h: int) -> str:
    return f"fps={PREVIEW_FPS},scale={w}:{h}:flags=area,setsar=1"


def window_frames(video: Path, start: float, seconds: float, width: int, height: int, out: Path) -> None:
    """One window of the preview: its small frames, raw yuv420p, zlib-packed into ``out``.
    The same filters as ``make_preview``'s, so the frames are the ones it encodes."""
    w, h = preview_size(width, height)
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-v", "error", "-ss", f"{start:.3f}",
                           "-t", f"{seconds:.3f}", "-i", str(video), "-vf", _window_filter(w, h), "-f", "rawvideo",
                           "-pix_fmt", "yuv420p", "-"], capture_output=True, stdin=subprocess.DEVNULL, check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise ProviderError(f"preview: no frames from {video.name}: {stderr_tail(proc.stderr.decode(errors='replace'))}")
    out.write_bytes(zlib.compress(proc.stdout, 1))


def preview_from_windows(windows: Sequence[Path], width: int, height: int, out: Path) -> None:
    """The animated WebP of ``make_preview`` from windows' frames (``window_frames``):
    the same frames into the same encoder, so the same bytes."""
    w, h = preview_size(width, height)
    raw = b"".join(zlib.decompress(p.read_bytes()) for p in windows)
    tmp = partial_name(out)
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-v", "error", "-f", "rawvideo",
                           "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-r", str(PREVIEW_FPS), "-i", "-", *WEBP_ARGS,
                           "-y", str(tmp)], input=raw, capture_output=True, check=False)
    if proc.returncode != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        raise ProviderError(f"preview failed (ffmpeg exit {proc.returncode}): "
                            f"{stderr_tail(proc.stderr.decode(errors='replace'))}")
    tmp.replace(out)


def _window_into(video: Path, start: float, seconds: float, width: int, height: int, out: Path) -> None:
    window_frames(video, start, seconds, width, height, out)  # looked up when called (tests count the calls)


def kept_preview(clips: Sequence[tuple[Path, float, float, str]], width: int, height: int, out: Path,
                 part: Callable[[dict[str, object], str, Callable[[Path], None]], Path]) -> None:
    """``make_preview`` with each window's frames kept as a part (``part``: the store's
    ``remember``), by the segment it is cut from (``clips``: video, start, seconds, the
    segment's key): a film whose edit re-encoded one segment decodes that one's window only."""
    w, h = preview_size(width, height)
    windows = []
    for video, t, d, key in clips:
        ident = {"part": "preview-window", "version": 1, "segment": key, "file": video.name, "start": round(t, 3),
                 "seconds": round(d, 3), "size": [w, h], "filter": _window_filter(w, h)}
        windows.append(part(ident, "window.yuv.z", functools.partial(_window_into, video, t, d, width, height)))
    preview_from_windows(windows, width, height, out)
