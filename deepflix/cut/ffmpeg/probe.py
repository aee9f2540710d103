"""A small ffprobe for checks and tests, using only the ffmpeg inside imageio-ffmpeg.

That package ships no ffprobe, and the offline install must not need apt. So:
``probe()`` reads the stream summary ffmpeg prints for ``-i``; ``mp4_layout()``
walks the MP4 boxes itself (top-level order for faststart, and per track the
handler, codec, timescale, sample count and edit list); ``first_pts()`` decodes
the first frame of a stream and reports its presentation time, which is what
ffprobe calls a stream's start_time; ``grab_frame()`` decodes one picture.
"""

from __future__ import annotations

import re
import struct
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg  # type: ignore[import-untyped]

    return str(imageio_ffmpeg.get_ffmpeg_exe())


# --------------------------------------------------------------------------- ffmpeg -i


@dataclass
class StreamInfo:
    index: int
    kind: str  # video | audio | subtitle | data
    codec: str
    pix_fmt: str = ""
    colour: str = ""  # "bt709" when matrix, primaries and transfer all are; else "matrix/primaries/transfer"
    width: int = 0
    height: int = 0
    fps: float = 0.0
    sample_rate: int = 0
    channels: str = ""
    language: str = ""


@dataclass
class MediaInfo:
    duration: float
    start: float
    format: str
    streams: list[StreamInfo] = field(default_factory=list)

    def first(self, kind: str) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == kind), None)


_STREAM = re.compile(r"Stream #0:(\d+)(?:\[[^\]]*\])?(?:\((\w+)\))?: (Video|Audio|Subtitle|Data): (\w+)(.*)")


def probe(path: str | Path) -> MediaInfo:
    """Container duration, start and streams, as ``ffmpeg -i`` reports them."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True, check=False)
    text = proc.stderr
    if "Duration:" not in text:
        raise ValueError(f"ffmpeg cannot read {path}: {text.strip().splitlines()[-1] if text.strip() else '?'}")
    fmt = re.search(r"Input #0, ([^,]+(?:,[^,]+)*?), from", text)
    dur = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", text)
    start = re.search(r"start: (-?\d+(?:\.\d+)?)", text)
    duration = int(dur.group(1)) * 3600 + int(dur.group(2)) * 60 + float(dur.group(3)) if dur else 0.0
    info = MediaInfo(duration=duration, start=float(start.group(1)) if start else 0.0,
                     format=fmt.group(1) if fmt else "")
    for line in text.splitlines():
        m = _STREAM.search(line)
        if not m:
            continue
        kind = m.group(3).lower()
        rest = m.group(5)
        st = StreamInfo(index=int(m.group(1)), kind=kind, codec=m.group(4), language=m.group(2) or "")
        if kind == "video":
            pf = re.match(r"[^,]*, (\w+)", rest)
            st.pix_fmt = pf.group(1) if pf else ""
            tags = re.match(r"[^,]*, \w+\(([^)]*)\)", rest)  # yuv420p(tv, bt709, progressive)
            if tags:
                st.colour = next((t for t in tags.group(1).split(", ") if t not in ("tv", "pc", "progressive")
                                  and not t.startswith(("top", "bottom"))), "")
            size = re.search(r", (\d{2,5})x(\d{2,5})", rest)
            if size:
                st.width, st.height = int(size.group(1)), int(size.group(2))
            fps = re.search(r", (\d+(?:\.\d+)?) fps", rest)
            st.fps = float(fps.group(1)) if fps else 0.0
        elif kind == "audio":
            sr = re.search(r", (\d+) Hz, ([\w.()]+)", rest)
            if sr:
                st.sample_rate, st.channels = int(sr.group(1)), sr.group(2)
        info.streams.append(st)
    return info


# --------------------------------------------------------------------------- MP4 boxes


@dataclass
class TrackInfo:
    handler: str  # vide | soun | sbtl | text
    codec: str  # the sample entry: avc1, hvc1, av01, mp4a, tx3g, ...
    timescale: int
    media_duration: int
    samples: int
    edits: list[tuple[int, int]]  # (segment duration in movie timescale, media time; -1 = empty edit)

    def start(self, movie_timescale: int) -> float:
        """Presentation start: the empty edits before the first real one (ffprobe's start_time)."""
        t = 0
        for seg, media_time in self.edits:
            if media_time != -1:
                break
            t += seg
        return t / movie_timescale


@dataclass
class Mp4Layout:
    top_level: list[str]
    timescale: int
    tracks: list[TrackInfo]

    @property
    def faststart(self) -> bool:
        """moov before mdat: a browser can start playing before the whole file arrives."""
        order = [b for b in self.top_level if b in ("moov", "mdat")]
        return bool(order) and order[0] == "moov" and "mdat" in order

    def track(self, handler: str) -> TrackInfo | None:
        return next((t for t in self.tracks if t.handler == handler), None)


def _boxes(data: bytes, start: int, end: int):  # type: ignore[no-untyped-def]
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            break
        yield kind.decode("latin-1"), pos + header, pos + size
        pos += size


def _child(data: bytes, start: int, end: int, path: str) -> tuple[int, int] | None:
    for name in path.split("/"):
        for kind, s, e in _boxes(data, start, end):
            if kind == name:
                start, end = s, e
                break
        else:
            return None
    return start, end


def mp4_layout(path: str | Path) -> Mp4Layout:
    """Top-level box order and each track's essentials, read from the file itself."""
    p = Path(path)
    top: list[str] = []
    moov: bytes | None = None
    with p.open("rb") as f:
        size_total = p.stat().st_size
        pos = 0
        while pos + 8 <= size_total:  # walk the top level without reading mdat
            f.seek(pos)
            head = f.read(16)
            size, kind = struct.unpack(">I4s", head[:8])
            if size == 1:
                size = struct.unpack(">Q", head[8:16])[0]
            elif size == 0:
                size = size_total - pos
            name = kind.decode("latin-1")
            top.append(name)
            if name == "moov":
                f.seek(pos)
                moov = f.read(size)
            if size < 8:
                break
            pos += size
    if moov is None:
        return Mp4Layout(top, 0, [])
    mv = _child(moov, 8, len(moov), "mvhd")
    timescale = 0
    if mv:
        version = moov[mv[0]]
        timescale = struct.unpack(">I", moov[mv[0] + (20 if version == 1 else 12) : mv[0] + (24 if version == 1 else 16)])[0]
    tracks = []
    for kind, s, e in _boxes(moov, 8, len(moov)):
        if kind != "trak":
            continue
        hdlr = _child(moov, s, e, "mdia/hdlr")
        mdhd = _child(moov, s, e, "mdia/mdhd")
        stsd = _child(moov, s, e, "mdia/minf/stbl/stsd")
        stsz = _child(moov, s, e, "mdia/minf/stbl/stsz")
        elst = _child(moov, s, e, "edts/elst")
        handler = moov[hdlr[0] + 8 : hdlr[0] + 12].decode("latin-1") if hdlr else ""
        ts = dur = 0
        if mdhd:
            v = moov[mdhd[0]]
            if v == 1:
                ts, dur = struct.unpack(">IQ", moov[mdhd[0] + 20 : mdhd[0] + 32])
            else:
                ts, dur = struct.unpack(">II", moov[mdhd[0] + 12 : mdhd[0] + 20])
        codec = moov[stsd[0] + 12 : stsd[0] + 16].decode("latin-1") if stsd else ""
        samples = struct.unpack(">I", moov[stsz[0] + 8 : stsz[0] + 12])[0] if stsz else 0
        edits: list[tuple[int, int]] = []
        if elst:
            v = moov[elst[0]]
            n = struct.unpack(">I", moov[elst[0] + 4 : elst[0] + 8])[0]
            pos = elst[0] + 8
            for _ in range(n):
                if v == 1:
                    seg, mt = struct.unpack(">Qq", moov[pos : pos + 16])
                    pos += 20
                else:
                    seg, mt = struct.unpack(">Ii", moov[pos : pos + 8])
                    pos += 12
                edits.append((seg, mt))
        tracks.append(TrackInfo(handler, codec, ts, dur, samples, edits))
    return Mp4Layout(top, timescale, tracks)


# --------------------------------------------------------------------------- decoding


def first_pts(path: str | Path, stream: str = "v") -> float:
    """Presentation time (s) of the first decoded frame of the first video ("v")
    or audio ("a") stream, as a player would show it."""
    filt = ["-vf", "showinfo"] if stream == "v" else ["-af", "ashowinfo"]
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-map", f"0:{stream}:0", *filt,
         "-frames:" + ("v" if stream == "v" else "a"), "1", "-f", "null", "-"],
        capture_output=True, text=True, check=False)
    m = re.search(r"pts_time:\s*(-?\d+(?:\.\d+)?)", proc.stderr)
    if not m:
        raise ValueError(f"no {stream} frame decoded from {path}: {proc.stderr.strip()[-300:]}")
    return float(m.group(1))


