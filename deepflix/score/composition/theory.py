"""Pitch material: modes, diatonic chords, progressions, voice leading, melody.

Everything here is in pitch classes and MIDI keys; time lives in arrange.py.
The film keeps one tonic throughout (so the last chord is home), and each scene
colours it with the mode of its mood (C major for "joyful", C minor for "sad",
C phrygian for "dark"): parallel modes on one tonic are how film scores change
colour at a cut without losing the thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
}

# mood -> (mode, tempo factor): the colour and the pace a scene asks for
MOOD: dict[str, tuple[str, float]] = {
    "calm": ("major", 0.88),
    "tense": ("harmonic minor", 1.12),
    "mysterious": ("dorian", 0.94),
    "joyful": ("major", 1.10),
    "sad": ("minor", 0.84),
    "romantic": ("major", 0.90),
    "epic": ("minor", 1.06),
    "dark": ("phrygian", 0.90),
    "hopeful": ("lydian", 1.00),
    "playful": ("mixolydian", 1.10),
    "eerie": ("harmonic minor", 0.86),
    "triumphant": ("major", 1.06),
}

# progressions as 0-based scale degrees, one chord per bar; chosen per scene by seed
PROGRESSIONS: dict[str, tuple[tuple[int, ...], ...]] = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 4, 0), (0, 3, 1, 4), (0, 2, 3, 4)),
    "lydian": ((0, 1, 0, 1), (0, 1, 4, 0), (0, 1, 5, 4)),
    "mixolydian": ((0, 6, 3, 0), (0, 4, 6, 3), (0, 6, 0, 3)),
    "dorian": ((0, 3, 0, 3), (0, 1, 3, 0), (0, 6, 3, 0), (0, 3, 6, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 6, 2), (0, 5, 3, 4), (0, 6, 5, 6), (0, 3, 5, 4)),
    "harmonic minor": ((0, 3, 4, 0), (0, 5, 1, 4), (0, 3, 5, 4), (0, 0, 5, 4)),
    "phrygian": ((0, 1, 0, 6), (0, 1, 5, 1), (0, 6, 5, 1)),
}
# a jazz turnaround for noir: ii-V-i-vi in the minor, and i-iv-ii-V
JAZZ: tuple[tuple[int, ...], ...] = ((1, 4, 0, 5), (0, 3, 1, 4), (0, 5, 1, 4))


@dataclass(frozen=True)
class Chord:
    root: int  # pitch class
    pcs: tuple[int, ...]  # pitch classes, root first, stacked in thirds
    degree: int  # scale degree it was built on (-1: borrowed)

    @property
    def third(self) -> int:
        return self.pcs[1]

    @property
    def fifth(self) -> int:
        return self.pcs[2]


def scale_pcs(tonic: int, mode: str) -> tuple[int, ...]:
    return tuple((tonic + s) % 12 for s in MODES[mode])


def diatonic(tonic: int, mode: str, degree: int, sevenths: bool = False, cluster: bool = False) -> Chord:
    sc = scale_pcs(tonic, mode)
    tones = [sc[(degree + 2 * i) % 7] for i in range(4 if sevenths else 3)]
    if cluster:  # horror: the scale step above the root rubs against it
        tones.append(sc[(degree + 1) % 7])
    return Chord(tones[0], tuple(tones), degree)


def dominant(tonic: int, sevenths: bool = False) -> Chord:
    """V with the leading tone, whatever the mode: the cadence that says 'home next'."""
    pcs = [(tonic + 7) % 12, (tonic + 11) % 12, (tonic + 2) % 12] + ([(tonic + 5) % 12] if sevenths else [])
    return Chord(pcs[0], tuple(pcs), 4)


def tonic_chord(tonic: int, mode: str) -> Chord:
    third = 4 if MODES[mode][2] == 4 else 3
    return Chord(tonic, (tonic, (tonic + third) % 12, (tonic + 7) % 12), 0)


def key_name(tonic: int, mode: str) -> str:
    return f"{NOTE_NAMES[tonic]} {mode}"


def voice(chord: Chord, prev: list[int] | None, lo: int = 52, hi: int = 74, size: int | None = None) -> list[int]:
    """Close voicing inside [lo, hi] nearest to the previous voicing (smooth voice leading)."""
    pcs = list(chord.pcs)[: size or len(chord.pcs)]
    best: list[int] | None = None
    best_cost = 1e9
    for inv in range(len(pcs)):
        order = pcs[inv:] + pcs[:inv]
        for base in range(lo, lo + 12):
            if base % 12 != order[0]:
                continue
            keys = [base]
            for pc in order[1:]:
                k = keys[-1] + 1
                while k % 12 != pc:
                    k += 1
                keys.append(k)
            if keys[-1] > hi:
                continue
            if prev:
                a, b = sorted(keys), sorted(prev)
                m = min(len(a), len(b))
                cost = float(sum(abs(x - y) for x, y in zip(a[:m], b[:m])) + abs(len(a) - len(b)) * 3)
            else:
                cost = abs(sum(keys) / len(keys) - (lo + hi) / 2)
            if cost < best_cost:
                best, best_cost = keys, cost
    if best is None:  # range too narrow for the chord: stack from lo
        best = sorted(lo + (pc - lo) % 12 for pc in pcs)
    return best


def bass_key(pc: int, lo: int = 36) -> int:
    """The pitch class's key in the octave [lo, lo + 12)."""
    return lo + (pc - lo) % 12


