"""The parts' patterns: what each instrument plays in a bar, given the chord.

A ``Writer`` turns (section, beat, length, key, velocity) into timed ``Note``s,
applying the genre's swing and a little seeded human timing. Intensity (0..1)
sets velocities and density: arpeggios go from eighths to sixteenths, the
ostinato from quarters to eighths, drums add layers, and the melody rests
every other phrase in quiet scenes.
"""

from __future__ import annotations

import math

import numpy as np

from . import theory
from .arrange import Section, rng_for
from .render import Note
from .styles import Part, Style

# melody rhythm cells: (onset, length) in beats over a two-bar phrase of 4/4 (8 beats) or 3/4 (6)
CELLS: dict[str, list[list[tuple[float, float]]]] = {
    "lyrical": [[(0, 2), (2, 1), (3, 1), (4, 3), (7, 1)], [(0, 1.5), (1.5, 0.5), (2, 2), (4, 1), (5, 1), (6, 2)],
                [(0, 3), (3, 1), (4, 4)], [(0, 1), (1, 1), (2, 1), (3, 1), (4, 2), (6, 2)]],
    "lyrical3": [[(0, 2), (2, 1), (3, 3)], [(0, 1.5), (1.5, 0.5), (2, 1), (3, 2), (5, 1)], [(0, 1), (1, 1), (2, 1), (3, 3)],
                 [(0, 3), (3, 1), (4, 1), (5, 1)]],
    "jazz": [[(0.5, 0.5), (1, 0.5), (1.5, 1), (3, 1), (4, 1.5), (6, 2)],
             [(0, 1), (1.5, 0.5), (2, 0.5), (2.5, 1.5), (4.5, 0.5), (5, 1), (6, 1.5)],
             [(1, 0.5), (1.5, 0.5), (2, 1), (3, 0.5), (3.5, 2.5)]],
    "playful": [[(0, 0.5), (0.5, 0.5), (1, 0.5), (2, 0.75), (2.75, 0.25), (3, 1), (4, 0.5), (4.5, 0.5), (5, 1), (6, 1)],
                [(0, 0.75), (0.75, 0.25), (1, 0.5), (1.5, 0.5), (2, 1), (4, 0.5), (4.5, 0.5), (5, 0.5), (5.5, 0.5), (6, 1.5)],
                [(0, 1), (1, 0.5), (1.5, 0.5), (2, 1), (3, 1), (4, 1), (5, 1), (6, 2)]],
    "heroic": [[(0, 1.5), (1.5, 0.5), (2, 2), (4, 1), (5, 1), (6, 2)], [(0, 0.75), (0.75, 0.25), (1, 1), (2, 2), (4, 1.5), (5.5, 0.5), (6, 2)],
               [(0, 2), (2, 1.5), (3.5, 0.5), (4, 4)]],
    "floating": [[(0, 4), (4, 2), (6, 2)], [(0, 3), (3, 1), (4, 4)], [(0, 2), (2, 2), (4, 4)]],
    "sparse": [[(0, 1), (1, 1), (2, 2)], [(0, 1.5), (1.5, 0.5), (2, 1)], [(1, 1), (2, 1), (3, 1), (4, 3)]],
}
STACCATO = {"playful": 0.55, "jazz": 0.85}
ROLE_LEVEL = {"pad": 0.45, "harmony": 0.6, "bass": 0.75, "melody": 0.8, "drums": 0.5, "high": 0.4}


class Writer:
    def __init__(self, style: Style, tonic: int, seed: int, levels: dict[int, float]) -> None:
        self.style, self.tonic, self.seed = style, tonic, seed
        self.levels = levels  # id(part) -> gain that evens out the instruments' own loudness
        self.notes: list[Note] = []
        self.jitter = rng_for("humanise", style.genre, seed)

    def swing(self, beat: float) -> float:
        frac = beat - math.floor(beat)
        return math.floor(beat) + self.style.swing if abs(frac - 0.5) < 1e-6 else beat

    def add(self, sec: Section, part: Part, beat: float, length: float, key: int, vel: float,
            ring: float | None = None) -> None:
        """One note. ``ring`` (seconds) overrides the length, for sounds that decay by themselves."""
        b0 = self.swing(beat)
        t0 = sec.t(b0)
        t1 = sec.t(self.swing(beat + length)) if ring is None else t0 + ring
        t0 += float(np.clip(self.jitter.normal(0, 0.005), -0.012, 0.012)) if beat > 0 else 0.0
        v = int(np.clip(round(vel + self.jitter.normal(0, 3.0)), 1, 127))
        self.notes.append(Note(max(t0, 0.0), max(t1 - t0, 0.04), int(key), v, part.program, part.bank, part.pan,
                               self.levels.get(id(part), 1.0) * part.gain))


