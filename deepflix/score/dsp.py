"""Audio measurement and mastering shared by the composer and the mix.

* Loudness per ITU-R BS.1770-4, streamed: the K-weighting biquads are the ones
  pyloudnorm uses (so numbers agree with it to a hundredth of a dB), but energy
  is accumulated per 100 ms segment with ``np.bincount``, so a 10-minute film is
  measured chunk by chunk in a fraction of a second and without a full copy.
  Integrated (gated), momentary (400 ms) and short-term (3 s) loudness all come
  from those segment energies.
* True peak: the largest sample of the signal oversampled 4x (BS.1770 annex 2).
* A look-ahead true-peak limiter: the gain needed at every sample is spread with
  a min-filter over [n - hold, n + attack] and smoothed with a box of the attack
  length. Each smoothed value is an average of minima that include the sample's
  own need, so the gain never exceeds what that sample needs (no overshoot) and
  it ramps instead of clipping.
"""

from __future__ import annotations

import functools
import io
import wave
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..lazy import lazy_module

# scipy's submodules take seconds to import: only a run that makes music pays for them
signal = lazy_module("scipy.signal")
wavfile = lazy_module("scipy.io.wavfile")
ndimage = lazy_module("scipy.ndimage")

SEGMENT_S = 0.1  # loudness bookkeeping granularity: BS.1770 blocks hop by 100 ms


def db(x: float | np.ndarray) -> float | np.ndarray:
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(x)


def k_weighting_sos(rate: int) -> np.ndarray:
    from pyloudnorm.iirfilter import IIRfilter

    stages = [IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, rate, "high_shelf"), IIRfilter(0.0, 0.5, 38.0, rate, "high_pass")]
    return np.array([np.concatenate([f.b / f.a[0], f.a / f.a[0]]) for f in stages])


