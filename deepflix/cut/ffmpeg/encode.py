"""Running ffmpeg: encoder settings, a raw-frame pipe with a writer thread, and
atomic outputs.

Every output is written under a hidden temporary name in its folder and renamed
into place only after ffmpeg exits 0, so a failing ffmpeg (bad input, full
disk, killed) never leaves a half-written movie where the finished one would
go. Failures raise ProviderError carrying the tail of ffmpeg's own stderr.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import IO

import numpy as np

from ...core import config
from ...errors import InvalidInput, ProviderError
from .probe import ffmpeg_exe

log = logging.getLogger("deepflix.cut")

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
_SVT_PRESET = dict(zip(X264_PRESETS, (12, 11, 10, 9, 8, 7, 5, 4, 3)))
_AOM_CPU = dict(zip(X264_PRESETS, (8, 8, 7, 6, 6, 5, 4, 3, 2)))
_NVENC_PRESET = dict(zip(X264_PRESETS, ("p1", "p2", "p3", "p4", "p4", "p5", "p6", "p7", "p7")))
# web players assume BT.709 for HD; we convert with that matrix, so say so
COLOR_TAGS = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]

# For tests: a file-size cap (bytes) on ffmpeg's outputs, which makes a write
# past it fail with EFBIG exactly as a full disk fails with ENOSPC.
FILE_SIZE_LIMIT: int | None = None


def stderr_tail(text: str, lines: int = 8) -> str:
    kept = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(kept[-lines:]) or "(no message)"


@lru_cache(maxsize=1)
def available_encoders() -> frozenset[str]:
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=False)
    names = set()
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "VAS":
            names.add(parts[1])
    return frozenset(names)


@lru_cache(maxsize=4)
def encoder_works(name: str) -> bool:
    """Encode one tiny frame: NVENC is listed in every build but needs a GPU with
    an encoder engine and its driver library at run time."""
    if name not in available_encoders():
        return False
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-v", "error", "-f", "lavfi", "-i", "color=c=gray:s=256x256:r=30:d=0.1",
         "-frames:v", "2", "-c:v", name, "-f", "null", "-"],
        capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        log.info("encoder %s unusable here: %s", name, stderr_tail(proc.stderr, 2))
    return proc.returncode == 0


def wants_nvenc() -> bool:
    """NVENC when the environment asks for it (DEEPFLIX_VIDEO_ENCODER=nvenc, or auto
    with a GPU present); it falls back to the software encoder when unusable."""
    choice = os.environ.get("DEEPFLIX_VIDEO_ENCODER", "software").strip().lower()
    if choice == "nvenc":
        return True
    return choice == "auto" and (Path("/dev/nvidia0").exists() or shutil.which("nvidia-smi") is not None)


def check_preset(preset: str) -> None:
    if preset not in X264_PRESETS:
        raise InvalidInput(f"unknown encoder preset {preset!r}; use one of {', '.join(X264_PRESETS)}")


def thread_args() -> list[str]:
    """``-threads N`` for a software encoder when DEEPFLIX_ENCODER_THREADS is set: a
    worker machine given one core per worker (or a fleet benchmark simulating that)
    holds each encode to its share, instead of x264's 1.5 threads per core of the
    whole machine. Not in the cache keys: like x264's own default, which follows the
    machine's cores, it changes how an encode is scheduled, not what was asked for."""
    n = config.settings.deepflix_encoder_threads
    return ["-threads", str(n)] if n else []