def count_frames(path: str | Path) -> int:
    """Frames a full decode of the first video stream yields."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0",
                           "-f", "null", "-"], capture_output=True, text=True, check=False)
    found = re.findall(r"frame=\s*(\d+)", proc.stderr)
    if not found:
        raise ValueError(f"cannot decode {path}: {proc.stderr.strip()[-300:]}")
    return int(found[-1])


def grab_frame(path: str | Path, t: float, size: tuple[int, int] | None = None) -> np.ndarray:
    """The picture at time ``t`` (accurate seek), as an RGB uint8 array (H, W, 3)."""
    info = probe(path).first("video")
    if info is None:
        raise ValueError(f"{path} has no video stream")
    w, h = size or (info.width, info.height)
    vf = ["-vf", f"scale={w}:{h}:flags=area"] if size else []
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-ss", f"{t:.4f}", "-i", str(path),
         "-map", "0:v:0", *vf, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=False)
    if proc.returncode != 0 or len(proc.stdout) < w * h * 3:
        raise ValueError(f"no frame at {t:.3f}s in {path}: {proc.stderr.decode(errors='replace')[-300:]}")
    return np.frombuffer(proc.stdout[: w * h * 3], np.uint8).reshape(h, w, 3)


def grab_frames(path: str | Path, indices: list[int]) -> dict[int, np.ndarray]:
    """Frames by index (exact: counted while decoding, no seeking), RGB uint8."""
    info = probe(path).first("video")
    if info is None:
        raise ValueError(f"{path} has no video stream")
    w, h = info.width, info.height
    want = sorted(set(indices))
    expr = "+".join(f"eq(n\\,{i})" for i in want)
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0",
         "-vf", f"select={expr}", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=False)
    size = w * h * 3
    got = len(proc.stdout) // size
    if proc.returncode != 0 or got < len(want):
        raise ValueError(f"decoded {got} of {len(want)} frames from {path}: "
                         f"{proc.stderr.decode(errors='replace')[-300:]}")
    return {i: np.frombuffer(proc.stdout[k * size : (k + 1) * size], np.uint8).reshape(h, w, 3)
            for k, i in enumerate(want)}
