"""Make one voice sound like several people: pitch and formant shifts after synthesis.

Pitch: resample by 1/p (pitch and formants both move by p, duration by 1/p),
then WSOLA time-stretch back to the original length: WSOLA copies whole
waveform periods chosen by cross-correlation, so voiced speech stays clean
(no phase-vocoder "phasiness"). Formants: the spectral envelope (cepstrally
smoothed log spectrum, per STFT frame) is warped along frequency by
``formant / p``, so formants end where asked whatever the pitch did. Phases are
kept, only magnitudes are reshaped. Everything is numpy/scipy; the one Python
loop runs per 12 ms hop (WSOLA's search depends on the frame before).

``estimate_f0`` (YIN, vectorised) measures what came out; tests and
bench/speech.py use it to show the fundamental moves as asked.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..lazy import lazy_module

signal = lazy_module("scipy.signal")  # seconds to import; only needed when speaking


def shift_voice(x: np.ndarray, sr: int, semitones: float = 0.0, formant: float = 1.0) -> np.ndarray:
    """``x`` float32 mono -> same length, pitch moved by ``semitones``, formants scaled by ``formant``."""
    x = np.asarray(x, dtype=np.float32)
    if len(x) < sr // 20:
        return x
    p = 2.0 ** (semitones / 12.0)
    y = x
    if abs(semitones) > 1e-3:
        # resample so that playing at sr raises the pitch by p (length / p) ...
        frac = Fraction(1.0 / p).limit_denominator(200)
        y = signal.resample_poly(x.astype(np.float64), frac.numerator, frac.denominator)
        # ... then stretch time back by p without touching the pitch
        y = wsola(y, sr, len(x) / len(y))
        y = _fit(y, len(x))
    ratio = formant / p  # resampling moved formants by p; put them at `formant`
    if abs(ratio - 1.0) > 1e-3:
        y = warp_envelope(y, sr, ratio)
    return _fit(np.asarray(y, dtype=np.float32), len(x))


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    return y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))


def wsola(x: np.ndarray, sr: int, factor: float) -> np.ndarray:
    """Time-stretch ``x`` to about ``len(x) * factor`` samples, pitch unchanged."""
    n = int(0.028 * sr) // 2 * 2  # window: at least two periods of an 80 Hz voice
    hop = n // 2
    tol = int(0.008 * sr)
    win = signal.windows.hann(n, sym=False)  # periodic Hann: overlaps at n/2 sum to exactly 1
    out_len = int(round(len(x) * factor))
    frames = out_len // hop + 2  # output is offset by half a window, so every kept sample has two frames
    pad = tol + n
    xp = np.concatenate([np.zeros(pad), np.asarray(x, dtype=np.float64), np.zeros(pad + n + int(frames * hop / factor))])
    y = np.zeros(frames * hop + n)
    ana_hop = hop / factor
    prev = pad - hop
    for k in range(frames):
        nominal = pad - hop + int(round(k * ana_hop))  # frame k is centred on input sample k * ana_hop
        if k == 0:
            pos = nominal
        else:
            # the frame that best continues what was just written, near where time says it should be
            target = xp[prev + hop: prev + hop + n]
            region = xp[nominal - tol: nominal + tol + n]
            corr = np.correlate(region, target, mode="valid")
            pos = nominal - tol + int(np.argmax(corr)) if np.any(target) else nominal
        y[k * hop: k * hop + n] += xp[pos: pos + n] * win
        prev = pos
    return y[hop: hop + out_len]


def warp_envelope(x: np.ndarray, sr: int, ratio: float) -> np.ndarray:
    """Move the spectral envelope (formants) by ``ratio`` (>1 up: a smaller vocal tract)."""
    nfft = 1024 if sr <= 24000 else 2048
    hop = nfft // 4
    _, _, spec = signal.stft(x, fs=sr, nperseg=nfft, noverlap=nfft - hop, window="hann", boundary="even", padded=True)
    mag = np.abs(spec) + 1e-9
    # cepstral smoothing: keep quefrencies under 1.6 ms, below any speaking voice's pitch period
    ceps = np.fft.irfft(np.log(mag), axis=0)
    lifter = int(0.0016 * sr)
    ceps[lifter: ceps.shape[0] - lifter + 1] = 0.0
    env = np.exp(np.fft.rfft(ceps, axis=0).real)
    bins = np.arange(env.shape[0], dtype=np.float64) / ratio  # new bin k takes the envelope from bin k/ratio
    lo = np.clip(np.floor(bins).astype(int), 0, env.shape[0] - 1)
    hi = np.clip(lo + 1, 0, env.shape[0] - 1)
    w = (bins - np.floor(bins))[:, None]
    warped = env[lo] * (1 - w) + env[hi] * w
    gain = np.clip(warped / env, 0.05, 20.0)
    _, y = signal.istft(spec * gain, fs=sr, nperseg=nfft, noverlap=nfft - hop, window="hann", boundary=True)
    return _fit(np.asarray(y, dtype=np.float32), len(x))


def estimate_f0(x: np.ndarray, sr: int, fmin: float = 60.0, fmax: float = 450.0) -> np.ndarray:
    """F0 in Hz per 10 ms frame (NaN where unvoiced), by YIN over all frames at once."""
    x = np.asarray(x, dtype=np.float64)
    w = int(0.025 * sr)  # integration window
    lag_max = int(sr / fmin) + 1
    lag_min = int(sr / fmax)
    hop = int(0.01 * sr)
    if len(x) < w + lag_max + hop:
        return np.full(0, np.nan)
    frames = np.lib.stride_tricks.sliding_window_view(x, w + lag_max)[::hop]
    nfft = 1 << int(np.ceil(np.log2(2 * (w + lag_max))))
    head = np.fft.rfft(frames[:, :w], nfft, axis=1)
    full = np.fft.rfft(frames, nfft, axis=1)
    r = np.fft.irfft(np.conj(head) * full, nfft, axis=1)[:, : lag_max + 1]  # sum_j x[j] x[j+tau], j < w
    sq = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames**2, axis=1)], axis=1)
    taus = np.arange(lag_max + 1)
    e_tau = sq[:, taus + w] - sq[:, taus]  # energy of the window shifted by tau
    d = np.maximum(e_tau[:, :1] + e_tau - 2 * r, 0.0)  # YIN's difference function
    cum = np.cumsum(d[:, 1:], axis=1) / taus[1:]
    cmnd = np.ones_like(d)
    cmnd[:, 1:] = d[:, 1:] / np.maximum(cum, 1e-12)
    sub = cmnd[:, lag_min:]
    below = sub < 0.15
    first = np.where(below.any(axis=1), below.argmax(axis=1), sub.argmin(axis=1))
    # the local minimum after the first dip under the threshold
    idx = np.arange(sub.shape[1])[None, :]
    reach = (first + 0.2 * (first + lag_min) + 2).astype(int)[:, None]
    best = np.where((idx >= first[:, None]) & (idx <= reach), sub, np.inf).argmin(axis=1)
    rows = np.arange(len(best))
    val = sub[rows, best]
    i = np.clip(best + lag_min, 1, lag_max - 1)
    a, b, c = cmnd[rows, i - 1], cmnd[rows, i], cmnd[rows, i + 1]
    denom = a - 2 * b + c
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (a - c) / np.where(np.abs(denom) > 1e-12, denom, 1.0), 0.0)
    lag = i + np.clip(shift, -1, 1)
    rms = np.sqrt(e_tau[:, 0] / w)
    voiced = (val < 0.3) & (rms > 0.05 * (rms.max() + 1e-12))
    return np.where(voiced, sr / lag, np.nan)


def median_f0(x: np.ndarray, sr: int) -> float:
    f0 = estimate_f0(x, sr)
    f0 = f0[np.isfinite(f0)]
    return float(np.median(f0)) if len(f0) else float("nan")


def spectral_centroid(x: np.ndarray, sr: int) -> float:
    """Energy-weighted mean frequency of the voiced parts, in Hz (a timbre measure)."""
    _, _, spec = signal.stft(np.asarray(x, dtype=np.float64), fs=sr, nperseg=1024)
    power = np.abs(spec) ** 2
    freqs = np.linspace(0, sr / 2, power.shape[0])[:, None]
    frame_energy = power.sum(axis=0)
    loud = frame_energy > 0.01 * frame_energy.max()
    return float((freqs * power[:, loud]).sum() / max(power[:, loud].sum(), 1e-12))
