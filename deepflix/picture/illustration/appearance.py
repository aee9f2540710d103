"""A character's look, read from their sheet, the same in every scene.

When the story gives an ``Appearance`` it is used as is. Otherwise one is derived
from the sheet's words: colour words next to garments ("red coat", "grey
beard"), hair and skin words, build and height words, and the most telling
accessory. What the words leave open is filled from a hash of the character's
id and name, so it never changes between scenes or runs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ...creatures import ANIMALS, METAL_WORDS, METALS, Kind, kind_of
from ...models import Appearance, CharacterSheet

COLOURS = {
    "red": "#b3261e", "crimson": "#9b1b30", "scarlet": "#c8102e", "maroon": "#6b1e23", "burgundy": "#6d1a36",
    "orange": "#d9731a", "rust": "#a3462b", "yellow": "#e3b92b", "mustard": "#c9a227", "gold": "#c99a2e",
    "golden": "#d4a537", "green": "#3f7d3a", "olive": "#6b6b2e", "emerald": "#1f7a4d", "teal": "#1f7a7a",
    "turquoise": "#2fa4a0", "blue": "#2f5d9b", "navy": "#1e2d52", "indigo": "#3b2f7a", "cobalt": "#1f4fa8",
    "azure": "#3b8ed6", "purple": "#6a3d8f", "violet": "#7b4fb0", "lavender": "#a48ccf", "pink": "#d9779b",
    "magenta": "#b0307a", "brown": "#6b4429", "chestnut": "#7a3f22", "tan": "#b08a5a", "beige": "#cdb892",
    "khaki": "#a99a66", "cream": "#e6dcc0", "grey": "#7d7f84", "gray": "#7d7f84", "silver": "#b8bcc4",
    "white": "#e8e6e0", "black": "#1f1f23", "charcoal": "#36383d", "ivory": "#ece4cf", "copper": "#b06a3b",
    "bronze": "#8c6a3a", "denim": "#3f5f86", "plaid": "#8a3b2e", "tweed": "#7b6a52", "leather": "#5a3a24",
}
HAIR_COLOURS = {
    "blonde": "#d8b868", "blond": "#d8b868", "golden": "#d0a84a", "ginger": "#b5542a", "auburn": "#8c3b22",
    "red": "#a3402a", "copper": "#a85a2e", "brown": "#5a3a22", "chestnut": "#6b3a1e", "dark": "#2b1d14",
    "black": "#16120f", "raven": "#121015", "grey": "#8e8e8e", "gray": "#8e8e8e", "silver": "#c4c4c8",
    "white": "#e4e2dc", "platinum": "#e3dcc4", "salt": "#9a9894", "blue": "#3b6fb0", "pink": "#d47aa0",
    "green": "#3f8a4a", "purple": "#7a4fa0",
}
SKINS = ["#f1d3c0", "#e8b896", "#d9a07f", "#c68642", "#a86b3c", "#8d5524", "#6b3f22", "#4a2c1a"]
SKIN_WORDS = {
    "pale": 0, "fair": 0, "porcelain": 0, "freckled": 1, "rosy": 1, "ruddy": 2, "olive": 3, "tanned": 3, "tan": 3,
    "sunburnt": 2, "weathered": 3, "bronzed": 4, "brown": 5, "dark": 6, "ebony": 7, "copper": 4,
}
TOPS = ("coat", "jacket", "shirt", "sweater", "jumper", "dress", "robe", "robes", "cloak", "tunic", "uniform",
        "hoodie", "blouse", "vest", "suit", "overcoat", "raincoat", "cardigan", "parka", "gown", "armor", "armour",
        "waistcoat", "blazer", "top", "shawl", "poncho", "jersey", "overalls", "apron", "kimono", "smock", "trenchcoat")
BOTTOMS = ("trousers", "pants", "jeans", "skirt", "shorts", "leggings", "breeches", "slacks", "kilt", "boots")
ACCENTS = ("scarf", "hat", "cape", "belt", "tie", "ribbon", "bandana", "sash", "beret", "cap", "gloves",
           "necklace", "bow", "badge", "pendant", "feather", "helmet", "collar", "trim", "buttons")
# accessory words, in the order they win when several are named
ACCESSORY_WORDS = (
    ("helmet", "helmet"), ("beard", "beard"), ("bearded", "beard"), ("glasses", "glasses"),
    ("spectacles", "glasses"), ("monocle", "glasses"), ("goggles", "glasses"), ("hat", "hat"), ("fedora", "hat"),
    ("bowler", "hat"), ("beret", "hat"), ("cap", "hat"), ("stetson", "hat"), ("cape", "cape"), ("cloak", "cape"),
    ("scarf", "scarf"), ("shawl", "scarf"), ("trenchcoat", "coat"), ("overcoat", "coat"), ("greatcoat", "coat"),
    ("raincoat", "coat"), ("coat", "coat"),
)
SHADES = {"dark": 0.6, "deep": 0.7, "light": 1.35, "pale": 1.45, "bright": 1.15, "faded": 1.2}


@dataclass(frozen=True)
class Build:
    """What the drawing needs besides the Appearance: garment shapes read from the words."""

    skirt: bool = False
    long_coat: bool = False
    child: bool = False
    kind: Kind = "person"  # or an animal (``species``, drawn with ears or a beak) or a robot
    species: str = ""
    hat: str = "brim"  # the shape an accessory "hat" is drawn in: brim | cap | knit | pointed


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _shade(hex_colour: str, factor: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    if factor > 1:  # lighten toward white
        f = factor - 1
        r, g, b = (int(v + (255 - v) * f * 0.8) for v in (r, g, b))
    else:
        r, g, b = (int(v * factor) for v in (r, g, b))
    return f"#{min(r, 255):02x}{min(g, 255):02x}{min(b, 255):02x}"


def _colour_before(tokens: list[str], i: int, table: dict[str, str], reach: int = 3) -> str | None:
    """The colour word nearest before tokens[i] ("a long dark-blue wool coat" -> dark blue)."""
    for j in range(i - 1, max(-1, i - 1 - reach), -1):
        if tokens[j] in table:
            colour = table[tokens[j]]
            if j > 0 and tokens[j - 1] in SHADES:
                colour = _shade(colour, SHADES[tokens[j - 1]])
            return colour
        if tokens[j] in ("and", "with", "a", "an", "the", "her", "his", "their") and j < i - 1:
            break
    return None


def _find(tokens: list[str], words: tuple[str, ...], table: dict[str, str]) -> str | None:
    for i, t in enumerate(tokens):
        if t in words:
            c = _colour_before(tokens, i, table)
            if c:
                return c
    return None


def _hash(sheet: CharacterSheet, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{sheet.id}|{sheet.name}|{salt}".encode()).digest()[:8], "little")


_FALLBACK_TOPS = ["#3a5f8a", "#8a3b2e", "#4f6b3a", "#6a3d8f", "#b07a2a", "#2f6f73", "#7a2f4f", "#5a5e66",
                  "#9b5b2a", "#2e4a7a"]
_FALLBACK_BOTTOMS = ["#2d2d2d", "#3b3226", "#2a3142", "#4a4036", "#1f2a24"]
_FALLBACK_ACCENTS = ["#d4a017", "#c8102e", "#e8e6e0", "#2fa4a0", "#d9731a", "#7b4fb0"]


def derive(sheet: CharacterSheet) -> Appearance:
    text = " ".join((sheet.base_traits, sheet.facial_features, sheet.clothing, sheet.distinctive_features))
    toks = _tokens(text)
    wset = set(toks)
    # hair: "<colour> hair", "<colour>-haired", or a hair colour word on its own (blonde, ginger)
    hair = None
    for i, t in enumerate(toks):
        if t in ("hair", "haired", "beard", "moustache", "mustache", "locks", "curls", "braid", "braids"):
            hair = _colour_before(toks, i, HAIR_COLOURS) or hair
            if hair:
                break
    for w in ("blonde", "blond", "ginger", "auburn", "redhead", "platinum"):
        if hair is None and w in wset:
            hair = HAIR_COLOURS.get(w, HAIR_COLOURS["ginger"])
    if hair is None and wset & {"old", "elderly", "aged", "grandfather", "grandmother", "ancient"}:
        hair = HAIR_COLOURS["grey"]
    hair = hair or ["#2b1d14", "#16120f", "#5a3a22", "#6b3a1e", "#8c3b22", "#d8b868"][_hash(sheet, "hair") % 6]
    style = "short"
    feminine = bool(wset & {"woman", "girl", "she", "her", "lady", "queen", "princess", "mother", "daughter"})
    if wset & {"bald", "shaved", "shaven"}:
        style = "bald"
    elif wset & {"hood", "hooded", "hoodie"}:
        style = "hooded"
    elif wset & {"ponytail", "braid", "braids", "plait"}:
        style = "ponytail"
    elif wset & {"bun", "chignon", "topknot"}:
        style = "bun"
    elif wset & {"curly", "curls", "afro", "frizzy"}:
        style = "curly"
    elif "long" in wset and (any(toks[i + 1 : i + 4].count("hair") for i, t in enumerate(toks) if t == "long")
                             or any("long" in toks[i + 1 : i + 3] for i, t in enumerate(toks) if t == "hair")):
        # "long dark hair", and "dark hair worn long"
        style = "long"
    elif feminine:
        style = ("long", "bun", "ponytail", "curly")[_hash(sheet, "style") % 4]
    skin = None
    for i, t in enumerate(toks):
        if t in SKIN_WORDS and (i + 1 < len(toks) and toks[i + 1] in ("skin", "skinned", "complexion", "face")
                                or t in ("pale", "freckled", "tanned", "weathered", "ruddy", "sunburnt", "bronzed")):
            skin = SKINS[SKIN_WORDS[t]]
            break
    skin = skin or SKINS[_hash(sheet, "skin") % len(SKINS)]
    build = "average"
    if wset & {"broad", "burly", "stocky", "muscular", "heavyset", "hulking", "large", "big", "stout", "portly"}:
        build = "broad"
    elif wset & {"slim", "thin", "slender", "wiry", "lanky", "petite", "gaunt", "skinny", "lean", "willowy"}:
        build = "slim"
    height = 1.0
    if wset & {"tall", "towering", "lanky", "giant"}:
        height = 1.12
    elif wset & {"child", "kid", "boy", "girl", "young", "small", "short", "petite", "little"}:
        height = 0.86 if wset & {"child", "kid", "boy", "girl"} else 0.92
    clothing_toks = _tokens(sheet.clothing) or toks
    top = _find(clothing_toks, TOPS, COLOURS) or _find(toks, TOPS, COLOURS)
    bottom = _find(clothing_toks, BOTTOMS, COLOURS) or _find(toks, BOTTOMS, COLOURS)
    accent = _find(toks, ACCENTS, COLOURS)
    if top is None:  # a colour named anywhere in the clothing still beats the hash
        named = [COLOURS[t] for t in clothing_toks if t in COLOURS]
        top = named[0] if named else _FALLBACK_TOPS[_hash(sheet, "top") % len(_FALLBACK_TOPS)]
        if accent is None and len(named) > 1:
            accent = named[1]
    bottom = bottom or _FALLBACK_BOTTOMS[_hash(sheet, "bottom") % len(_FALLBACK_BOTTOMS)]
    accent = accent or _FALLBACK_ACCENTS[_hash(sheet, "accent") % len(_FALLBACK_ACCENTS)]
    accessory = "none"
    for part in (sheet.distinctive_features, sheet.facial_features, sheet.clothing, sheet.base_traits):
        ptoks = set(_tokens(part))
        found = [acc for word, acc in ACCESSORY_WORDS if word in ptoks]
        if found:
            accessory = found[0]
            break
    kind, species = kind_of(sheet.base_traits)
    if kind == "animal":  # "a fox with silver fur": the named colour, else the animal's own
        own = _tokens(sheet.base_traits)  # not the clothing: "a navy coat" is not its fur
        named = [i for i, t in enumerate(own) if t in ("fur", "feathers", "scales", "pelt")]
        skin = (_colour_before(own, named[0], COLOURS) if named else None) or ANIMALS[species][1]
        style = "bald"
    elif kind == "robot":
        skin = next((METAL_WORDS[t] for t in _tokens(sheet.base_traits) if t in METAL_WORDS),
                    METALS[_hash(sheet, "metal") % len(METALS)][1])
        style = "bald"
    return Appearance(skin=skin, hair=hair, hair_style=style, build=build, height=height,  # type: ignore[arg-type]
                      top=top, bottom=bottom, accessory=accessory, accent=accent)  # type: ignore[arg-type]


def appearance_for(sheet: CharacterSheet) -> Appearance:
    return sheet.appearance if sheet.appearance is not None else derive(sheet)


# which hat shape the words name; a hat named by none of these is drawn with a brim
HAT_SHAPES = (
    ("cap", re.compile(r"\b(baseball cap|flat cap|peaked cap|cloth cap|cap)\b")),
    ("knit", re.compile(r"\b(bobble hat|beanie|woolly hat|wool hat|knitted hat|toque)\b")),
    ("pointed", re.compile(r"\b(pointed hat|wizard'?s hat|witch'?s hat|conical hat)\b")),
)
HEADWEAR_NAMES = {"brim": "brimmed hat", "cap": "peaked cap", "knit": "knitted hat", "pointed": "pointed hat"}


def _hat_shape(sheet: CharacterSheet) -> str:
    text = f"{sheet.clothing} {sheet.distinctive_features}".lower()
    return next((shape for shape, rx in HAT_SHAPES if rx.search(text)), "brim")


def build_for(sheet: CharacterSheet) -> Build:
    wset = set(_tokens(" ".join((sheet.base_traits, sheet.clothing))))
    kind, species = kind_of(sheet.base_traits)
    return Build(
        skirt=bool(wset & {"dress", "skirt", "gown", "robe", "robes", "kilt", "kimono"}),
        long_coat=bool(wset & {"trenchcoat", "overcoat", "greatcoat", "raincoat", "duster", "robe", "robes"}),
        child=bool(wset & {"child", "kid", "boy", "girl", "toddler"}),
        kind=kind, species=species, hat=_hat_shape(sheet),
    )


@dataclass(frozen=True)
class DrawnLook:
    """What the illustrator puts on a character, in words: for checking against the sheet."""

    headwear: str  # none | brimmed hat | peaked cap | knitted hat | pointed hat | helmet | hood
    accessory: str  # Appearance.accessory
    top: str
    hair_style: str


def drawn_look(sheet: CharacterSheet) -> DrawnLook:
    app, build = appearance_for(sheet), build_for(sheet)
    if app.accessory == "hat":
        headwear = HEADWEAR_NAMES[build.hat]
    elif app.accessory == "helmet":
        headwear = "helmet"
    else:
        headwear = "hood" if app.hair_style == "hooded" else "none"
    return DrawnLook(headwear=headwear, accessory=app.accessory, top=app.top, hair_style=app.hair_style)
