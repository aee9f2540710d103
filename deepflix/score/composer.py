"""builtin/composer: the offline score, written for the film and played with a SoundFont.

From the genre and the scenes' cues it writes a score (styles.py: tempo, meter,
instruments; arrange.py: sections aligned to the cuts, harmony, cadence;
patterns.py: what each instrument plays) and renders it with the General MIDI
SoundFont that ships inside pretty_midi (sf2.py, render.py), pip-only.

The master is normalised to MASTER_LUFS (the film's mix re-levels it anyway)
under a -1 dBTP limiter, faded in over 10 ms (no click) and out over the final
chord, and is exactly ``round(duration * 48000)`` samples long.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..errors import InvalidInput
from ..hookspecs import Register, hookimpl
from ..models import ScoreRequest, ScoreResult
from ..provider import StageContext
from . import dsp
from .base import ScoreProvider
from .composition import arrange, patterns, theory
from .composition.render import Note, Reverb, Synth
from .composition.styles import Part, Style, instrument_name, style_for

RATE = 48000
MASTER_LUFS = -18.0
CEILING_DBTP = -1.0
MAX_SECONDS = 3600.0
END_FADE_S = 3.0


def _hit_part(style: Style) -> Part | None:
    """The accent struck on the downbeat after a cut (a cymbal, a triangle, a low timpani)."""
    if style.hit is None:
        return None
    prog, bank, key = style.hit
    return Part("high", prog, "hit", key, key, gain=0.7, bank=bank)


def _levels(synth: Synth, parts: list[Part]) -> dict[int, float]:
    """A gain per part that evens out how loud each SoundFont instrument is on its own,
    so the balance comes from ROLE_LEVEL and the style, not from the sample levels."""
    out = {}
    for part in parts:
        key = part.lo if part.pattern == "hit" else 38 if part.bank == 128 else (part.lo + part.hi) // 2
        ref = synth.render([Note(0.0, 0.8, key, 100, part.program, part.bank)], RATE)
        rms = float(np.sqrt(np.mean(ref[: RATE // 2] ** 2))) or 1e-3
        out[id(part)] = patterns.ROLE_LEVEL[part.role] * 0.1 / rms
    return out


def _active(part: Part, sec: arrange.Section) -> bool:
    return sec.intensity >= part.min_intensity and (part.moods is None or sec.mood in part.moods)


def compose(request: ScoreRequest, synth: Synth) -> tuple[list[Note], dict[str, object]]:
    """The score's notes and what it is (tempo, key, instruments)."""
    style = style_for(request.genre)
    tonic = arrange.choose_key(style, request.seed, request)
    sections, hold_start = arrange.plan(request, style, tonic)
    hit = _hit_part(style)
    if hit is not None and hit.bank == 0:  # a pitched hit (timpani) strikes the tonic
        key = theory.bass_key(tonic, hit.lo - 6)
        hit = Part(hit.role, hit.program, hit.pattern, key, key, hit.gain, hit.pan, hit.bank)
    w = patterns.Writer(style, tonic, request.seed, _levels(synth, list(style.parts) + ([hit] if hit else [])))
    used: list[Part] = []
    melody_key: float | None = None
    melody_last: dict[int, bool] = {}
    for sec in sections:
        if sec.n_beats == 0:
            continue
        for part in style.parts:
            if not _active(part, sec):
                continue
            if part not in used:
                used.append(part)
            if part.role in ("pad", "harmony") or (part.role == "high" and part.pattern in ("swell",)):
                patterns.harmony(w, sec, part)
            elif part.role == "bass":
                patterns.bass(w, sec, part)
            elif part.role == "melody":
                melody_key = patterns.melody(w, sec, part, melody_key, cadence=sec.final)
                melody_last[sec.index] = True
            elif part.role == "drums":
                patterns.drums(w, sec, part)
            elif part.pattern in ("timpani", "roll"):
                patterns.timpani(w, sec, part)
        if part_double := next((p for p in style.parts if p.pattern == "double" and _active(p, sec)), None):
            _double(w, sec, part_double, used)
        if hit and sec.index > 0 and sec.intensity >= 0.4:
            w.add(sec, hit, 0, 1, hit.lo, patterns.velocity(sec), ring=2.5)
    _ending(w, sections[-1], hold_start, request.duration, melody_key if melody_last.get(sections[-1].index) else None,
            hit)
    info = {
        "tempo": arrange.film_tempo(sections) or style.tempo,
        "key": theory.key_name(tonic, arrange.home_mode(style, request)),
        "instruments": [instrument_name(p) for p in style.parts if p in used or p.role in ("pad", "harmony", "bass")],
    }
    return w.notes, info