# --------------------------------------------------------------------------- melody


@dataclass
class MelodyNote:
    beat: float  # from the phrase start
    length: float  # in beats
    key: int
    accent: bool = False


def _ladder(sc: tuple[int, ...], lo: int, hi: int) -> list[int]:
    """Every key of the scale in [lo, hi], ascending."""
    return [k for k in range(lo, hi + 1) if k % 12 in sc]


def _nearest(ladder: list[int], target: float, allowed: set[int] | None = None) -> int:
    """Index in the ladder of the key nearest target (among the allowed pitch classes)."""
    best, dist = 0, 1e9
    for i, k in enumerate(ladder):
        if allowed is not None and k % 12 not in allowed:
            continue
        d = abs(k - target)
        if d < dist:
            best, dist = i, d
    return best


def contour(rng: np.random.Generator, n: int) -> list[int]:
    """Scale steps between successive notes: mostly steps, a leap now and then,
    rising through the first half of the phrase and falling back."""
    steps = []
    for i in range(n):
        up = i < n * 0.55
        r = rng.random()
        if r < 0.14:
            s = int(rng.choice([3, 4]))  # a leap...
        elif r < 0.26:
            s = 0
        else:
            s = int(rng.choice([1, 1, 2]))
        steps.append(s if (up if rng.random() < 0.78 else not up) else -s)
    return steps


def realise(
    rhythm: list[tuple[float, float]],
    steps: list[int],
    chords: list[Chord],
    beats_per_bar: int,
    sc: tuple[int, ...],
    lo: int,
    hi: int,
    start_key: float | None,
    cadence_pcs: tuple[int, ...] | None = None,
) -> list[MelodyNote]:
    """Put pitches on a rhythm: follow the step contour along the scale, land on
    a chord tone on strong beats (and after a leap, step back), end on the
    cadence tones when given."""
    ladder = _ladder(sc, lo, hi)
    if not ladder:
        return []
    idx = _nearest(ladder, start_key if start_key is not None else (lo + hi) / 2 + 2, set(chords[0].pcs))
    out: list[MelodyNote] = []
    last_step = 0
    for i, (beat, length) in enumerate(rhythm):
        chord = chords[min(int(beat // beats_per_bar), len(chords) - 1)]
        if i > 0:
            s = steps[(i - 1) % len(steps)]
            if abs(last_step) >= 3:  # a leap is answered by a step the other way
                s = -1 if last_step > 0 else 1
            idx = min(max(idx + s, 0), len(ladder) - 1)
            last_step = s
        strong = abs(beat - round(beat)) < 1e-6 and int(round(beat)) % max(1, beats_per_bar // 2) == 0
        final = i == len(rhythm) - 1 and cadence_pcs is not None
        if strong or final:
            allowed = set(cadence_pcs[:2]) if final and cadence_pcs else set(chord.pcs[:3])
            idx = _nearest(ladder, ladder[idx], allowed)
        out.append(MelodyNote(beat, length, ladder[idx], accent=strong))
    return out