class LoudnessMeter:
    """Feed chunks of one signal in order; read loudness at the end.

    Energy is kept per ``block`` samples (100 ms by default; the mix uses 10 ms
    blocks so it can weigh them by its ducking gain). ``weight`` scales the
    channel sum: 2.0 measures a mono signal as it will play on both speakers."""

    def __init__(self, rate: int, channels: int, block: int | None = None, weight: float = 1.0) -> None:
        self.rate = rate
        self.seg = int(round(rate * SEGMENT_S))
        self.block = block or self.seg
        if self.seg % self.block:
            raise ValueError(f"block {self.block} must divide the 100 ms segment {self.seg}")
        self.weight = weight
        self.sos = k_weighting_sos(rate)
        self.zi = np.zeros((channels, self.sos.shape[0], 2))
        self.energy = np.zeros(0)  # weighted sum over channels of squared K-weighted samples, per block
        self.n = 0

    def feed(self, x: np.ndarray, scale: float = 1.0) -> None:
        """Add the next samples, (n,) or (n, ch), of any dtype times ``scale`` (int16: 1/32768)."""
        n = len(x)
        if not n:
            return
        x = x.reshape(n, -1)
        sq = np.zeros(n)
        for c in range(x.shape[1]):
            # A contiguous float64 column with a 1e-12 offset: on digital silence the
            # filter's state decays into denormal numbers, which run ~25x slower (the
            # offset adds -240 dB of energy: nothing).
            col = np.multiply(x[:, c], scale, dtype=np.float64)
            col += 1e-12
            y, self.zi[c] = signal.sosfilt(self.sos, col, zi=self.zi[c])
            y *= y
            sq += y
        # sum into blocks: a partial block first (continuing the last one), whole blocks by reshape
        first = self.n // self.block
        head = min(n, (-self.n) % self.block)
        whole = (n - head) // self.block
        sums = [sq[:head].sum()] if head else []
        sums_arr = np.concatenate([sums, sq[head:head + whole * self.block].reshape(whole, self.block).sum(axis=1)])
        tail = sq[head + whole * self.block:]
        if len(tail):
            sums_arr = np.concatenate([sums_arr, [tail.sum()]])
        need = first + len(sums_arr)
        if need > len(self.energy):
            grown = np.zeros(max(need, 2 * len(self.energy)))
            grown[: len(self.energy)] = self.energy
            self.energy = grown
        self.energy[first:need] += sums_arr * self.weight
        self.n += n

    def blocks(self) -> np.ndarray:
        """Energy per block, for the blocks fed so far."""
        return self.energy[: -(-self.n // self.block)]

    def segments(self) -> np.ndarray:
        return segments(self.blocks(), self.block, self.seg, self.n)

    def windows(self, seconds: float) -> np.ndarray:
        return windows(self.segments(), seconds, self.seg)

    def integrated(self) -> float:
        return integrated(self.segments(), self.seg, self.n, self.rate)

    def short_term(self) -> np.ndarray:
        return self.windows(3.0)


def segments(energy: np.ndarray, block: int, seg: int, n: int) -> np.ndarray:
    """Block energies summed into whole 100 ms segments (a partial last one dropped, as BS.1770 does)."""
    per = seg // block
    full = n // seg
    e = np.zeros(full * per)
    e[: min(len(energy), len(e))] = energy[: len(e)]
    return e.reshape(full, per).sum(axis=1)


def windows(seg_energy: np.ndarray, seconds: float, seg: int) -> np.ndarray:
    """Loudness (LUFS) of every window of that length, hopping by 100 ms."""
    k = int(round(seconds / SEGMENT_S))
    if len(seg_energy) < k:
        return np.zeros(0)
    c = np.concatenate([[0.0], np.cumsum(seg_energy)])
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10((c[k:] - c[:-k]) / (k * seg))


def integrated(seg_energy: np.ndarray, seg: int, n: int, rate: int) -> float:
    """Gated integrated loudness (BS.1770-4) from 100 ms segment energies."""
    blocks = windows(seg_energy, 0.4, seg)
    # pyloudnorm counts round((T - 0.4) / 0.1) + 1 blocks; so do we
    nb = int(np.round((n / rate - 0.4) / 0.1)) + 1
    blocks = blocks[: max(nb, 0)]
    if not len(blocks):
        return float("-inf")
    power = 10 ** ((blocks + 0.691) / 10)
    gated = blocks >= -70.0
    if not gated.any():
        return float("-inf")
    rel = -0.691 + 10 * np.log10(power[gated].mean()) - 10.0
    keep = gated & (blocks > rel)
    if not keep.any():
        return float("-inf")
    return float(-0.691 + 10 * np.log10(power[keep].mean()))


def integrated_loudness(x: np.ndarray, rate: int) -> float:
    m = LoudnessMeter(rate, 1 if x.ndim == 1 else x.shape[1])
    m.feed(np.asarray(x, dtype=np.float64))
    return m.integrated()


def _max_columns(a: np.ndarray) -> np.ndarray:
    out = a[:, 0].copy()
    for c in range(1, a.shape[1]):
        np.maximum(out, a[:, c], out=out)
    return out


@functools.lru_cache(maxsize=4)
def _interpolator(factor: int, taps_per_phase: int = 12) -> np.ndarray:
    """Polyphase rows of a windowed-sinc interpolator, as BS.1770-4 annex 2 uses
    (48 taps at 4x): row k gives the signal k/factor of a sample later."""
    n = factor * taps_per_phase
    h = signal.firwin(n, 0.9 / factor, window=("kaiser", 7.0)) * factor
    return np.stack([h[k::factor] for k in range(factor)])


def oversampled_peak(x: np.ndarray, factor: int = 4) -> np.ndarray:
    """Per input sample, the largest |value| over channels at the sample and at the
    interpolated points around it (each phase is a 12-tap FIR along time)."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    env = _max_columns(np.abs(x))
    for row in _interpolator(factor)[1:]:
        y = np.abs(ndimage.correlate1d(x, row, axis=0, mode="nearest"))
        np.maximum(env, _max_columns(y), out=env)
    return env


# How far above its sample peak a stretch of audio may peak between samples. A
# band-limited signal overshoots by more than this only with strong content near
# fs/4 and above at full scale, which film sound does not have; blocks whose
# sample peak is further than this under the level in question are not oversampled.
HOT_DB = 3.0
_BLOCK = 1024


def _block_peaks(x: np.ndarray) -> np.ndarray:
    """Each _BLOCK's sample peak, a few seconds at a time: over a whole film at once the
    absolute values and their envelope were 2x the signal's own size (400 MB for 10 min)."""
    x = x.reshape(len(x), -1)
    step = _BLOCK * max(1, (1 << 19) // _BLOCK)
    out = []
    for lo in range(0, len(x), step):
        env = _max_columns(np.abs(x[lo:lo + step]))
        nb = -(-len(env) // _BLOCK)
        padded = np.zeros(nb * _BLOCK, dtype=env.dtype)
        padded[: len(env)] = env
        out.append(padded.reshape(nb, _BLOCK).max(axis=1))
    return np.concatenate(out) if out else np.zeros(0, dtype=x.dtype)


def peak_envelope(x: np.ndarray, level: float, pad: int = 32) -> np.ndarray:
    """Per sample, the oversampled peak where the sample peak comes within HOT_DB of
    ``level``; elsewhere the sample peak (it cannot reach the level there)."""
    x = x.reshape(len(x), -1)
    env = _max_columns(np.abs(x))
    hot = _block_peaks(x) >= level * 10 ** (-HOT_DB / 20)
    if not hot.any():
        return env
    edges = np.flatnonzero(np.diff(np.concatenate([[0], hot.astype(np.int8), [0]])))
    for a, b in zip(edges[::2] * _BLOCK, np.minimum(edges[1::2] * _BLOCK, len(x))):
        lo, hi = max(0, a - pad), min(len(x), b + pad)
        env[a:b] = oversampled_peak(x[lo:hi])[a - lo: b - lo]
    return env


def true_peak(x: np.ndarray, at_least: float = 0.0, pad: int = 32) -> float:
    """The oversampled (4x) peak, linear. Blocks are checked loudest first and the
    search stops when no remaining block can beat the best found (or ``at_least``)."""
    x = x.reshape(len(x), -1)
    if not len(x):
        return at_least
    peaks = _block_peaks(x)
    best = at_least
    for i in np.argsort(-peaks, kind="stable"):
        if peaks[i] * 10 ** (HOT_DB / 20) <= best:
            break
        lo, hi = max(0, i * _BLOCK - pad), min(len(x), (i + 1) * _BLOCK + pad)
        best = max(best, float(oversampled_peak(x[lo:hi]).max()))
    return best


def true_peak_db(x: np.ndarray) -> float:
    p = true_peak(x)
    return float(db(p)) if p > 0 else float("-inf")


def limiter_gain(x: np.ndarray, ceiling_db: float, rate: int, attack_s: float = 0.005, hold_s: float = 0.04) -> np.ndarray:
    """Gain per sample so the oversampled peak of ``x * gain`` stays under the ceiling.

    ``x`` should carry ``limiter_margin(rate)`` samples of context on each side;
    the caller keeps the middle."""
    ceiling = 10 ** (ceiling_db / 20)
    need = np.minimum(1.0, ceiling / np.maximum(peak_envelope(x, ceiling), 1e-12))
    if need.min() >= 1.0:
        return need
    a, h = max(1, int(attack_s * rate)), max(1, int(hold_s * rate))
    # window [n - h, n + a]: size h + a + 1, origin shifts its centre forward in time
    size = h + a + 1
    origin = (size - 1) // 2 - a  # scipy's window is [n - size//2 - origin, n + (size-1)//2 - origin]
    held = ndimage.minimum_filter1d(need, size=size, origin=origin, mode="nearest")
    return np.minimum(ndimage.uniform_filter1d(held, size=a | 1, mode="nearest"), 1.0)


def limiter_margin(rate: int, attack_s: float = 0.005, hold_s: float = 0.04) -> int:
    return int((attack_s + hold_s) * rate) + 128


def limited_chunks(
    get: Callable[[int, int], np.ndarray], n: int, rate: int, gain: float, ceiling_db: float, chunk: int | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, samples)`` of ``get(0, n) * gain`` through the limiter, chunk by chunk.

    ``get(lo, hi)`` returns the source's samples (n, ch). A chunk is yielded only
    after the next chunk's context has been read, so a caller may overwrite the
    source in place with what it receives."""
    chunk = chunk or 10 * rate
    m = limiter_margin(rate)
    pending: tuple[int, np.ndarray] | None = None
    for s in range(0, n, chunk):
        lo, hi = max(0, s - m), min(n, s + chunk + m)
        seg = np.asarray(get(lo, hi), dtype=np.float32) * np.float32(gain)
        g = limiter_gain(seg, ceiling_db, rate).astype(np.float32)
        a, b = s - lo, s - lo + min(chunk, n - s)
        out = seg[a:b] * g[a:b, None]
        if pending is not None:
            yield pending
        pending = (s, out)
    if pending is not None:
        yield pending


# --------------------------------------------------------------------------- files


def resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return x
    f = Fraction(dst, src).limit_denominator(2000)
    return signal.resample_poly(x, f.numerator, f.denominator, axis=0).astype(np.float32)


def read_wav(path: str | Path | io.BytesIO, mmap: bool = False) -> tuple[int, np.ndarray]:
    """(rate, samples) with samples float32 in [-1, 1], shape (n,) or (n, ch).

    With ``mmap`` an int16 file stays on disk (a memmap) and is scaled lazily by
    the caller through ``as_float``."""
    rate, data = wavfile.read(path, mmap=mmap)
    if mmap:
        return rate, data
    return rate, as_float(data)


def as_float(data: np.ndarray) -> np.ndarray:
    if data.dtype == np.int16:
        return data.astype(np.float32) / 32768.0
    if data.dtype == np.int32:
        return (data.astype(np.float64) / 2147483648.0).astype(np.float32)
    if data.dtype == np.uint8:
        return (data.astype(np.float32) - 128.0) / 128.0
    return data.astype(np.float32)


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def open_wav(path: str | Path, rate: int, channels: int = 2) -> wave.Wave_write:
    """A 16-bit PCM WAV open for ``writeframes``."""
    w = wave.open(str(path), "wb")
    w.setnchannels(channels)
    w.setsampwidth(2)
    w.setframerate(rate)
    return w


def write_wav_chunks(path: str | Path, rate: int, channels: int, chunks: Iterable[np.ndarray]) -> None:
    """16-bit PCM of float chunks (n, channels), in order."""
    with open_wav(path, rate, channels) as w:
        for c in chunks:
            w.writeframes(to_int16(c).tobytes())


def write_wav(path: str | Path, rate: int, x: np.ndarray, chunk: int = 1 << 20) -> None:
    """16-bit PCM, converted chunk by chunk (no film-length temporaries); the same
    samples always give the same bytes."""
    x = x.reshape(len(x), -1)
    write_wav_chunks(path, rate, x.shape[1], (x[s:s + chunk] for s in range(0, len(x), chunk)))