def _double(w: patterns.Writer, sec: arrange.Section, part: Part, used: list[Part]) -> None:
    """Glockenspiel (comedy) doubling the melody an octave or two up."""
    mel = next((p for p in w.style.parts if p.role == "melody"), None)
    if mel is None:
        return
    level = w.levels.get(id(mel), 1.0)
    lo_t, hi_t = sec.start, sec.end
    for n in [n for n in w.notes if n.program == mel.program and n.bank == mel.bank and lo_t <= n.start < hi_t]:
        key = n.key + 12
        while key < part.lo:
            key += 12
        w.notes.append(Note(n.start, min(n.dur, 0.4), key, n.vel, part.program, part.bank, part.pan,
                            w.levels.get(id(part), level) * part.gain))
    if part not in used:
        used.append(part)


def _ending(w: patterns.Writer, last: arrange.Section, hold_start: float, end: float, melody_key: float | None,
            hit: Part | None) -> None:
    """The tonic, held from the cadence to the film's last sample (faded there by the master)."""
    style, tonic = w.style, w.tonic
    home = theory.tonic_chord(tonic, last.mode)
    length = end - hold_start + 0.3
    v = patterns.velocity(last, 0.9)
    hold = arrange.Section(last.index, hold_start, end, last.mood, last.intensity, last.mode, last.bpm,
                           np.array([hold_start, end]), 1)
    for part in style.parts:
        if part.role == "harmony" or (part.role == "pad" and _active(part, last)):
            keys = theory.voice(home, None, part.lo, part.hi)
            roll = 0.06 if part.pattern in ("arp", "broken", "comp") else 0.0  # a rolled chord on harp and piano
            for i, k in enumerate(keys):
                w.add(hold, part, i * roll / max(length, 1e-3), 1.0, k, v * 0.85, ring=length - i * roll)
        elif part.role == "bass":
            w.add(hold, part, 0, 1.0, theory.bass_key(tonic, part.lo), v * 0.9, ring=length)
        elif part.role == "melody" and melody_key is not None:
            key = min((k for k in range(part.lo, part.hi + 1) if k % 12 == tonic), key=lambda k: abs(k - melody_key))
            w.add(hold, part, 0, 1.0, key, v * 0.9, ring=length)
    if hit:
        w.add(hold, hit, 0, 1.0, hit.lo, v * 0.7, ring=2.5)


def _wet(request: ScoreRequest, synth: Synth) -> tuple[Iterator[np.ndarray], int, dict[str, object]]:
    """The score's blocks through the room, in order; its length in samples; its info."""
    notes, info = compose(request, synth)
    n = int(round(request.duration * RATE))
    style = style_for(request.genre)
    room = Reverb(style.reverb_s, style.wet, RATE)
    blocks = (room(b) for b in synth.blocks(sorted(notes, key=lambda nt: nt.start), n, room.block))
    return blocks, n, info