def video_codec_args(codec: str, crf: int, preset: str, fps: int, nvenc: bool = False) -> tuple[str, list[str]]:
    """(encoder name, its arguments) for the request's codec, quality and speed.

    ``crf`` is on x264's scale; the other encoders get the value that gives them
    about the same quality. Every choice keeps yuv420p, BT.709 tags and a
    keyframe at least every 10 s (seeking). The software encoders take
    ``thread_args()`` (NVENC has no CPU threads to hold)."""
    check_preset(preset)
    gop = ["-g", str(fps * 10)]
    sw = [*gop, *thread_args()]
    if codec == "h264":
        if nvenc and encoder_works("h264_nvenc"):
            return "h264_nvenc", ["-c:v", "h264_nvenc", "-preset", _NVENC_PRESET[preset], "-tune", "hq",
                                  "-rc", "vbr", "-cq", str(min(51, crf + 2)), "-b:v", "0", "-profile:v", "high", *gop]
        return "libx264", ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-profile:v", "high", *sw]
    if codec == "h265":
        if nvenc and encoder_works("hevc_nvenc"):
            return "hevc_nvenc", ["-c:v", "hevc_nvenc", "-preset", _NVENC_PRESET[preset], "-tune", "hq", "-rc", "vbr",
                                  "-cq", str(min(51, crf + 4)), "-b:v", "0", "-tag:v", "hvc1", *gop]
        if "libx265" not in available_encoders():
            raise InvalidInput("codec 'h265' needs an ffmpeg with libx265; this one has none")
        return "libx265", ["-c:v", "libx265", "-preset", preset, "-crf", str(min(51, crf + 4)), "-tag:v", "hvc1",
                           "-x265-params", "log-level=error", *sw]
    if codec == "av1":
        av1_crf = str(min(63, round(crf * 1.25) + 8))
        if "libsvtav1" in available_encoders():
            return "libsvtav1", ["-c:v", "libsvtav1", "-preset", str(_SVT_PRESET[preset]), "-crf", av1_crf,
                                 "-svtav1-params", "tune=0", *sw]
        if "libaom-av1" in available_encoders():
            return "libaom-av1", ["-c:v", "libaom-av1", "-cpu-used", str(_AOM_CPU[preset]), "-row-mt", "1",
                                  "-crf", av1_crf, "-b:v", "0", *sw]
        raise InvalidInput("codec 'av1' needs an ffmpeg with libsvtav1 or libaom-av1; this one has neither")
    raise InvalidInput(f"unknown codec {codec!r}; use h264, h265 or av1")


F_SETPIPE_SZ = 1031  # Linux fcntl


def widen_pipe(fd: int) -> int:
    """Grow a pipe from 64 kB to 1 MB: a 1080p frame then crosses in 3 writes instead
    of 48, which halves the CPU the transfer costs on both sides. Best effort; gives
    the pipe's size (0 where that cannot be told)."""
    try:
        import fcntl

        return int(fcntl.fcntl(fd, F_SETPIPE_SZ, 1 << 20))
    except (ImportError, OSError):
        return 0


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


@lru_cache(maxsize=1)
def _vmsplice() -> Callable[..., int] | None:
    """libc's vmsplice(2), Linux only: it hands the frame's pages to the pipe
    instead of copying them in, which saves a third of the CPU a 1080p frame's
    3 MB cost to cross (measured: 1800 frames, 3.1 s of CPU instead of 4.7 s)."""
    if not sys.platform.startswith("linux") or os.environ.get("DEEPFLIX_NO_VMSPLICE"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).vmsplice
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.POINTER(_IoVec), ctypes.c_size_t, ctypes.c_uint]
    fn.restype = ctypes.c_ssize_t
    return fn


_splice_refused = False  # the kernel refused vmsplice once: plain writes from then on


def write_all(fd: int, buf: np.ndarray, splice: bool = False) -> None:
    """Write a frame into a pipe: vmsplice when ``splice`` and there is one, write(2)
    otherwise. With vmsplice the pipe reads the frame's own memory, so the buffer
    must not be reused until the reader has taken it all: FrameSink splices only
    frames larger than the pipe, and holds each back until the next one is in (by
    then the pipe holds nothing of it)."""
    global _splice_refused
    fn = _vmsplice() if splice and not _splice_refused else None
    view = memoryview(buf).cast("B")
    if fn is None:
        while view:
            view = view[os.write(fd, view):]
        return
    addr, left = buf.ctypes.data, buf.nbytes
    while left:
        n = fn(fd, ctypes.byref(_IoVec(addr, left)), 1, 0)
        if n < 0:
            err = ctypes.get_errno()
            if err == errno.EINTR:
                continue
            if err in (errno.EINVAL, errno.ENOSYS, errno.EBADF) and left == buf.nbytes:
                _splice_refused = True  # not a pipe, or no vmsplice here
                write_all(fd, buf)
                return
            raise OSError(err, os.strerror(err))
        addr += n
        left -= n


def partial_name(final: Path) -> Path:
    return final.with_name(f".{final.stem}.partial{final.suffix}")


