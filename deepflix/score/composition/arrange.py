"""From a ScoreRequest to timed notes: the film's sections, their beat grids and harmony.

Every scene cue becomes a section that starts exactly at its cut. A section's
tempo is the genre's, scaled by its mood and intensity, then nudged so that a
whole number of bars fills the scene (within 10 %; otherwise the last bar is
shortened), so downbeats land on the cuts. The last section ends with a
cadence (predominant, V) slowed by a ritardando, then the tonic chord held
until the film's last sample.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from ...models import ScoreRequest
from . import theory
from .styles import Style

HOLD_MIN, HOLD_MAX = 2.5, 4.5  # the final chord's length, seconds
FIT_TOLERANCE = 0.10  # how far a scene may bend the tempo to fit whole bars


def rng_for(*salt: object) -> np.random.Generator:
    """A generator that depends only on the salt (stable across processes, unlike hash())."""
    return np.random.default_rng([zlib.crc32(repr(s).encode()) for s in salt])


@dataclass
class Section:
    index: int
    start: float
    end: float
    mood: str
    intensity: float
    mode: str
    bpm: float
    beats: np.ndarray  # times of beat boundaries: beats[i] is where beat i starts; beats[-1] ends the grid
    meter: int
    chords: list[theory.Chord] = field(default_factory=list)  # one per bar
    final: bool = False

    @property
    def n_beats(self) -> int:
        return len(self.beats) - 1

    @property
    def grid_end(self) -> float:
        return float(self.beats[-1])

    def bars(self) -> list[tuple[int, int]]:
        """(first beat, length in beats) of each bar; the last may be short."""
        return [(b, min(self.meter, self.n_beats - b)) for b in range(0, self.n_beats, self.meter)]

    def t(self, beat: float) -> float:
        """Seconds at a (fractional) beat; past the grid, time runs on at the last beat's pace."""
        if self.n_beats == 0:
            return self.start
        if beat <= self.n_beats:
            return float(np.interp(beat, np.arange(self.n_beats + 1), self.beats))
        last = self.beats[-1] - self.beats[-2]
        return float(self.beats[-1] + (beat - self.n_beats) * last)

    def chord_at(self, beat: float) -> theory.Chord:
        return self.chords[min(int(beat // self.meter), len(self.chords) - 1)]


def choose_key(style: Style, seed: int, request: ScoreRequest) -> int:
    return style.tonics[rng_for("tonic", style.genre, seed).integers(len(style.tonics))]


def section_mode(style: Style, mood: str) -> str:
    mode = theory.MOOD[mood][0]
    return style.mode_map.get(mode, mode)


def home_mode(style: Style, request: ScoreRequest) -> str:
    """The mode that rules most of the film's time (ties: the earliest)."""
    weight: dict[str, float] = {}
    for cue in request.cues:
        m = section_mode(style, cue.mood)
        weight[m] = weight.get(m, 0.0) + cue.duration
    return max(weight, key=lambda m: (weight[m], -[section_mode(style, c.mood) for c in request.cues].index(m)))


def _grid(start: float, span: float, bpm: float, meter: int, rit: bool) -> np.ndarray:
    """Beat boundary times filling [start, start + span] exactly."""
    beat = 60.0 / bpm
    if span < 0.5 * beat:
        return np.array([start, start + span])
    rit_beats = min(2 * meter, max(1, int(span / beat) // 2)) if rit else 0
    extra = 0.5 * rit_beats / 3.0  # the slowing adds about this many beats of time
    est = span / beat - extra
    bars = round(est / meter)
    if bars >= 1 and abs(est / (bars * meter) - 1.0) <= FIT_TOLERANCE:
        n = bars * meter
    else:
        n = max(1, round(est))
    w = np.ones(n)
    if rit_beats:
        k = min(rit_beats, n)
        w[-k:] *= 1.0 + 0.5 * np.linspace(1.0 / k, 1.0, k) ** 2
    return start + np.concatenate([[0.0], np.cumsum(w)]) * (span / w.sum())


def plan(request: ScoreRequest, style: Style, tonic: int) -> tuple[list[Section], float]:
    """The sections and the time the final held chord starts."""
    cues = sorted(request.cues, key=lambda c: c.start)
    total = request.duration
    starts = [0.0] + [c.start for c in cues[1:]]
    ends = starts[1:] + [total]
    sections: list[Section] = []
    hold_start = total
    for i, (cue, s, e) in enumerate(zip(cues, starts, ends)):
        factor = theory.MOOD[cue.mood][1]
        bpm = style.tempo * factor * (0.94 + 0.12 * cue.intensity)
        final = i == len(cues) - 1
        span = e - s
        if final:
            bar_s = style.meter * 60.0 / bpm
            hold = min(max(bar_s, HOLD_MIN), HOLD_MAX, 0.6 * span)
            if span - hold < 60.0 / bpm:  # too short for music before the chord: all hold
                hold = span
            hold_start = e - hold
            span -= hold
        if span > 1e-6:
            beats = _grid(s, span, bpm, style.meter, rit=final)
        else:
            beats = np.array([s])
        sec = Section(i, s, e, cue.mood, cue.intensity, section_mode(style, cue.mood), bpm, beats, style.meter,
                      final=final)
        sec.chords = _progression(sec, style, tonic, request.seed)
        sections.append(sec)
    return sections, hold_start


def _progression(sec: Section, style: Style, tonic: int, seed: int) -> list[theory.Chord]:
    rng = rng_for("progression", style.genre, seed, sec.index, sec.mood)
    options = theory.JAZZ if style.jazz else theory.PROGRESSIONS[sec.mode]
    prog = options[int(rng.integers(len(options)))]
    n_bars = len(sec.bars())
    chords = [theory.diatonic(tonic, sec.mode, prog[b % len(prog)], style.sevenths, style.cluster) for b in range(n_bars)]
    if sec.final and n_bars:
        # the cadence: predominant then dominant, so the held tonic that follows resolves
        chords[-1] = theory.dominant(tonic, style.sevenths)
        if n_bars >= 3:
            chords[-2] = theory.diatonic(tonic, sec.mode, 1 if style.jazz else 3, style.sevenths)
    return chords


def film_tempo(sections: list[Section]) -> float:
    """The tempo a listener would name: the time-weighted mean of the sections' fitted tempos."""
    num = den = 0.0
    for s in sections:
        if s.n_beats:
            span = s.grid_end - s.start
            num += s.n_beats / span * 60.0 * span
            den += span
    return round(num / den, 1) if den else 0.0
