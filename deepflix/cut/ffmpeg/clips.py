"""Video clips (from an image-to-video provider) as a stream of canvases.

ffmpeg decodes the clip once, scaled to cover the frame (cropped to its
aspect), resampled to the film's frame rate (a 16 or 24 fps model's clip is
played at the film's 30, frames repeated or dropped on the film's clock),
converted with the BT.709 matrix to yuv420p, and pipes raw frames; we read one
frame at a time (memory stays one frame whatever the clip's length). Past the
clip's end ``frame`` gives its last frame; ``last`` says which that is, once
the end was reached (render.Shot holds it or moves over it).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import IO

import numpy as np

from ...errors import ProviderError
from .encode import stderr_tail, widen_pipe
from .planes import Planes
from .probe import ffmpeg_exe


class ClipReader:
    def __init__(self, path: Path, width: int, height: int, fps: int) -> None:
        self.path, self.width, self.height, self.fps = path, width, height, fps
        self.frame_bytes = width * height * 3 // 2
        self._proc: subprocess.Popen[bytes] | None = None
        self._err: IO[bytes] | None = None
        self._index = -1  # index of the frame in self._current
        self._current: Planes | None = None
        self._ended = False

    def _start(self) -> None:
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        w, h = self.width, self.height
        vf = (f"scale={w}:{h}:force_original_aspect_ratio=increase:flags=bicubic:out_color_matrix=bt709"
              f":out_range=tv,crop={w}:{h},fps={self.fps},format=yuv420p")
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(self.path), "-map", "0:v:0",
               "-vf", vf, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"]
        try:
            self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._err, stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise ProviderError(f"cannot run ffmpeg to decode clip {self.path.name!r}: {exc}") from exc
        assert self._proc.stdout is not None
        widen_pipe(self._proc.stdout.fileno())

    def _read(self) -> Planes | None:
        assert self._proc is not None and self._proc.stdout is not None
        data = self._proc.stdout.read(self.frame_bytes)
        if len(data) < self.frame_bytes:
            return None
        buf = np.frombuffer(data, np.uint8)
        n = self.width * self.height
        return Planes(buf[:n].reshape(self.height, self.width),
                      buf[n : n + n // 4].reshape(self.height // 2, self.width // 2),
                      buf[n + n // 4 :].reshape(self.height // 2, self.width // 2))

    @property
    def last(self) -> int | None:
        """The index of the clip's last frame, once reading reached its end (else None)."""
        return self._index if self._ended else None

    def frame(self, k: int) -> Planes:
        """Frame k of the clip at the film's rate (frames only go forward); the last one past its end."""
        if self._proc is None:
            self._start()
        while self._index < k and not self._ended:
            nxt = self._read()
            if nxt is None:
                self._ended = True
                self._finish()
                break
            self._current, self._index = nxt, self._index + 1
        if self._current is None:
            raise ProviderError(f"clip {self.path.name!r} has no decodable video: {self._message()}")
        return self._current

    def _message(self) -> str:
        if self._err is None:
            return "(no message)"
        self._err.seek(0)
        return stderr_tail(self._err.read().decode("utf-8", errors="replace"), 4)

    def _finish(self) -> None:
        if self._proc is not None:
            if self._proc.stdout:
                self._proc.stdout.close()
            self._proc.wait()

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        self._finish()
        if self._err is not None:
            self._err.close()
            self._err = None
