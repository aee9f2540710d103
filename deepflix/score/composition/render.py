"""Play notes with SoundFont samples, all numpy.

Each note is: the zone's sample read at the note's pitch (linear-interpolated
resampling, wrapping inside the loop for sustained sounds), low-passed at the
zone's cutoff, times the SF2 volume envelope, panned into stereo and added to
the output. The resampled, filtered sample of each (zone, key) is cached, so a
note played again costs one slice, one envelope multiply and one add. A filter
that the SoundFont sweeps with its modulation envelope (pianos open bright and
darken) is approximated by cross-fading a bright and a dark copy.

The finished stereo bus goes through a convolution reverb (exponentially
decaying, darkening noise; fixed seed, so renders are byte-identical).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ...lazy import lazy_module

sfft = lazy_module("scipy.fft")  # imported on first use
signal = lazy_module("scipy.signal")

from . import sf2
from .sf2 import Zone

MAX_NOTE_S = 24.0  # longest note body we render (pads are re-struck each bar anyway)
MAX_RELEASE_S = 2.0
ENV_CACHE_BYTES = 48 << 20
FLOOR_DB = 46.0  # an envelope this far under full scale is inaudible under the film: stop there


@dataclass(frozen=True)
class Note:
    start: float  # seconds on the film timeline
    dur: float  # until note-off; the release rings after it
    key: int  # MIDI key
    vel: int  # 1..127
    program: int  # GM program; with bank 128 the drum kit
    bank: int = 0
    pan: float = 0.0  # -1 (left) .. 1 (right), added to the zone's own pan
    gain: float = 1.0  # the part's level


class _Source:
    """A filtered, pitched sample: ``x`` is the head then one settled loop period of
    ``per`` samples (the filter's transient has died out by then), tiled on demand."""

    def __init__(self, x: np.ndarray, per: int) -> None:
        self.per = per
        self.head = x[: len(x) - per] if per else x
        self.body = x[len(x) - per:] if per else None

    def length(self, n: int) -> int:
        return n if self.body is not None else min(n, len(self.head))

    def times(self, env: np.ndarray, out: np.ndarray) -> np.ndarray:
        """out[:] = this sound * env (len(env) samples), tiling the loop period in
        place by viewing env as rows of one period (no copy of the sample)."""
        n = len(env)
        h = min(n, len(self.head))
        np.multiply(self.head[:h], env[:h], out=out[:h])
        if n > h and self.body is not None:
            per = self.per
            rows = (n - h) // per
            if rows:
                np.multiply(env[h:h + rows * per].reshape(rows, per), self.body, out=out[h:h + rows * per].reshape(rows, per))
            rest = h + rows * per
            np.multiply(env[rest:n], self.body[: n - rest], out=out[rest:n])
        return out[:n]


def _secs(timecents: int) -> float:
    return 0.0 if timecents <= -12000 else float(2.0 ** (timecents / 1200.0))


def _cutoff_hz(cents: float) -> float:
    return 8.176 * 2.0 ** (cents / 1200.0)


class Synth:
    def __init__(self, font: sf2.SoundFont | None = None, rate: int = 48000) -> None:
        self.font = font or sf2.load()
        self.rate = rate
        self._src: dict[tuple[int, int], tuple[_Source, _Source | None]] = {}
        self._menv: dict[int, np.ndarray] = {}
        self._env: dict[tuple[tuple[int, ...], int], np.ndarray] = {}
        self._env_bytes = 0
        self.samples = 0  # note-samples rendered: the work done, for benchmarks

    # ------------------------------------------------------------------ sources

    def _pitch_step(self, z: Zone, key: int) -> float:
        k = z.gen(sf2.KEYNUM) if z.gen(sf2.KEYNUM) >= 0 else key
        cents = (k - z.root_key) * z.gen(sf2.SCALE_TUNING) + 100 * z.gen(sf2.COARSE_TUNE) + z.gen(sf2.FINE_TUNE)
        cents += z.sample.correction
        return float(2.0 ** (cents / 1200.0) * z.sample.rate / self.rate)

    def _interp(self, pos: np.ndarray, wrap: tuple[int, int] | None = None) -> np.ndarray:
        """Linear interpolation into the sample pool; inside a loop the right-hand
        neighbour of the loop's last sample is its first."""
        i = pos.astype(np.int64)
        f = (pos - i).astype(np.float32)
        j = i + 1
        if wrap is not None:
            j[j >= wrap[1]] -= wrap[1] - wrap[0]
        pool = self.font.pool
        return pool[i] * (1.0 - f) + pool[j] * f

    def _read(self, z: Zone, key: int) -> tuple[np.ndarray, int]:
        """The pitched sample and its loop period in output samples (0: a one-shot).

        A looped sound is returned as its head (up to the loop, plus one period)
        and a second period; ``_Source.take`` tiles that period for as long as the
        note lasts. The period is k loop cycles resampled to a whole number of
        output samples (k chosen so it is >= 2048 samples, a tuning change under
        half a cent), so the tiling is seamless and a 20-second pad costs what a
        0.1-second one does."""
        start, end, ls, le = z.bounds()
        step = self._pitch_step(z, key)
        loop_len = le - ls
        if not (z.loops and loop_len > 1 and start <= ls < le <= end):
            n = max(1, int((end - 1 - start) / step))
            return self._interp(start + np.arange(n, dtype=np.float64) * step), 0
        n_head = max(0, int(np.ceil((le - start) / step)))
        cycle = loop_len / step
        k = max(1, int(np.ceil(2048 / cycle)))
        per = max(1, int(round(k * cycle)))
        adv = k * loop_len / per
        head = self._interp(start + np.arange(n_head, dtype=np.float64) * step)
        phase = (start + n_head * step - ls) % loop_len
        body = self._interp(ls + np.mod(phase + np.arange(2 * per, dtype=np.float64) * adv, loop_len), (ls, le))
        return np.concatenate([head, body]), per

    def _lowpass(self, x: np.ndarray, cents: float) -> np.ndarray:
        hz = _cutoff_hz(cents)
        if hz >= 0.4 * self.rate or hz >= 18000:
            return x
        sos = signal.butter(2, max(hz, 30.0), fs=self.rate, output="sos")
        return signal.sosfilt(sos, x).astype(np.float32)

    def _source(self, z: Zone, key: int) -> tuple[_Source, _Source | None]:
        """(dark, bright - dark or None): the pitched, filtered sample of this zone at this key."""
        ck = (id(z), key)
        got = self._src.get(ck)
        if got is not None:
            return got
        raw, per = self._read(z, key)
        fc = float(z.gen(sf2.FILTER_FC))
        sweep = float(z.gen(sf2.MODENV_TO_FC))
        sus = 1.0 - min(max(z.gen(sf2.SUSTAIN_MOD), 0), 1000) / 1000.0
        if abs(sweep) >= 300:
            dark = self._lowpass(raw, fc + sweep * sus)
            got = (_Source(dark, per), _Source(self._lowpass(raw, fc + sweep) - dark, per))
        else:
            got = (_Source(self._lowpass(raw, fc), per), None)
        self._src[ck] = got
        return got

    def _mod_env(self, z: Zone, n: int) -> np.ndarray:
        """The modulation envelope's shape 0..1 (attack, hold, decay to sustain)."""
        got = self._menv.get(id(z))
        if got is not None and len(got) >= n:
            return got[:n]
        t = np.arange(max(n, 4096), dtype=np.float32) / self.rate
        a, h, d = _secs(z.gen(sf2.ATTACK_MOD)), _secs(z.gen(sf2.HOLD_MOD)), max(_secs(z.gen(sf2.DECAY_MOD)), 1e-3)
        sus = 1.0 - min(max(z.gen(sf2.SUSTAIN_MOD), 0), 1000) / 1000.0
        env = np.where(t < a, t / max(a, 1e-4), np.maximum(sus, 1.0 - (t - a - h).clip(0) / d))
        self._menv[id(z)] = env.astype(np.float32)
        return self._menv[id(z)][:n]

    # ------------------------------------------------------------------ envelope

    def _vol_env(self, z: Zone, key: int, dur_n: int) -> np.ndarray:
        """The SF2 volume envelope: delay, linear attack, hold, decay and release
        falling in dB. Computed at a 32-sample control rate and interpolated, and
        cached by (envelope, length): patterns repeat the same lengths."""
        g = z.gen
        kscale = 60 - key
        params = (g(sf2.DELAY_VOL), g(sf2.ATTACK_VOL), g(sf2.HOLD_VOL) + kscale * g(sf2.KEY_TO_HOLD),
                  g(sf2.DECAY_VOL) + kscale * g(sf2.KEY_TO_DECAY), g(sf2.SUSTAIN_VOL), g(sf2.RELEASE_VOL))
        dur_n = int(round(dur_n / 240)) * 240  # 5 ms steps: more cache hits, inaudible
        ck = (params, dur_n)
        got = self._env.get(ck)
        if got is not None:
            return got
        d, a, h = _secs(params[0]), _secs(params[1]), _secs(params[2])
        dec = max(_secs(params[3]), 1e-3)
        sus_db = min(max(params[4], 0), 1440) / 10.0
        rel = min(max(_secs(params[5]), 0.02), MAX_RELEASE_S)
        rate = self.rate
        # the release falls 100 dB per `rel` seconds; it ends at the floor
        n = dur_n + int(FLOOR_DB / 100.0 * rel * rate)
        step = 32
        t = np.arange(0, n + step, step, dtype=np.float64) / rate
        att_db = np.minimum(sus_db, (t - d - a - h).clip(0) * (100.0 / dec))
        off_t = dur_n / rate
        level_off = 10.0 ** (-min(sus_db, max(off_t - d - a - h, 0.0) * 100.0 / dec) / 20.0)
        if a > 0:
            level_off *= min(max((off_t - d) / a, 0.0), 1.0)
        rel_db = (t - off_t).clip(0) * (100.0 / rel)
        env = np.where(t < off_t, 10.0 ** (-att_db / 20.0), level_off * 10.0 ** (-rel_db / 20.0))
        if a > 0:
            env = np.where(t < off_t, env * np.clip((t - d) / a, 0.0, 1.0), env)
        env[t < d] = 0.0
        # a sound that has decayed under the floor before its release ends can stop there
        quiet = np.flatnonzero((env < 10.0 ** (-FLOOR_DB / 20.0)) & (t > d + a + h))
        if len(quiet):
            n = min(n, int(quiet[0] * step))
        full = np.interp(np.arange(n, dtype=np.float32), np.arange(len(env), dtype=np.float32) * step, env)
        out = full.astype(np.float32)
        self._env_bytes += out.nbytes
        if self._env_bytes > ENV_CACHE_BYTES:  # a long film has many lengths: start over rather than grow
            self._env.clear()
            self._env_bytes = out.nbytes
        self._env[ck] = out
        return out

    # ------------------------------------------------------------------ notes

    def render(self, notes: list[Note], n_samples: int) -> np.ndarray:
        """A dry stereo mix (n_samples, 2) float32 of the notes, channel-major (a view of
        (2, n_samples)): reductions over it (``_levels``' RMS) add in that order."""
        out = np.empty((2, n_samples), np.float32)
        block = 1 << 18
        for i, b in enumerate(self.blocks(sorted(notes, key=lambda nt: nt.start), n_samples, block)):
            out[:, i * block:i * block + len(b)] = b.T
        return out.T

    def blocks(self, notes: list[Note], n_samples: int, block: int) -> Iterator[np.ndarray]:
        """The dry stereo mix of ``notes`` (sorted by start) as (k, 2) float32 blocks of
        ``block`` samples (the last one shorter), in order. A note is added whole into a
        buffer one block plus the longest note long, whose tail carries into the next
        blocks: memory stays one block, not one film, and every sample is the same sum
        in the same order as in one film-length buffer (the bytes do not depend on
        ``block``)."""
        rate = self.rate
        # scratch buffers reused by every note: large temporaries would each cost a fresh mmap
        longest = int((MAX_NOTE_S + MAX_RELEASE_S) * rate) + 1
        scratch = tuple(np.empty(longest, np.float32) for _ in range(3))
        buf = np.zeros((2, block + longest), np.float32)
        i = 0
        for a in range(0, n_samples, block):
            end = min(a + block, n_samples)
            while i < len(notes) and (s0 := int(round(notes[i].start * rate))) < end:
                self._add(notes[i], buf[:, s0 - a:], n_samples - s0, scratch)
                i += 1
            yield buf[:, :end - a].T.copy()
            buf[:, :-block] = buf[:, block:]
            buf[:, -block:] = 0.0

    def _add(self, note: Note, out: np.ndarray, room: int,
             scratch: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """Add one note into ``out`` (2, >= its length), which starts at its first
        sample; ``room``: samples left in the film from there."""
        y_buf, d_buf, c_buf = scratch
        preset = self.font.preset(note.program, note.bank)
        vel_gain = (note.vel / 127.0) ** 2 * note.gain
        dur_n = int(min(note.dur, MAX_NOTE_S) * self.rate)
        for z in preset.zones_for(note.key, note.vel):
            env = self._vol_env(z, note.key, dur_n)
            dark, diff = self._source(z, note.key)
            n = dark.length(min(len(env), room))
            if n <= 0:
                continue
            y = dark.times(env[:n], y_buf)
            if diff is not None:
                d = diff.times(env[:n], d_buf)
                np.multiply(d, self._mod_env(z, n), out=d)
                np.add(y, d, out=y)
            amp = vel_gain * 10.0 ** (-0.4 * z.gen(sf2.ATTENUATION) / 200.0)  # 0.4: the EMU/fluidsynth convention
            p = min(max(z.gen(sf2.PAN) / 500.0 + note.pan, -1.0), 1.0)
            theta = (p + 1.0) * math.pi / 4.0
            self.samples += n
            c = c_buf[:n]
            for ch, g in ((0, math.cos(theta)), (1, math.sin(theta))):
                np.multiply(y, np.float32(amp * g), out=c)
                dst = out[ch, :n]
                np.add(dst, c, out=dst)


def impulse_response(seconds: float, rate: int, seed: int = 7) -> np.ndarray:
    """A stereo room: decorrelated noise decaying by 60 dB over ``seconds``, losing
    its highs faster than its lows (a low-passed long tail under a bright short one)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n, dtype=np.float32) / rate
    noise = rng.standard_normal((n, 2)).astype(np.float32)
    dark = signal.sosfilt(signal.butter(1, 2500, fs=rate, output="sos"), noise, axis=0)
    decay_long = np.exp(-6.9 * t / seconds)[:, None]
    decay_short = np.exp(-6.9 * t / (0.35 * seconds))[:, None]
    ir = dark * decay_long * 1.6 + noise * decay_short * 0.5
    pre = int(0.018 * rate)  # pre-delay: the dry attack stays clear
    ir = np.concatenate([np.zeros((pre, 2), np.float32), ir.astype(np.float32)])
    fade = min(n, int(0.005 * rate))
    ir[pre:pre + fade] *= np.linspace(0, 1, fade, dtype=np.float32)[:, None]
    return (ir / np.sqrt((ir ** 2).sum(axis=0))).astype(np.float32)


class Reverb:
    """x * (1 - wet/2) + wet * (x convolved with the room), block by block (overlap-add
    of FFT blocks carrying the tail forward), so a film streams through it. The IR's
    last 12 dB (under -48 dB) are cut since nothing hears them under the dry sound."""

    def __init__(self, seconds: float, wet: float, rate: int) -> None:
        ir = impulse_response(seconds, rate)
        ir = ir[: int(0.8 * len(ir))]
        self.m = len(ir)
        self.nfft = 1 << int(np.ceil(np.log2(2 * self.m)))
        self.block = self.nfft - self.m + 1  # the samples each call takes (the last may be fewer)
        self.wet = wet
        self.spec = sfft.rfft(ir, self.nfft, axis=0)
        self.carry = np.zeros((self.m - 1, ir.shape[1]), dtype=np.float32)  # the tails past the block

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The next (k <= block, 2) float32 samples, wet in place (and returned)."""
        k, m = len(x), self.m
        y = sfft.irfft(sfft.rfft(x, self.nfft, axis=0) * self.spec, self.nfft, axis=0).astype(np.float32)
        y[: m - 1] += self.carry
        x *= np.float32(1.0 - 0.5 * self.wet)
        x += y[:k] * np.float32(self.wet)
        self.carry = y[k:k + m - 1]
        return x