def velocity(sec: Section, accent: float = 1.0) -> float:
    return (46 + 64 * sec.intensity) * accent


# --------------------------------------------------------------------------- harmony


def harmony(w: Writer, sec: Section, part: Part) -> None:
    prev: list[int] | None = None
    v = velocity(sec)
    rng = rng_for(part.pattern, w.seed, sec.index)
    for bi, (b0, blen) in enumerate(sec.bars()):
        chord = sec.chords[bi]
        keys = theory.voice(chord, prev, part.lo, part.hi)
        prev = keys
        p = part.pattern
        if p == "sustain":
            # a chord that carries on is not re-struck: pads swell, re-attacks would pump
            if bi > 0 and sec.chords[bi - 1] == chord:
                continue
            run = 1
            while bi + run < len(sec.chords) and sec.chords[bi + run] == chord:
                run += 1
            length = sum(sec.bars()[j][1] for j in range(bi, bi + run)) + 0.1
            for k in keys:
                w.add(sec, part, b0, length, k, v * 0.8)
        elif p == "swell" and bi % 2 == 0:
            for k in keys[:3]:
                w.add(sec, part, b0, min(2 * sec.meter, sec.n_beats - b0) + 0.1, k, v * 0.75)
        elif p == "arp":
            sub = 2 if sec.intensity < 0.55 else 4
            seq = keys + [keys[0] + 12, keys[1] + 12]
            seq = seq + seq[-2:0:-1]
            for j in range(blen * sub):
                w.add(sec, part, b0 + j / sub, 1.0, seq[j % len(seq)], v * (0.95 if j % sub == 0 else 0.75),
                      ring=1.2)
        elif p == "broken":
            root = theory.bass_key(chord.root, part.lo)
            fifth, tenth = root + 7, root + 12 + (chord.third - chord.root) % 12
            w.add(sec, part, b0, blen, root, v * 0.9)
            figure = [fifth, tenth, root + 12, tenth, fifth, tenth, root + 12]
            for j in range(1, 2 * blen):
                w.add(sec, part, b0 + j / 2, 0.5, figure[(j - 1) % len(figure)], v * 0.7, ring=0.9)
        elif p == "comp":
            shapes: list[list[tuple[float, float]]] = [
                [(0, 1.2), (1.5, 0.5)], [(1, 0.7), (3, 0.7)], [(0.5, 0.5), (2.5, 1.0)], [(0, 0.7), (2, 0.7), (3.5, 0.4)]]
            for on, ln in shapes[int(rng.integers(len(shapes)))]:
                if on < blen:
                    for k in keys:
                        w.add(sec, part, b0 + on, ln, k, v * 0.75)
        elif p == "offbeat":
            ons: list[float] = [1, 3] if sec.intensity < 0.6 else [0.5, 1, 1.5, 2.5, 3, 3.5]
            for on in ons:
                if on < blen:
                    for k in keys[:3]:
                        w.add(sec, part, b0 + on, 0.3, k, v * 0.8, ring=0.6)
        elif p == "ostinato":
            sub = 1 if sec.intensity < 0.4 else 2
            figure = [0, 0, 2, 0, 1, 0, 2, 0]
            for j in range(blen * sub):
                w.add(sec, part, b0 + j / sub, 0.45 / sub * 2, keys[figure[j % 8] % len(keys)], v * (0.9 if j % 2 == 0 else 0.7))
        elif p == "stabs":
            stab: list[tuple[float, float]] = [(0, 1.5), (2.5, 1.0)] if sec.intensity >= 0.7 else [(0, min(blen, 3.0))]
            for on, ln in stab:
                if on < blen:
                    for k in keys[:3]:
                        w.add(sec, part, b0 + on, ln, k, v * 0.85)


