"""How each genre sounds: tempo, meter, feel, tonics, instruments and their patterns.

Programs are General MIDI (0-based), drum kits are bank 128. Each part names a
pattern that arrange.py knows how to play; ``min_intensity`` brings a part in
only when a scene's cue is strong enough, so intensity thins or thickens the
texture as well as changing velocities.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Part:
    role: str  # pad | harmony | bass | melody | drums | high
    program: int
    pattern: str
    lo: int = 52
    hi: int = 74
    gain: float = 1.0
    pan: float = 0.0
    bank: int = 0
    min_intensity: float = 0.0
    moods: frozenset[str] | None = None  # only in these moods (None: all)


@dataclass(frozen=True)
class Style:
    genre: str
    tempo: float  # bpm at mood factor 1 and intensity 0.5
    meter: int  # beats per bar
    tonics: tuple[int, ...]  # pitch classes the seed picks from
    parts: tuple[Part, ...]
    swing: float = 0.5  # where the off-beat eighth falls inside the beat (0.5 straight, 0.62 swung)
    sevenths: bool = False
    cluster: bool = False
    jazz: bool = False  # ii-V turnarounds instead of the modal progressions
    mode_map: dict[str, str] = field(default_factory=dict)  # override the mood's mode
    reverb_s: float = 2.0
    wet: float = 0.25
    hit: tuple[int, int, int] | None = None  # (program, bank, key) struck on the downbeat after a cut


_DARK = {"major": "minor", "lydian": "dorian", "mixolydian": "phrygian"}
_HIGH = frozenset({"epic", "triumphant", "tense"})

STYLES: dict[str, Style] = {
    "noir": Style(
        "noir", 84, 4, (0, 5, 3, 10, 7),
        parts=(
            Part("harmony", 0, "comp", 53, 70, gain=0.8, pan=-0.25),
            Part("bass", 32, "walking", 31, 50, gain=1.1),
            Part("melody", 59, "jazz", 60, 79, gain=0.75, pan=0.2, min_intensity=0.15),
            Part("drums", 40, "swing", bank=128, gain=0.75, pan=0.1),
            Part("pad", 11, "sustain", 55, 72, gain=0.35, pan=0.3, min_intensity=0.55),
        ),
        swing=0.64, sevenths=True, jazz=True, mode_map={"major": "dorian", "lydian": "dorian"},
        reverb_s=1.5, wet=0.22,
    ),
    "sci-fi": Style(
        "sci-fi", 100, 4, (2, 9, 4, 11),
        parts=(
            Part("pad", 94, "sustain", 52, 74, gain=0.75),
            Part("harmony", 98, "arp", 64, 88, gain=0.6, pan=0.3),
            Part("bass", 38, "pulse", 31, 48, gain=0.8),
            Part("melody", 91, "floating", 62, 84, gain=0.7, pan=-0.2, min_intensity=0.3),
            Part("drums", 24, "electro", bank=128, gain=0.7, min_intensity=0.4),
            Part("high", 89, "swell", 48, 67, gain=0.5, pan=-0.3, min_intensity=0.6),
        ),
        mode_map={"major": "lydian"}, reverb_s=3.0, wet=0.36, hit=(0, 128, 49),
    ),
    "fantasy": Style(
        "fantasy", 92, 4, (2, 7, 0, 5),
        parts=(
            Part("pad", 48, "sustain", 50, 72, gain=0.75),
            Part("harmony", 46, "arp", 55, 84, gain=0.8, pan=-0.3),
            Part("bass", 43, "root_fifth", 33, 50, gain=0.8),
            Part("melody", 73, "lyrical", 67, 88, gain=0.9, pan=0.25, min_intensity=0.15),
            Part("drums", 47, "folk", gain=0.7, min_intensity=0.45),
            Part("high", 52, "swell", 55, 76, gain=0.6, min_intensity=0.55, moods=_HIGH | {"mysterious", "hopeful"}),
        ),
        reverb_s=2.6, wet=0.32, hit=(81, 128, 81),
    ),
    "horror": Style(
        "horror", 66, 4, (1, 6, 8, 3),
        parts=(
            Part("pad", 44, "sustain", 43, 64, gain=0.8),
            Part("bass", 43, "drone", 26, 40, gain=1.0),
            Part("melody", 10, "sparse", 72, 91, gain=0.7, pan=0.35),
            Part("drums", 116, "hits", gain=0.9, min_intensity=0.2),
            Part("high", 53, "swell", 64, 84, gain=0.55, pan=-0.3, min_intensity=0.5),
        ),
        cluster=True, mode_map=dict(_DARK, **{"harmonic minor": "harmonic minor", "dorian": "phrygian"}),
        reverb_s=3.4, wet=0.42, hit=(47, 0, 30),
    ),
    "comedy": Style(
        "comedy", 126, 4, (0, 7, 5, 2),
        parts=(
            Part("harmony", 45, "offbeat", 55, 74, gain=0.65, pan=0.25),
            Part("bass", 70, "oompah", 36, 55, gain=0.9, pan=-0.15),
            Part("melody", 71, "playful", 60, 82, gain=0.85, pan=-0.1),
            Part("drums", 0, "tick", bank=128, gain=0.9, pan=0.2, min_intensity=0.2),
            Part("high", 9, "double", 76, 96, gain=0.35, pan=0.3, min_intensity=0.65),
        ),
        mode_map={"minor": "dorian", "phrygian": "dorian", "harmonic minor": "dorian"},
        reverb_s=1.0, wet=0.14,
    ),
    "romance": Style(
        "romance", 72, 3, (5, 10, 3, 8),
        parts=(
            Part("harmony", 0, "broken", 41, 76, gain=1.3),
            Part("pad", 49, "sustain", 55, 74, gain=0.55, min_intensity=0.3),
            Part("bass", 42, "whole", 36, 52, gain=0.6, pan=-0.2, min_intensity=0.35),
            Part("melody", 40, "lyrical", 64, 86, gain=0.65, pan=0.2, min_intensity=0.2),
        ),
        sevenths=True, reverb_s=2.2, wet=0.3,
    ),
    "adventure": Style(
        "adventure", 120, 4, (2, 0, 7, 9),
        parts=(
            Part("harmony", 48, "ostinato", 52, 72, gain=0.8, pan=-0.2),
            Part("pad", 61, "stabs", 52, 72, gain=0.6, pan=0.2, min_intensity=0.45),
            Part("bass", 43, "pulse", 28, 45, gain=0.9),
            Part("melody", 60, "heroic", 55, 77, gain=0.7, pan=0.1, min_intensity=0.2),
            Part("drums", 48, "march", bank=128, gain=0.75, min_intensity=0.25),
            Part("high", 47, "timpani", 38, 52, gain=0.8, min_intensity=0.35),
        ),
        reverb_s=2.2, wet=0.28, hit=(0, 128, 49),
    ),
    "drama": Style(
        "drama", 76, 4, (9, 4, 2, 7),
        parts=(
            Part("harmony", 0, "arp", 48, 76, gain=0.8, pan=-0.15),
            Part("pad", 48, "sustain", 52, 72, gain=0.6, pan=0.15, min_intensity=0.25),
            Part("bass", 43, "root_fifth", 31, 48, gain=0.75),
            Part("melody", 42, "lyrical", 48, 69, gain=0.9, pan=0.2, min_intensity=0.3),
            Part("high", 47, "roll", 38, 52, gain=0.6, min_intensity=0.6),
        ),
        reverb_s=2.2, wet=0.3,
    ),
}


def style_for(genre: str) -> Style:
    return STYLES[genre]


# General MIDI names for what the styles use (the SoundFont's own preset names are terse)
GM_NAMES = {
    0: "acoustic grand piano", 9: "glockenspiel", 10: "music box", 11: "vibraphone", 32: "acoustic bass",
    38: "synth bass", 40: "violin", 42: "cello", 43: "contrabass", 44: "tremolo strings", 45: "pizzicato strings",
    46: "harp", 47: "timpani", 48: "string ensemble", 49: "slow strings", 52: "choir aahs", 53: "voice oohs",
    59: "muted trumpet", 60: "french horns", 61: "brass section", 70: "bassoon", 71: "clarinet", 73: "flute",
    89: "warm pad", 91: "space voice pad", 94: "halo pad", 98: "crystal synth", 116: "taiko drum",
}
KIT_NAMES = {0: "standard drum kit", 24: "electronic drum kit", 40: "brush kit", 48: "orchestral percussion"}


def instrument_name(part: Part) -> str:
    if part.bank == 128:
        return KIT_NAMES.get(part.program, f"drum kit {part.program}")
    return GM_NAMES.get(part.program, f"GM program {part.program}")
