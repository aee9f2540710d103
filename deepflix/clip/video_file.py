"""The clip file a ComfyUI video node wrote: found in ``/history``, kept as written (MP4/WebM), an
animated WebP or PNG turned into an MP4, and probed for its real frame rate and frame count.

What the nodes record (ComfyUI's ``comfy_api`` ``ui.PreviewVideo`` and VideoHelperSuite):
SaveVideo and SaveWEBM ``{"images": [{filename, subfolder, type}], "animated": [true]}``;
SaveAnimatedWEBP/PNG the same, with a ``.webp``/``.png`` file; VHS_VideoCombine ``{"gifs": [{filename,
subfolder, type, format, frame_rate}]}``. ``images`` is also where SaveImage's stills go, so a file
counts only when its node says ``animated`` or its name is a video's.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ProviderBadOutput

VIDEO_EXT = (".mp4", ".webm", ".mov", ".mkv")
ANIMATED_EXT = (".webp", ".png", ".gif")


def video_items(entry: dict[str, Any], savers: list[str]) -> list[dict[str, Any]]:
    """The saved video files of a finished prompt, from its video nodes first."""
    outputs = entry.get("outputs", {}) or {}
    found: list[dict[str, Any]] = []
    for node_id in [*savers, *[k for k in outputs if k not in savers]]:
        out = outputs.get(node_id) or {}
        animated = any(bool(a) for a in out.get("animated", []) or [])
        for key in ("images", "gifs", "videos"):
            for item in out.get(key, []) or []:
                if not isinstance(item, dict) or "filename" not in item or item.get("type", "output") != "output":
                    continue
                ext = Path(str(item["filename"])).suffix.lower()
                if ext in VIDEO_EXT or (ext in ANIMATED_EXT and (animated or key != "images")):
                    found.append(item)
    return found


def write_clip(data: bytes, filename: str, out_dir: Path, fps: float) -> Path:
    """The clip as the model wrote it (``clip.mp4``/``clip.webm``); animated pictures become an MP4
    at ``fps`` (the workflow's)."""
    ext = Path(filename).suffix.lower()
    if ext in VIDEO_EXT:
        path = out_dir / f"clip{ext}"
        path.write_bytes(data)
        return path
    return _animated_to_mp4(data, filename, out_dir / "clip.mp4", fps)


def _animated_to_mp4(data: bytes, filename: str, path: Path, fps: float) -> Path:
    """Each frame held for its own duration: the WebP encoder merges identical neighbours into one
    longer frame, so a frame count alone would shorten the clip."""
    import imageio_ffmpeg
    from PIL import Image, ImageSequence

    try:
        im = Image.open(io.BytesIO(data))
        frames: list[np.ndarray] = []
        for f in ImageSequence.Iterator(im):
            rgb = np.asarray(f.convert("RGB"))  # loading the frame is what sets its duration
            frames += [rgb] * max(1, round(float(f.info.get("duration") or 0) * fps / 1000.0))
    except (OSError, ValueError) as exc:
        raise ProviderBadOutput(f"ComfyUI clip {filename} is not a readable animation: {exc}") from exc
    h, w = frames[0].shape[:2]
    w2, h2 = w - w % 2, h - h % 2  # yuv420p needs even sides
    writer = imageio_ffmpeg.write_frames(str(path), (w2, h2), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                         macro_block_size=1, output_params=["-crf", "16", "-preset", "veryfast"])
    writer.send(None)
    for f in frames:
        writer.send(np.ascontiguousarray(f[:h2, :w2]))
    writer.close()
    return path


def probe_clip(path: Path) -> tuple[int, int, float, int]:
    """(width, height, fps, frames) of a clip, the frames counted by decoding it."""
    import imageio_ffmpeg

    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        reader.close()
        frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    except (OSError, RuntimeError, StopIteration) as exc:
        raise ProviderBadOutput(f"ComfyUI clip {path.name} is not a readable video: {exc}") from exc
    width, height = (int(v) for v in meta.get("size", (0, 0)))
    fps = float(meta.get("fps") or 0)
    if frames < 1 or fps <= 0 or width < 1:
        raise ProviderBadOutput(f"ComfyUI clip {path.name} has no frames ({frames} at {fps} fps)")
    return width, height, fps, int(frames)
