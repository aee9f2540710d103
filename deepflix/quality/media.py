"""Measurements of a finished film's file: loudness and true peak, the audio and video start
times, and the black, frozen and near-silent stretches ffmpeg's detect filters report."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..cut.ffmpeg.probe import ffmpeg_exe, first_pts

RATE = 48000


CHUNK_S = 10  # the loudness meter is fed this much at a time: a whole multiple of its 100-ms blocks


def decode_audio(path: Path) -> np.ndarray:
    """The film's sound as float32 (n, 2) at 48 kHz."""
    return decode_sound(path)[0]


def decode_sound(path: Path, filters: str | None = None) -> tuple[np.ndarray, str]:
    """(the film's sound as float32 (n, 2) at 48 kHz, ffmpeg's log) through optional audio
    ``filters`` (whose findings are in the log). The samples are read straight into one
    growing buffer: read whole from the pipe (``subprocess.run``), ten minutes of film's
    230 MB of sound were held twice, as the pipe's pieces and their join."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path), "-vn",
           *(["-af", filters] if filters else []), "-ac", "2", "-ar", str(RATE), "-f", "f32le", "-"]
    buf = bytearray()
    with tempfile.TemporaryFile() as log, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log) as proc:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(1 << 22):
            buf += chunk  # grown in place: a large buffer is remapped, not copied
        proc.wait()
        log.seek(0)
        err = log.read().decode(errors="replace")
    usable = len(buf) // 8 * 8
    if proc.returncode != 0 or not usable:
        raise ValueError(f"no audio decoded from {path}: {err[-300:]}")
    del buf[usable:]
    return np.frombuffer(buf, dtype=np.float32).reshape(-1, 2), err


def loudness(audio: np.ndarray) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP: the peak of the 4x oversampled signal, BS.1770).
    The mixer's own meters (the same gating as pyloudnorm to 1e-12 LU; the true peak oversampled
    only where a block can hold the peak): a tenth of the time of pyloudnorm and resample_poly.
    The meter is fed CHUNK_S at a time (the same blocks, the same sums): fed whole, its float64
    copies of the filtered signal took 640 MB for ten minutes of film."""
    from ..score import dsp

    meter = dsp.LoudnessMeter(RATE, audio.shape[1])
    step = CHUNK_S * RATE
    for i in range(0, len(audio), step):
        meter.feed(audio[i:i + step])
    peak = dsp.true_peak(audio)
    return float(meter.integrated()), 20 * np.log10(max(peak, 1e-9))


def start_offset(path: Path) -> float:
    """Audio start minus video start, seconds."""
    return first_pts(path, "a") - first_pts(path, "v")


def detect(path: Path, black_s: float, freeze_s: float, silence_s: float, silence_db: float) -> dict[str, list[list[float]]]:
    """Stretches [start, end] of black picture, frozen picture and near silence, in one decode."""
    vf = f"blackdetect=d={black_s}:pix_th=0.10,freezedetect=n=-60dB:d={freeze_s}"
    af = f"silencedetect=n={silence_db}dB:d={silence_s}"
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-vf", vf, "-af", af,
                           "-f", "null", "-"], capture_output=True, text=True, check=False)
    err = proc.stderr
    if proc.returncode != 0:
        raise ValueError(f"ffmpeg could not read {path}: {err[-300:]}")
    black = [[float(a), float(b)] for a, b in re.findall(r"black_start:([\d.]+) black_end:([\d.]+)", err)]

    def pairs(start: str, end: str) -> list[list[float]]:
        starts = [float(x) for x in re.findall(start + r"[:=]\s*(-?[\d.]+)", err)]
        ends = [float(x) for x in re.findall(end + r"[:=]\s*(-?[\d.]+)", err)]
        last = _duration(err)
        return [[s, ends[i] if i < len(ends) else last] for i, s in enumerate(starts)]

    return {"black": black, "frozen": pairs(r"freeze_start", r"freeze_end"),
            "silent": pairs(r"silence_start", r"silence_end")}


def _duration(err: str) -> float:
    m = re.findall(r"time=(\d+):(\d+):([\d.]+)", err)
    if not m:
        return 0.0
    h, mnt, s = m[-1]
    return int(h) * 3600 + int(mnt) * 60 + float(s)
