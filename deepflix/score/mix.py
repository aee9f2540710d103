"""The film's sound: speech over music, ducked, faded, normalised and limited.

``mix_film_audio`` streams the film in 10-second chunks, so memory holds the
speech clips and one chunk, never a full-length mix (the score is memory-mapped):

1. analyse: speech energy per 10 ms block (-> an envelope follower, attack
   50 ms / release 400 ms -> where narration plays), and the BS.1770 segment
   energies of the speech and the music stems;
2. plan the music's gain per 10 ms block: a bed level relative to the speech,
   then, under each stretch of speech, a duck deep enough that every 3-s window
   of music sits DUCK_MARGIN_DB under the speech's short-term loudness (at least
   DUCK_MIN_DB), with a 150 ms look-ahead, 50 ms attack and 400 ms release;
   the fades (1.5 s in, 3 s out) multiply in;
3. measure the mix's integrated loudness (chunk by chunk) -> one gain to the target;
4. write it through the look-ahead true-peak limiter (4x oversampled) as 16-bit
   WAV, measuring what was written; if the limiter pulled the loudness down, run 4
   again with the gain corrected (more than LOUDNESS_TOLERANCE off).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..lazy import lazy_module

ndimage = lazy_module("scipy.ndimage")  # imported on first use

from ..errors import InvalidInput
from . import dsp
from .composition import analysis

BLOCK_S = 0.01
CHUNK_S = 10.0
FADE_IN_S, FADE_OUT_S = 1.5, 3.0
BED_LU = -3.0  # music alone sits this far under the speech's integrated loudness
DUCK_MIN_DB, DUCK_MAX_DB, DUCK_MARGIN_DB = 12.0, 36.0, 11.0
ATTACK_S, RELEASE_S, LOOKAHEAD_S = 0.05, 0.4, 0.15
PAUSE_S = 0.8  # pauses shorter than this keep the music down (no pumping between sentences)
CEILING_DBTP = -1.0
LIMIT_DBTP = CEILING_DBTP - 0.5  # headroom for the AAC encode, which adds a few tenths of overshoot
LOUDNESS_TOLERANCE = 0.5  # LU: closer than this, no second pass to win back what the limiter took


@dataclass
class MixReport:
    integrated_lufs: float
    true_peak_dbtp: float
    music_under_speech_db: float  # min over short-term windows inside narration (inf: no music or no speech)
    longest_silence_s: float
    duration: float
    music_bed_db: float = 0.0  # gain applied to the score before ducking
    duck_db: float = 0.0  # deepest duck used

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 3) for k, v in asdict(self).items()}


class _Speech:
    """The speech clips on the film's timeline, summed on demand for any range."""

    def __init__(self, speech: list[tuple[Path, float]], n: int, rate: int) -> None:
        self.clips: list[tuple[int, np.ndarray]] = []
        for path, start in speech:
            try:
                sr, x = dsp.read_wav(path)
            except (FileNotFoundError, ValueError) as exc:
                raise InvalidInput(f"speech file {str(path)!r} is not a readable WAV: {exc}") from exc
            x = analysis.mono(x).astype(np.float32)
            x = dsp.resample(x, sr, rate)
            s = int(round(start * rate))
            if s < 0 or s >= n or not len(x):
                continue
            self.clips.append((s, x[: n - s]))
        self.clips.sort(key=lambda c: c[0])

    def get(self, lo: int, hi: int) -> np.ndarray:
        out = np.zeros(hi - lo, dtype=np.float32)
        for s, x in self.clips:
            a, b = max(lo, s), min(hi, s + len(x))
            if a < b:
                out[a - lo:b - lo] += x[a - s:b - s]
        return out

    def block_rms_db(self, n: int, block: int) -> np.ndarray:
        nb = -(-n // block)
        energy = np.zeros(nb)
        for s, x in self.clips:
            idx = (s + np.arange(len(x))) // block
            energy[idx[0]: idx[-1] + 1] += np.bincount(idx - idx[0], weights=x.astype(np.float64) ** 2)
        with np.errstate(divide="ignore"):
            return 10 * np.log10(energy / block + 1e-20)


class _Music:
    """The score, read from its file a range at a time: memory-mapped, every page the mix
    touched stayed resident (a 10-minute score's 110 MB in the cut's process)."""

    def __init__(self, score: Path | None, n: int, rate: int) -> None:
        self.n = n
        self.data: np.ndarray | None = None  # the whole score, when it had to be resampled
        self.file: Path | None = None
        self.frames = self.channels = 0
        if score is None:
            return
        try:
            sr, raw = dsp.read_wav(score, mmap=True)
        except (FileNotFoundError, ValueError) as exc:
            raise InvalidInput(f"score file {str(score)!r} is not a readable WAV: {exc}") from exc
        self.frames, self.channels = len(raw), 1 if raw.ndim == 1 else raw.shape[1]
        if sr != rate:  # rare (our providers write 48 kHz): resample once, in memory
            raw = dsp.resample(dsp.as_float(np.asarray(raw)), sr, rate)
            self.data = raw if raw.ndim == 2 else raw[:, None]
            self.frames = len(self.data)
        else:
            self.file, self.offset, self.dtype = score, int(raw.offset), raw.dtype
        del raw

    @property
    def present(self) -> bool:
        return self.data is not None or self.file is not None

    def _rows(self, lo: int, hi: int) -> np.ndarray:
        """Frames [lo, hi) (hi within the score) as float32 (k, channels)."""
        if self.data is not None:
            return dsp.as_float(np.asarray(self.data[lo:hi]))
        assert self.file is not None
        frame = self.dtype.itemsize * self.channels
        with open(self.file, "rb") as f:
            f.seek(self.offset + lo * frame)
            raw = np.frombuffer(f.read((hi - lo) * frame), dtype=self.dtype)
        return dsp.as_float(raw.reshape(-1, self.channels))

    def get(self, lo: int, hi: int) -> np.ndarray:
        """Stereo float32 for [lo, hi): a mono score on both sides, silence past its end."""
        if self.present and hi <= self.frames and self.channels == 2:
            return self._rows(lo, hi)
        out = np.zeros((hi - lo, 2), dtype=np.float32)
        b = min(hi, self.frames)
        if self.present and lo < b:
            part = self._rows(lo, b)
            out[: b - lo] = part if part.shape[1] == 2 else part[:, :1]
        return out


def _follow(x: np.ndarray, rise_s: float, fall_s: float, step_s: float, start: float) -> np.ndarray:
    """One-pole smoothing with one time constant for rising values and another for
    falling ones: a level detector rises fast (attack) and falls slowly (release);
    a ducking gain falls fast and rises slowly."""
    a_rise, a_fall = np.exp(-step_s / rise_s), np.exp(-step_s / fall_s)
    out = np.empty_like(x)
    g = start
    for i, v in enumerate(x.tolist()):
        g = v + (g - v) * (a_rise if v > g else a_fall)
        out[i] = g
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _window_loudness(energy: np.ndarray, a: int, b: int, k: int, seg: int) -> np.ndarray:
    """Loudness of every k-block window inside blocks [a, b) (blocks of ``seg`` samples)."""
    e = energy[a:b]
    if len(e) < k:
        return np.zeros(0)
    c = np.concatenate([[0.0], np.cumsum(e)])
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10((c[k:] - c[:-k]) / (k * seg) + 1e-20)


def mix_film_audio(
    speech: list[tuple[Path, float]],
    score: Path | None,
    duration: float,
    out: Path,
    *,
    target_lufs: float = -16.0,
    sample_rate: int = 48000,
    stems_dir: Path | None = None,
) -> MixReport:
    """Write the film's stereo 16-bit WAV of exactly round(duration * rate) samples.

    ``speech`` is (wav, start second) per scene. ``stems_dir``, when given, also
    gets speech.wav and music.wav: each stem with exactly the gains it has in
    the mix (before the limiter), for checking the ducking from outside."""
    if not duration > 0:
        raise InvalidInput(f"film duration must be positive, got {duration}")
    rate = sample_rate
    n = int(round(duration * rate))
    block = int(round(BLOCK_S * rate))
    sp = _Speech(speech, n, rate)
    mu = _Music(score, n, rate)
    chunk = int(CHUNK_S * rate)

    # 1. analyse the stems: K-weighted energy per 10 ms block (speech plays on both speakers)
    m_speech = dsp.LoudnessMeter(rate, 1, block=block, weight=2.0)
    m_music = dsp.LoudnessMeter(rate, 2, block=block)
    for s in range(0, n, chunk):
        hi = min(n, s + chunk)
        m_speech.feed(sp.get(s, hi))
        if mu.present:
            m_music.feed(mu.get(s, hi))
    nb = -(-n // block)
    e_speech, e_music = _fit(m_speech.blocks(), nb), _fit(m_music.blocks(), nb)
    seg = m_speech.seg
    l_speech = dsp.integrated(dsp.segments(e_speech, block, seg, n), seg, n, rate)
    l_music = dsp.integrated(dsp.segments(e_music, block, seg, n), seg, n, rate)
    has_speech, has_music = bool(np.isfinite(l_speech)), mu.present and bool(np.isfinite(l_music))

    # 2. where narration plays, and the music's gain per block
    bed_db = float(l_speech + BED_LU - l_music) if (has_speech and has_music) else 0.0
    target = np.full(nb, bed_db)
    active = np.zeros(nb, dtype=bool)
    deepest = 0.0
    if has_speech:
        env = _follow(sp.block_rms_db(n, block), ATTACK_S, RELEASE_S, BLOCK_S, -120.0)  # the speech's level
        levels = env[env > -70]
        thr = np.percentile(levels, 90) - 20.0 if len(levels) else 0.0
        active = env > thr
        active = ndimage.binary_closing(active, structure=np.ones(int(PAUSE_S / BLOCK_S), bool))
        active = ndimage.binary_opening(active, structure=np.ones(10, bool))  # ignore blips under 100 ms
        for a, b in _runs(active):
            depth = DUCK_MIN_DB
            if has_music:
                k = min(300, b - a)  # 3-s windows (shorter stretches: their own length)
                ls = _window_loudness(e_speech, a, b, k, block)
                lm = _window_loudness(e_music, a, b, k, block) + bed_db
                if len(ls):
                    depth = max(depth, float(np.max(lm - ls)) + DUCK_MARGIN_DB)
            depth = min(depth, DUCK_MAX_DB)
            deepest = max(deepest, depth)
            target[a:b] = bed_db - depth
    look = int(LOOKAHEAD_S / BLOCK_S)
    target = ndimage.minimum_filter1d(target, size=2 * look + 1, origin=-look, mode="nearest")  # duck 150 ms early
    gain_db = _follow(target, RELEASE_S, ATTACK_S, BLOCK_S, float(target[0]))  # down in 50 ms, up in 400
    t_blocks = (np.arange(nb) + 0.5) * BLOCK_S
    fade = np.clip(t_blocks / FADE_IN_S, 0, 1) * np.clip((duration - t_blocks) / FADE_OUT_S, 0, 1)
    fade = 0.5 - 0.5 * np.cos(np.pi * fade)  # S-curves
    block_gain = (10 ** (gain_db / 20) * fade).astype(np.float32)
    centres = (np.arange(nb) + 0.5) * block

    def music_chunk(lo: int, hi: int) -> np.ndarray:
        g = np.interp(np.arange(lo, hi, dtype=np.float64), centres, block_gain).astype(np.float32)
        return mu.get(lo, hi) * g[:, None]

    def mix_chunk(lo: int, hi: int) -> np.ndarray:
        m = music_chunk(lo, hi)
        m += sp.get(lo, hi)[:, None]
        return m

    # 3. the mix's loudness -> one gain. Speech and music are uncorrelated, so the
    # mix's block energy is the sum of the stems' (the ducked music's: its energy
    # times the block's gain squared); the written file is measured exactly in 4.
    e_ducked = e_music * block_gain.astype(np.float64) ** 2
    loud = dsp.integrated(dsp.segments(e_speech + e_ducked, block, seg, n), seg, n, rate)
    if not np.isfinite(loud):
        raise InvalidInput("the film's sound is silent: no speech and no music to mix")
    gain = float(10 ** ((target_lufs - loud) / 20))

    # 4. limit and write. The limiter takes some loudness back; when that is more than
    # the tolerance, find the gain that lands on the target (secant steps on dry runs,
    # since each louder try is limited harder), then write again.
    written = _write(out, mix_chunk, n, rate, gain)
    if abs(written[0] - target_lufs) > LOUDNESS_TOLERANCE:
        g0, l0 = float(dsp.db(gain)), written[0]
        g1 = g0 + (target_lufs - l0)
        for _ in range(4):
            l1 = _limited_loudness(mix_chunk, n, rate, 10 ** (g1 / 20))
            if abs(l1 - target_lufs) <= LOUDNESS_TOLERANCE / 2:
                break
            slope = float(np.clip((l1 - l0) / (g1 - g0), 0.2, 1.0)) if g1 != g0 else 1.0
            g0, l0, g1 = g1, l1, g1 + (target_lufs - l1) / slope
        gain = float(10 ** (g1 / 20))
        written = _write(out, mix_chunk, n, rate, gain)
    lufs, peak, silence = written
    if stems_dir is not None:
        stems_dir.mkdir(parents=True, exist_ok=True)
        for name, get in (("speech.wav", lambda lo, hi: np.repeat(sp.get(lo, hi)[:, None], 2, axis=1)),
                          ("music.wav", music_chunk)):
            _write_plain(stems_dir / name, get, n, rate, gain)
    return MixReport(
        integrated_lufs=lufs, true_peak_dbtp=peak,
        music_under_speech_db=_under(e_speech, e_ducked, active, block) if (has_speech and has_music) else float("inf"),
        longest_silence_s=silence, duration=n / rate, music_bed_db=bed_db, duck_db=deepest,
    )


def _under(e_speech: np.ndarray, e_music: np.ndarray, active: np.ndarray, block: int) -> float:
    """Min over 3-s windows lying inside narration (1-s windows if no stretch is that
    long) of speech short-term loudness minus music short-term loudness."""
    best = float("inf")
    for k in (300, 100):
        for a, b in _runs(active):
            ls = _window_loudness(e_speech, a, b, k, block)
            lm = _window_loudness(e_music, a, b, k, block)
            if len(ls):
                best = min(best, float(np.min(ls - lm)))
        if np.isfinite(best):
            return best
    return best


def _fit(e: np.ndarray, nb: int) -> np.ndarray:
    out = np.zeros(nb)
    out[: min(nb, len(e))] = e[:nb]
    return out


def _limited_loudness(get: Callable[[int, int], np.ndarray], n: int, rate: int, gain: float) -> float:
    meter = dsp.LoudnessMeter(rate, 2)
    for _, y in dsp.limited_chunks(get, n, rate, gain, LIMIT_DBTP):
        meter.feed(y)
    return meter.integrated()


def _write(out: Path, get: Callable[[int, int], np.ndarray], n: int, rate: int, gain: float) -> tuple[float, float, float]:
    """Limit and write to a temp file, then rename: (integrated LUFS, dBTP, longest silence) of what was written."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.part")
    meter = dsp.LoudnessMeter(rate, 2)
    peak = 0.0
    silence, run = 0.0, 0.0
    prev = np.zeros((0, 2), np.float32)  # the last samples written: context for the oversampler
    try:
        with dsp.open_wav(tmp, rate) as w:
            for _, y in dsp.limited_chunks(get, n, rate, gain, LIMIT_DBTP):
                w.writeframes(dsp.to_int16(y).tobytes())
                meter.feed(y)  # 16-bit rounding changes this by far under 0.01 LU
                peak = dsp.true_peak(np.concatenate([prev, y]), peak)
                prev = y[-64:]
                # silence runs carry across chunk edges (a chunk is a whole number of frames)
                for quiet in (analysis.frame_rms_db(y, rate) < -50.0).tolist():
                    run = run + analysis.FRAME_S if quiet else 0.0
                    silence = max(silence, run)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return meter.integrated(), float(dsp.db(peak)) if peak > 0 else float("-inf"), silence


def _write_plain(path: Path, get: Callable[[int, int], np.ndarray], n: int, rate: int, gain: float) -> None:
    with dsp.open_wav(path, rate) as w:
        for s in range(0, n, int(CHUNK_S * rate)):
            w.writeframes(dsp.to_int16(get(s, min(n, s + int(CHUNK_S * rate))) * gain).tobytes())