def _mastered(get: Callable[[int, int], np.ndarray], n: int, duration: float) -> Iterator[tuple[int, np.ndarray]]:
    """(start, samples) of the wet score ``get(lo, hi)`` levelled to MASTER_LUFS, limited
    and faded, chunk by chunk (``limited_chunks``: the source may be overwritten in place)."""
    meter = dsp.LoudnessMeter(RATE, 2)
    for s in range(0, n, 10 * RATE):
        meter.feed(get(s, min(n, s + 10 * RATE)).astype(np.float64))
    loud = meter.integrated()
    gain = 10 ** ((MASTER_LUFS - loud) / 20) if np.isfinite(loud) else 1.0
    fade_in = min(n, int(0.01 * RATE))
    ramp_in = np.linspace(0.0, 1.0, fade_in, dtype=np.float32)[:, None]
    tail = min(n, int(min(END_FADE_S, duration / 3) * RATE))
    ramp_out = (0.5 + 0.5 * np.cos(np.linspace(0, np.pi, tail, dtype=np.float32)))[:, None]
    for s, chunk in dsp.limited_chunks(get, n, RATE, gain, CEILING_DBTP - 0.2):
        e = s + len(chunk)
        if s < fade_in:
            chunk[:fade_in - s] *= ramp_in[s:min(e, fade_in)]
        if e > n - tail:
            lo = max(s, n - tail)
            chunk[lo - s:] *= ramp_out[lo - (n - tail):e - (n - tail)]
        yield s, chunk


def render_score(request: ScoreRequest, synth: Synth | None = None) -> tuple[np.ndarray, dict[str, object]]:
    """(stereo float32 of exactly round(duration * 48000) samples, info), in memory."""
    blocks, n, info = _wet(request, synth or Synth(rate=RATE))
    x = np.empty((n, 2), np.float32, order="F")  # channel-major, as the mastering's sums expect
    s = 0
    for b in blocks:
        x[s:s + len(b)] = b
        s += len(b)
    for s, chunk in _mastered(lambda lo, hi: x[lo:hi], n, request.duration):
        x[s:s + len(chunk)] = chunk
    return x, info


def write_score(request: ScoreRequest, path: Path, synth: Synth | None = None) -> dict[str, object]:
    """``render_score``'s samples written to ``path`` as a 16-bit WAV (the same bytes as
    ``dsp.write_wav`` of them), holding a block at a time, not the film: the wet score
    waits in an unlinked float32 temp file beside ``path`` for its loudness to be known
    (a 10-minute score is 230 MB)."""
    blocks, n, info = _wet(request, synth or Synth(rate=RATE))
    with tempfile.TemporaryFile(dir=path.parent) as f:
        for b in blocks:
            f.write(b.tobytes())

        def get(lo: int, hi: int) -> np.ndarray:
            f.seek(lo * 8)  # 2 float32 a sample
            # channel-major like render_score's buffer, so that any sum over a chunk adds in
            # the same order and both give the same bytes
            return np.asfortranarray(np.frombuffer(f.read((hi - lo) * 8), np.float32).reshape(-1, 2))

        dsp.write_wav_chunks(path, RATE, 2, (chunk for _, chunk in _mastered(get, n, request.duration)))
    return info


class Composer(ScoreProvider):
    provider_id = "builtin/composer"
    version = "2"

    def check_inputs(self, request: ScoreRequest) -> None:  # type: ignore[override]
        if request.duration > MAX_SECONDS:
            raise InvalidInput(f"score duration {request.duration:.1f}s is over the {MAX_SECONDS:.0f}s limit")
        for i, cue in enumerate(request.cues):
            if cue.start >= request.duration:
                raise InvalidInput(f"cue {i + 1} starts at {cue.start}s, after the film's end ({request.duration}s)")

    def generate(self, request: ScoreRequest, ctx: StageContext) -> ScoreResult:
        self.check_inputs(request)
        info = write_score(request, ctx.out_dir / "score.wav")
        return ScoreResult(audio="score.wav", sample_rate=RATE, duration=request.duration,
                           tempo=float(info["tempo"]), key=str(info["key"]),  # type: ignore[arg-type]
                           instruments=list(info["instruments"]))  # type: ignore[call-overload]


@hookimpl
def register_score_providers(register: Register) -> None:
    register(Composer)
