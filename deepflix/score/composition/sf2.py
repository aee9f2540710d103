"""A small SoundFont 2 reader: enough of the format to play General MIDI presets.

An SF2 file is a RIFF ``sfbk`` with three lists: INFO (ignored), ``sdta`` (the
16-bit samples, ``smpl``) and ``pdta`` (the "hydra": presets -> zones ->
instruments -> zones -> samples, each zone a list of generators). We flatten a
preset into ``Zone`` objects that already combine the preset-level and
instrument-level generators the way the spec says (instrument values are
absolute, preset values add to them; ranges intersect), so the player only
looks up the zones that match a key and velocity.

Only what a GM player needs is read: ranges, tuning, root key, loop points,
sample mode, pan, attenuation, the volume envelope and the filter cutoff.
Modulators are ignored (the player applies the default velocity curve itself).
"""

from __future__ import annotations

import functools
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# generator operators (SF2 spec 8.1.2)
START_OFS, END_OFS, STARTLOOP_OFS, ENDLOOP_OFS, START_COARSE = 0, 1, 2, 3, 4
FILTER_FC, FILTER_Q, MODENV_TO_FC, END_COARSE, PAN = 8, 9, 11, 12, 17
DELAY_MOD, ATTACK_MOD, HOLD_MOD, DECAY_MOD, SUSTAIN_MOD, RELEASE_MOD = 25, 26, 27, 28, 29, 30
KEY_TO_HOLD, KEY_TO_DECAY = 39, 40
DELAY_VOL, ATTACK_VOL, HOLD_VOL, DECAY_VOL, SUSTAIN_VOL, RELEASE_VOL = 33, 34, 35, 36, 37, 38
INSTRUMENT, KEY_RANGE, VEL_RANGE, STARTLOOP_COARSE, KEYNUM, VELOCITY = 41, 43, 44, 45, 46, 47
ATTENUATION, ENDLOOP_COARSE, COARSE_TUNE, FINE_TUNE, SAMPLE_ID, SAMPLE_MODES = 48, 50, 51, 52, 53, 54
SCALE_TUNING, OVERRIDING_ROOT = 56, 58

_RANGES = (KEY_RANGE, VEL_RANGE)
# envelope times default to -12000 timecents (1 ms); everything else defaults to 0
_DEFAULTS = {FILTER_FC: 13500, DELAY_MOD: -12000, ATTACK_MOD: -12000, HOLD_MOD: -12000, DECAY_MOD: -12000,
             RELEASE_MOD: -12000, DELAY_VOL: -12000, ATTACK_VOL: -12000, HOLD_VOL: -12000,
             DECAY_VOL: -12000, RELEASE_VOL: -12000, SCALE_TUNING: 100, OVERRIDING_ROOT: -1,
             KEYNUM: -1, VELOCITY: -1}
# a preset-level value for these is meaningless or forbidden (spec 8.5): never add them
_NOT_ADDITIVE = {START_OFS, END_OFS, STARTLOOP_OFS, ENDLOOP_OFS, START_COARSE, END_COARSE,
                 STARTLOOP_COARSE, ENDLOOP_COARSE, KEYNUM, VELOCITY, SAMPLE_MODES, OVERRIDING_ROOT,
                 SAMPLE_ID, INSTRUMENT}


@dataclass(frozen=True)
class Sample:
    name: str
    start: int
    end: int
    loop_start: int
    loop_end: int
    rate: int
    root: int
    correction: int  # cents


@dataclass
class Zone:
    """One sample as a preset plays it: ranges plus the summed generators."""

    key_lo: int
    key_hi: int
    vel_lo: int
    vel_hi: int
    sample: Sample
    gens: dict[int, int] = field(default_factory=dict)

    def gen(self, op: int) -> int:
        return self.gens.get(op, _DEFAULTS.get(op, 0))

    @property
    def root_key(self) -> int:
        r = self.gen(OVERRIDING_ROOT)
        return r if r >= 0 else self.sample.root

    @property
    def loops(self) -> bool:
        return self.gen(SAMPLE_MODES) & 1 == 1

    def bounds(self) -> tuple[int, int, int, int]:
        """Absolute sample indices (start, end, loop_start, loop_end) after the offset generators."""
        g = self.gen
        s = self.sample
        start = s.start + g(START_OFS) + 32768 * g(START_COARSE)
        end = s.end + g(END_OFS) + 32768 * g(END_COARSE)
        ls = s.loop_start + g(STARTLOOP_OFS) + 32768 * g(STARTLOOP_COARSE)
        le = s.loop_end + g(ENDLOOP_OFS) + 32768 * g(ENDLOOP_COARSE)
        return start, end, ls, le


@dataclass
class Preset:
    name: str
    bank: int
    program: int
    zones: list[Zone]

    def zones_for(self, key: int, vel: int) -> list[Zone]:
        return [z for z in self.zones if z.key_lo <= key <= z.key_hi and z.vel_lo <= vel <= z.vel_hi]


def _amount(op: int, raw: bytes) -> int | tuple[int, int]:
    if op in _RANGES:
        return (raw[0], raw[1])
    if op in (INSTRUMENT, SAMPLE_ID, SAMPLE_MODES):
        return int(struct.unpack("<H", raw)[0])
    return int(struct.unpack("<h", raw)[0])


def _records(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data) - size + 1, size)]


def _zones(bags: list[tuple[int, int]], gens: list[tuple[int, bytes]], first: int, last: int) -> list[dict[int, Any]]:
    """Generator dicts of the bags [first, last): each bag's generators up to the next bag's."""
    out = []
    for b in range(first, last):
        g0, g1 = bags[b][0], bags[b + 1][0]
        out.append({op: _amount(op, raw) for op, raw in gens[g0:g1]})
    return out


