"""Listening by numbers: is this audio music, in its key, on its beat, never silent?

Used by the mix report, the tests and bench/score.py. All measures are
frame-based numpy (50 ms frames), cheap enough for a whole film.
"""

from __future__ import annotations

import numpy as np

FRAME_S = 0.05


def mono(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=1) if x.ndim == 2 else x


def frame_rms_db(x: np.ndarray, rate: int, frame_s: float = FRAME_S) -> np.ndarray:
    m = mono(x)
    f = int(rate * frame_s)
    n = len(m) // f
    if n == 0:
        return np.zeros(0)
    ms = (m[: n * f].astype(np.float64).reshape(n, f) ** 2).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(ms + 1e-20)


def longest_silence(x: np.ndarray, rate: int, floor_db: float = -50.0, frame_s: float = FRAME_S) -> float:
    """Seconds of the longest run of frames under floor_db (dBFS RMS)."""
    quiet = frame_rms_db(x, rate, frame_s) < floor_db
    if not quiet.any():
        return 0.0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    return float((edges[1::2] - edges[::2]).max() * frame_s)


def _spectra(x: np.ndarray, rate: int, n_fft: int = 4096, hop: int = 2048, max_frames: int = 2000) -> np.ndarray:
    m = mono(x).astype(np.float64)
    n = 1 + max(0, (len(m) - n_fft) // hop)
    idx = np.linspace(0, n - 1, min(n, max_frames)).astype(int) * hop
    frames = np.stack([m[i:i + n_fft] for i in idx]) * np.hanning(n_fft)
    return np.abs(np.fft.rfft(frames, axis=1)) ** 2


def spectral_flatness(x: np.ndarray, rate: int) -> float:
    """Median over frames of geometric/arithmetic mean power, 50 Hz-8 kHz:
    white noise is ~0.56, a tone ~0; instrumental music sits well under 0.1."""
    p = _spectra(x, rate)
    freqs = np.fft.rfftfreq(4096, 1 / rate)
    band = p[:, (freqs >= 50) & (freqs <= 8000)] + 1e-20
    loud = band.mean(axis=1) > band.mean() * 1e-3
    if not loud.any():
        return 1.0
    flat = np.exp(np.log(band[loud]).mean(axis=1)) / band[loud].mean(axis=1)
    return float(np.median(flat))


def chroma(x: np.ndarray, rate: int) -> np.ndarray:
    """Energy per pitch class (C=0), 100 Hz-2 kHz, normalised to sum 1. Long frames
    (16384 samples: 2.9 Hz bins) so that neighbouring semitones stay apart down
    to the floor; below it a semitone is narrower than the window's main lobe."""
    n_fft = 16384
    p = _spectra(x, rate, n_fft=n_fft, hop=n_fft // 2).sum(axis=0)
    freqs = np.fft.rfftfreq(n_fft, 1 / rate)
    keep = (freqs >= 100) & (freqs <= 2000)
    pcs = np.round(12 * np.log2(freqs[keep] / 440.0) + 69).astype(int) % 12
    c = np.bincount(pcs, weights=p[keep], minlength=12)
    return c / c.sum()


def in_scale_fraction(x: np.ndarray, rate: int, scale_pcs: tuple[int, ...]) -> float:
    """Share of the pitched energy that falls on the scale's pitch classes
    (seven of twelve: random pitches would give about 0.58)."""
    return float(chroma(x, rate)[list(scale_pcs)].sum())


def onset_envelope(x: np.ndarray, rate: int, hop_s: float = 0.01) -> np.ndarray:
    """Half-wave-rectified log-energy flux in 8 bands, 10 ms hop."""
    m = mono(x).astype(np.float64)
    hop = int(rate * hop_s)
    n_fft = 1024
    n = 1 + max(0, (len(m) - n_fft) // hop)
    frames = np.lib.stride_tricks.sliding_window_view(m, n_fft)[::hop][:n] * np.hanning(n_fft)
    spec = np.abs(np.fft.rfft(frames, axis=1))
    bands = np.array_split(spec, 8, axis=1)
    e = np.log1p(np.stack([b.sum(axis=1) for b in bands], axis=1) * 100)
    flux = np.maximum(np.diff(e, axis=0), 0).sum(axis=1)
    return flux - flux.mean()


def beat_regularity(x: np.ndarray, rate: int, bpm: float) -> tuple[float, float]:
    """(strength at the beat period, best strength in 40-200 bpm) of the onset
    envelope's autocorrelation, normalised to its zero lag: a piece on a steady
    beat has a clear peak at its own beat (or a multiple/half of it)."""
    env = onset_envelope(x, rate)
    ac = np.correlate(env, env, mode="full")[len(env) - 1:]
    ac = ac / (ac[0] or 1.0)
    lag = lambda b: int(round(60.0 / b / 0.01))  # noqa: E731
    at = max(ac[max(1, lag(bpm) - 2): lag(bpm) + 3].max(), ac[max(1, lag(bpm / 2) - 3): lag(bpm / 2) + 4].max())
    best = ac[lag(200): lag(40)].max()
    return float(at), float(best)
