"""Measurements of a finished film's file: loudness and true peak, the audio and video start
times, and the black, frozen and near-silent stretches ffmpeg's detect filters report."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np

from ..cut.ffmpeg.probe import ffmpeg_exe, first_pts

RATE = 48000


def decode_audio(path: Path) -> np.ndarray:
    """The film's sound as float32 (n, 2) at 48 kHz."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-vn", "-ac", "2",
                           "-ar", str(RATE), "-f", "f32le", "-"], capture_output=True, check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise ValueError(f"no audio decoded from {path}: {proc.stderr.decode(errors='replace')[-300:]}")
    return np.frombuffer(proc.stdout, dtype=np.float32).reshape(-1, 2)


def loudness(audio: np.ndarray) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP: the peak of the 4x oversampled signal, BS.1770).
    The mixer's own meters (the same gating as pyloudnorm to 1e-12 LU; the true peak oversampled
    only where a block can hold the peak): a tenth of the time of pyloudnorm and resample_poly."""
    from ..score import dsp

    meter = dsp.LoudnessMeter(RATE, audio.shape[1])
    meter.feed(audio)
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
