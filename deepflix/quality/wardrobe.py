"""Clothing words against what the illustrator draws: headwear and accessories (a
"baseball cap" must not be drawn as a wide-brimmed hat), garment colours and hair.

The words are read with this module's own vocabulary; what is drawn is asked of the
illustrator (``picture.appearance.drawn_look``), so a mismatch between the two shows."""

from __future__ import annotations

import re

from ..models import Character, Story
from ..picture.illustration.appearance import COLOURS, TOPS, drawn_look
from ..words import load
from .findings import Finding

HEADWEAR = (  # most specific first
    (r"\b(baseball cap|flat cap|peaked cap|cloth cap|cap)\b", "peaked cap"),
    (r"\b(bobble hat|beanie|woolly hat|wool hat|knitted hat|toque)\b", "knitted hat"),
    (r"\b(pointed hat|wizard'?s hat|witch'?s hat|conical hat)\b", "pointed hat"),
    (r"\b(helmet)\b", "helmet"),
    (r"\b(?:a|her|his|their|the) hood\b|\bhood up\b|\bhooded (?!(?:[\w-]+ )?(?:parka|cloak|coat|jacket|robe|top|sweatshirt))", "hood"),
    (r"\b(fedora|stetson|bowler|trilby|straw hat|sun hat|wide-brimmed hat|top hat|hat)\b", "brimmed hat"),
)
ITEMS = (
    (r"\b(glasses|spectacles|goggles|monocle)\b", "glasses"),
    (r"\b(scarf|shawl)\b", "scarf"),
    (r"\b(cape|cloak)\b", "cape"),
    (r"\b(beard|bearded)\b", "beard"),
)
HAIR = ((r"\bshaved head\b|\bbald\b", "bald"), (r"\bcurl(s|y)\b", "curly"), (r"\bponytail\b|\bbraid", "ponytail"),
        (r"\bbun\b", "bun"), (r"\blong [\w-]+(?: [\w-]+)? hair\b|\bhair (?:falling |worn )?long\b", "long"))
_NEAR = 90.0  # RGB distance under which two colours read as the same name


def _first(table: tuple[tuple[str, str], ...], text: str) -> tuple[str, str] | None:
    for pattern, item in table:
        m = re.search(pattern, text.lower())
        if m:
            return m.group(0), item
    return None


def _colour_table() -> dict[str, str]:
    table = dict(COLOURS)
    table.update(load("common")["colours"])
    return table


def _rgb(h: str) -> tuple[int, int, int]:
    return int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)


def _dist(a: str, b: str) -> float:
    return sum((x - y) ** 2 for x, y in zip(_rgb(a), _rgb(b))) ** 0.5


def _first_garment(clothing: str) -> str:
    return re.split(r"\b(?:and|with|over)\b|,", clothing.lower())[0]


def _top_colour(clothing: str, table: dict[str, str]) -> tuple[str, str] | None:
    """The first colour named in the first garment ("a camel leather jacket" -> camel), when that
    garment is a top."""
    head = _first_garment(clothing)
    if not re.search(rf"\b({'|'.join(TOPS)})\b", head):
        return None
    hits = [(m.start(), -len(name), name) for name in table for m in re.finditer(rf"\b{re.escape(name)}\b", head)]
    if not hits:
        return None
    name = min(hits)[2]
    return name, table[name]


def check_character(ch: Character) -> list[Finding]:
    out: list[Finding] = []
    look = drawn_look(ch.sheet())
    worn = f"{ch.clothing}; {ch.distinctive_features}"
    said = _first(HEADWEAR, worn)
    if said and said[1] != look.headwear:
        out.append(Finding("clothing", f"the words say '{said[0]}' ({said[1]}) but the picture draws "
                                       f"{look.headwear if look.headwear != 'none' else 'no headwear'}",
                           character=ch.id))
    if not said and look.headwear not in ("none", "hood"):
        out.append(Finding("clothing", f"the picture draws a {look.headwear} that the words never mention",
                           character=ch.id))
    for pattern, item in ITEMS:
        # the first garment is the top itself ("a hooded travelling cloak"), drawn in the top's colour
        rest = ch.clothing.lower()[len(_first_garment(ch.clothing)):]
        text = rest if item != "beard" else f"{ch.facial_features} {ch.clothing}"
        m = re.search(pattern, text.lower())
        if m and look.accessory != item:
            out.append(Finding("clothing", f"the words say '{m.group(0)}' but the picture does not draw it",
                               character=ch.id))
        if not m and look.accessory == item and not re.search(pattern, ch.distinctive_features.lower()):
            out.append(Finding("clothing", f"the picture draws {item} that the words never mention",
                               character=ch.id))
    table = _colour_table()
    top = _top_colour(ch.clothing, table)
    if top and _dist(top[1], look.top) > _NEAR:
        out.append(Finding("clothing", f"the words say a {top[0]} top but the picture draws {look.top}",
                           character=ch.id))
    hair = _first(HAIR, ch.facial_features)
    if hair and hair[1] != look.hair_style and look.hair_style != "hooded":
        out.append(Finding("clothing", f"the words say '{hair[0]}' but the picture draws {look.hair_style} hair",
                           character=ch.id))
    return out


def check_wardrobe(story: Story) -> list[Finding]:
    return [f for ch in story.characters for f in check_character(ch)]