# --------------------------------------------------------------------------- bass


def bass(w: Writer, sec: Section, part: Part) -> None:
    v = velocity(sec, 1.05)
    lo = part.lo
    for bi, (b0, blen) in enumerate(sec.bars()):
        chord = sec.chords[bi]
        root = theory.bass_key(chord.root, lo)
        fifth = root + 7 if root + 7 <= part.hi else root - 5
        p = part.pattern
        if p == "whole":
            w.add(sec, part, b0, blen + 0.05, root, v * 0.85)
        elif p == "root_fifth":
            half = max(1, blen // 2) if blen >= 4 else blen
            w.add(sec, part, b0, half, root, v)
            if half < blen:
                w.add(sec, part, b0 + half, blen - half, fifth, v * 0.85)
        elif p == "walking":
            nxt = sec.chords[bi + 1].root if bi + 1 < len(sec.chords) else chord.root
            target = theory.bass_key(nxt, lo)
            line = [root, root + (chord.third - chord.root) % 12, fifth if fifth > root else root + 7]
            line.append(target + (1 if target < line[-1] else -1))  # chromatic approach to the next root
            for j in range(blen):
                w.add(sec, part, b0 + j, 0.9, line[j % 4], v * (1.0 if j == 0 else 0.85))
        elif p == "pulse":
            sub = 2 if sec.intensity >= 0.45 else 1
            for j in range(blen * sub):
                key = root + 12 if (sec.intensity > 0.7 and j % (2 * sub) == 2 * sub - 1) else root
                w.add(sec, part, b0 + j / sub, 0.8 / sub, key, v * (1.0 if j % sub == 0 else 0.8))
        elif p == "oompah":
            w.add(sec, part, b0, 0.45, root, v)
            if blen >= 3:
                w.add(sec, part, b0 + 2, 0.45, fifth - 12 if fifth - 12 >= lo else fifth, v * 0.9)
        elif p == "drone" and bi % 2 == 0:
            tonic = theory.bass_key(w.tonic, lo)
            w.add(sec, part, b0, min(2 * sec.meter, sec.n_beats - b0) + 0.1, tonic, v * 0.85)


# --------------------------------------------------------------------------- melody


def melody(w: Writer, sec: Section, part: Part, start_key: float | None, cadence: bool) -> float | None:
    """Two-bar phrases A A' B A'': A' repeats A's rhythm and contour on the new chords."""
    name = part.pattern + ("3" if sec.meter == 3 and part.pattern + "3" in CELLS else "")
    cells = sorted(CELLS[name], key=len)
    rng = rng_for("melody", w.seed, sec.index, part.program)
    span = 2 * sec.meter
    quiet = sec.intensity < 0.35 or part.pattern == "sparse"
    pool = cells[: max(1, len(cells) // 2 + (1 if sec.intensity > 0.5 else 0))] if sec.intensity < 0.7 else cells
    motifs: dict[str, tuple[list[tuple[float, float]], list[int]]] = {}
    phrase_starts = list(range(0, sec.n_beats, span))
    sc = theory.scale_pcs(w.tonic, sec.mode)
    last = start_key
    for pi, p0 in enumerate(phrase_starts):
        if quiet and pi % 2 == 1:
            continue  # answer the phrase with silence: the pads carry on
        label = "ABAA"[pi % 4]
        if label not in motifs:
            motifs[label] = (pool[int(rng.integers(len(pool)))], theory.contour(rng, 12))
        cell, steps = motifs[label]
        avail = sec.n_beats - p0
        rhythm = [(on, min(ln, avail - on)) for on, ln in cell if on < avail]
        if not rhythm:
            continue
        chords = [sec.chord_at(p0 + b) for b in range(0, span, sec.meter)]
        is_last = cadence and p0 + span >= sec.n_beats
        tonic_pcs = (w.tonic, theory.tonic_chord(w.tonic, sec.mode).third)
        notes = theory.realise(rhythm, steps, chords, sec.meter, sc, part.lo, part.hi, last,
                               cadence_pcs=tonic_pcs if is_last else None)
        stacc = STACCATO.get(part.pattern, 1.0)
        for n in notes:
            w.add(sec, part, p0 + n.beat, n.length * stacc, n.key, velocity(sec, 1.08 if n.accent else 1.0))
        if notes:
            last = notes[-1].key
    return last


# --------------------------------------------------------------------------- percussion


def drums(w: Writer, sec: Section, part: Part) -> None:
    x = sec.intensity
    rng = rng_for("drums", w.seed, sec.index)
    v = velocity(sec, 0.95)
    p = part.pattern
    for bi, (b0, blen) in enumerate(sec.bars()):
        hits: list[tuple[float, int, float]] = []  # (beat, key, accent)
        if p == "swing":
            hits += [(0, 51, 0.8), (1, 51, 0.9), (1.5, 51, 0.55), (2, 51, 0.8), (3, 51, 0.9), (3.5, 51, 0.55)]
            hits += [(1, 44, 0.6), (3, 44, 0.6), (0, 36, 0.5)]
            hits += [(1, 38, 0.45), (3, 38, 0.45)] if x < 0.6 else [(b, 38, 0.5) for b in (1, 2.5, 3) if rng.random() < 0.8]
        elif p == "electro":
            hits += [(0, 36, 1.0), (2, 36, 0.9)] + ([(2.5, 36, 0.8)] if x > 0.7 else [])
            sub = 4 if x >= 0.65 else 2
            hits += [(j / sub, 42, 0.7 if j % sub == 0 else 0.5) for j in range(4 * sub)]
            hits += [(1, 39, 0.8), (3, 39, 0.8)] if x >= 0.55 else []
            hits += [(3.5, 46, 0.6)] if x >= 0.7 else []
        elif p == "folk":
            hits += [(0, 35, 0.7)] + ([(2, 35, 0.5)] if x > 0.6 else [])
            hits += [(1, 54, 0.55), (3, 54, 0.55)] if x < 0.75 else [(j / 2, 54, 0.5) for j in range(8)]
            hits += [(0, 81, 0.5)] if bi % 2 == 0 else []
        elif p == "hits":
            if sec.mood == "tense":
                hits += [(0, 36, 1.0), (0.4, 36, 0.7)]  # a heartbeat
            else:
                hits += [(float(b), 36 + int(rng.integers(0, 5)), 0.9) for b in range(blen) if rng.random() < 0.15 + 0.35 * x]
        elif p == "tick":
            hits += [(0, 36, 0.6), (2, 36, 0.5)]
            hits += [(1, 77, 0.7), (3, 77, 0.7)] if x < 0.45 else [(j + 0.5, 76, 0.6) for j in range(4)] + [(1, 77, 0.7), (3, 77, 0.7)]
            hits += [(1, 54, 0.5), (3, 54, 0.5)] if x >= 0.6 else []
        elif p == "march":
            hits += [(0, 36, 0.9), (2, 36, 0.8)]
            snare = [1, 3] if x < 0.6 else [0, 1, 1.5, 2, 3, 3.5, 3.75]
            hits += [(b, 38, 0.8 if b in (1, 3) else 0.55) for b in snare]
        for beat, key, acc in hits:
            if beat < blen:
                ring = 2.5 if key in (49, 51, 52, 55, 57, 81) else 1.0
                w.add(sec, part, b0 + beat, 0.5, key, v * acc, ring=ring)


def timpani(w: Writer, sec: Section, part: Part) -> None:
    v = velocity(sec)
    bars = sec.bars()
    for bi, (b0, blen) in enumerate(bars):
        root = theory.bass_key(sec.chords[bi].root, part.lo)
        if part.pattern == "timpani":
            for on in (0, 2):
                if on < blen:
                    w.add(sec, part, b0 + on, 1.0, root, v * (1.0 if on == 0 else 0.8), ring=1.5)
            if sec.intensity > 0.7 and blen == 4:
                w.add(sec, part, b0 + 3.5, 0.5, root, v * 0.7, ring=1.0)
        elif part.pattern == "roll" and bi == len(bars) - 1 and not sec.final:
            n = 4 * blen  # sixteenths, swelling into the cut
            for j in range(n):
                w.add(sec, part, b0 + j / 4, 0.25, theory.bass_key(w.tonic, part.lo), v * (0.35 + 0.6 * j / n), ring=0.6)