def _chunks(data: bytes, pos: int, end: int) -> dict[str, tuple[int, int]]:
    """Sub-chunks of a LIST between pos and end: id -> (offset of data, size)."""
    found = {}
    while pos + 8 <= end:
        cid, size = data[pos:pos + 4].decode("latin-1"), struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if cid == "LIST":
            found["LIST:" + data[pos + 8:pos + 12].decode("latin-1")] = (pos + 12, size - 4)
        else:
            found[cid] = (pos + 8, size)
        pos += 8 + size + (size & 1)
    return found


class SoundFont:
    """Parsed presets plus the sample pool as float32 in [-1, 1)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        data = Path(path).read_bytes()
        if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
            raise ValueError(f"{path} is not a SoundFont 2 file")
        top = _chunks(data, 12, len(data))
        sd_off, sd_size = top["LIST:sdta"]
        pd_off, pd_size = top["LIST:pdta"]
        smpl_off, smpl_size = _chunks(data, sd_off, sd_off + sd_size)["smpl"]
        self.pool = np.frombuffer(data, dtype="<i2", count=smpl_size // 2, offset=smpl_off).astype(np.float32) / 32768.0
        hydra = {k: data[o:o + s] for k, (o, s) in _chunks(data, pd_off, pd_off + pd_size).items()}

        samples = []
        for r in _records(hydra["shdr"], 46):
            name = r[:20].split(b"\0")[0].decode("latin-1")
            start, end, ls, le, rate = struct.unpack("<5I", r[20:40])
            root, corr = struct.unpack("<Bb", r[40:42])
            samples.append(Sample(name, start, end, ls, le, rate, root if root <= 127 else 60, corr))
        ibag = [struct.unpack("<HH", r) for r in _records(hydra["ibag"], 4)]
        igen = [(struct.unpack("<H", r[:2])[0], r[2:4]) for r in _records(hydra["igen"], 4)]
        insts = []
        for r in _records(hydra["inst"], 22):
            insts.append((r[:20].split(b"\0")[0].decode("latin-1"), struct.unpack("<H", r[20:22])[0]))
        pbag = [struct.unpack("<HH", r) for r in _records(hydra["pbag"], 4)]
        pgen = [(struct.unpack("<H", r[:2])[0], r[2:4]) for r in _records(hydra["pgen"], 4)]
        phdr = []
        for r in _records(hydra["phdr"], 38):
            name = r[:20].split(b"\0")[0].decode("latin-1")
            program, bank, bag = struct.unpack("<HHH", r[20:26])
            phdr.append((name, program, bank, bag))

        def inst_zones(i: int) -> list[dict[int, Any]]:
            zs = _zones(ibag, igen, insts[i][1], insts[i + 1][1])
            if zs and SAMPLE_ID not in zs[0]:  # a first zone without a sample is the global zone
                glob, zs = zs[0], zs[1:]
                zs = [{**glob, **z} for z in zs]
            return [z for z in zs if SAMPLE_ID in z]

        self.presets: dict[tuple[int, int], Preset] = {}
        for p in range(len(phdr) - 1):  # the last record is the EOP terminator
            name, program, bank, bag = phdr[p]
            pzs = _zones(pbag, pgen, bag, phdr[p + 1][3])
            glob: dict[int, Any] = {}
            if pzs and INSTRUMENT not in pzs[0]:
                glob, pzs = pzs[0], pzs[1:]
            zones = []
            for pz in pzs:
                if INSTRUMENT not in pz:
                    continue
                pz = {**glob, **pz}
                for iz in inst_zones(int(pz[INSTRUMENT])):
                    klo, khi = _intersect(iz.get(KEY_RANGE), pz.get(KEY_RANGE))
                    vlo, vhi = _intersect(iz.get(VEL_RANGE), pz.get(VEL_RANGE))
                    if klo > khi or vlo > vhi:
                        continue
                    gens = {op: v for op, v in iz.items() if op not in _RANGES}
                    for op, v in pz.items():
                        if op in _RANGES or op in _NOT_ADDITIVE:
                            continue
                        gens[op] = int(gens.get(op, _DEFAULTS.get(op, 0))) + int(v)
                    zones.append(Zone(klo, khi, vlo, vhi, samples[int(gens[SAMPLE_ID])], gens))
            self.presets[(bank, program)] = Preset(name, bank, program, zones)

    def preset(self, program: int, bank: int = 0) -> Preset:
        """The GM preset; a missing variation bank falls back to bank 0, a missing kit to kit 0."""
        for key in ((bank, program), (bank, 0) if bank == 128 else (0, program)):
            if key in self.presets:
                return self.presets[key]
        raise KeyError(f"no preset bank {bank} program {program} in this SoundFont")


def _intersect(a: Any, b: Any) -> tuple[int, int]:
    lo, hi = 0, 127
    for r in (a, b):
        if r is not None:
            lo, hi = max(lo, r[0]), min(hi, r[1])
    return lo, hi


def gm_soundfont_path() -> Path:
    """TimGM6mb.sf2, the General MIDI SoundFont that ships inside pretty_midi."""
    import pretty_midi

    return Path(os.path.dirname(pretty_midi.__file__)) / "TimGM6mb.sf2"


@functools.lru_cache(maxsize=2)
def load(path: str | None = None) -> SoundFont:
    """Parse once per process (about 0.1 s): every score shares it."""
    return SoundFont(path or gm_soundfont_path())