def _command(args: Sequence[str]) -> list[str]:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostats", "-v", "error", *args]
    if FILE_SIZE_LIMIT is None:
        return cmd
    blocks = max(1, FILE_SIZE_LIMIT // 1024)
    # ignore SIGXFSZ so the write fails with EFBIG and ffmpeg reports it itself
    return ["bash", "-c", f"ulimit -f {blocks}; trap '' XFSZ; exec \"$@\"", "ffmpeg", *cmd]


def run_ffmpeg(args: Sequence[str], final: Path | None = None, what: str = "ffmpeg") -> None:
    """Run ffmpeg to completion. ``args`` end with the output path, which must be
    ``partial_name(final)`` when ``final`` is given: it is renamed on success and
    removed on failure."""
    tmp = partial_name(final) if final is not None else None
    try:
        proc = subprocess.run(_command(args), capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    except OSError as exc:
        raise ProviderError(f"{what}: cannot run ffmpeg: {exc}") from exc
    if proc.returncode != 0:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise ProviderError(f"{what} failed (ffmpeg exit {proc.returncode}): {stderr_tail(proc.stderr)}")
    if tmp is not None and final is not None:
        if not tmp.exists():
            raise ProviderError(f"{what}: ffmpeg exited 0 but wrote no {final.name}: {stderr_tail(proc.stderr)}")
        os.replace(tmp, final)


class FrameSink:
    """One ffmpeg process reading raw yuv420p frames on stdin.

    The caller renders into buffers from ``buffer()`` and hands them to
    ``submit()``; a writer thread feeds them to ffmpeg, so rendering (numpy and
    OpenCV release the GIL) overlaps with the pipe and the encoder. A small pool
    of reused buffers keeps memory flat however long the film is."""

    def __init__(self, width: int, height: int, fps: int, output_args: Sequence[str], final: Path,
                 input_args: Sequence[str] = (), pool: int = 5, cwd: Path | None = None) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.frame_bytes = width * height * 3 // 2
        self.final = final
        self.tmp = partial_name(final)
        self.frames = 0
        # the frames are BT.709 (planes.py), and said so on the input: untagged, ffmpeg converts each
        # frame through RGB to the output's tags (as if BT.601: the colours move, and it costs a quarter
        # of the encode), and the file's primaries and transfer stay unknown
        raw = ["-f", "rawvideo", "-pix_fmt", "yuv420p", *COLOR_TAGS, "-s", f"{width}x{height}", "-r", str(fps),
               "-i", "pipe:0"]
        self._cmd = _command([*raw, *input_args, *output_args, "-y", str(self.tmp)])
        self._cwd = cwd  # where files the graph names bare are written (detect.py's marks)
        self._free: queue.Queue[np.ndarray] = queue.Queue()
        self._full: queue.Queue[np.ndarray | None] = queue.Queue()
        for _ in range(pool):
            self._free.put(np.empty(self.frame_bytes, np.uint8))
        self._error: BaseException | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._splice = False

    def __enter__(self) -> FrameSink:  # noqa: PYI034
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(self._cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=self._stderr, cwd=self._cwd)
        except OSError as exc:
            self._stderr.close()
            raise ProviderError(f"cannot run ffmpeg: {exc}") from exc
        assert self._proc.stdin is not None
        pipe = widen_pipe(self._proc.stdin.fileno())
        self._splice = 0 < pipe < self.frame_bytes
        self._thread = threading.Thread(target=self._write, name="ffmpeg-writer", daemon=True)
        self._thread.start()
        return self

    def _write(self) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        fd = self._proc.stdin.fileno()
        held: np.ndarray | None = None  # the frame before: the pipe may still hold its last pages
        while True:
            buf = self._full.get()
            if buf is None:
                if held is not None:
                    self._free.put(held)
                return
            if self._error is None:
                try:
                    write_all(fd, buf, self._splice)
                except OSError as exc:  # ffmpeg died: its stderr says why
                    self._error = exc
            if held is not None:
                self._free.put(held)
            held = buf

    def buffer(self) -> np.ndarray:
        buf = self._free.get()
        if self._error is not None:
            self._free.put(buf)
            self._fail()
        return buf

    def submit(self, buf: np.ndarray) -> None:
        self.frames += 1
        self._full.put(buf)

    def _stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", errors="replace")

    def _fail(self, rc: int | None = None) -> None:
        self._abort()
        code = rc if rc is not None else (self._proc.returncode if self._proc else None)
        raise ProviderError(f"ffmpeg encode failed (exit {code}): {stderr_tail(self._stderr_text())}")

    def _abort(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        if self._thread is not None and self._thread.is_alive():
            self._full.put(None)
            self._thread.join(timeout=10)
        if self._proc is not None:
            if self._proc.stdin:
                try:
                    self._proc.stdin.close()
                except OSError:
                    pass
            self._proc.wait()
        self.tmp.unlink(missing_ok=True)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        try:
            if exc_type is not None:
                self._abort()
                return
            assert self._proc is not None and self._thread is not None
            self._full.put(None)
            self._thread.join()
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.close()
            except OSError:
                pass
            rc = self._proc.wait()
            if rc != 0 or self._error is not None:
                self._fail(rc)
            if not self.tmp.exists():  # exit 0 yet no file: say so, with ffmpeg's words
                raise ProviderError(f"ffmpeg wrote no {self.final.name} after {self.frames} frames: "
                                    f"{stderr_tail(self._stderr_text())}")
            os.replace(self.tmp, self.final)
        finally:
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None
