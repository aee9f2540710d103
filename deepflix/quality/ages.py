"""Ages read from words ("in her twenties", "a twelve-year-old", "elderly"), and the
ages that roles ask for (a "teenage" son is 13 to 19; a father is a generation older).

Used by the checker and by the planner, which picks ages that fit the roles."""

from __future__ import annotations

import re

_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_DECADES = {"teens": 10, "twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60,
            "seventies": 70, "eighties": 80, "nineties": 90}
# words that say an age on their own, as (youngest, oldest)
_AGE_WORDS = (
    (r"\b(toddler|baby|infant)\b", (1, 4)),
    (r"\b(teenage|teenaged|teenager|teen)\b", (13, 19)),
    (r"\b(elderly|aged|ancient|old (?:wo)?man|old lady)\b", (60, 95)),
    (r"\b(middle-aged)\b", (40, 60)),
    (r"\b(child|kid|little (?:boy|girl))\b", (4, 12)),
)
# a relation and how many generations apart it sits from its owner: a father +1, a son -1
KIN = {
    "father": 1, "mother": 1, "dad": 1, "mum": 1, "mom": 1, "parent": 1, "stepfather": 1, "stepmother": 1,
    "grandfather": 2, "grandmother": 2, "grandpa": 2, "grandma": 2, "grandparent": 2,
    "son": -1, "daughter": -1, "stepson": -1, "stepdaughter": -1,
    "grandson": -2, "granddaughter": -2,
    "uncle": 0, "aunt": 0, "niece": 0, "nephew": 0,
    "brother": 0, "sister": 0, "twin": 0, "cousin": 0, "husband": 0, "wife": 0, "fiancé": 0, "fiancée": 0,
}
KIN_GENDER = {
    "father": "m", "dad": "m", "stepfather": "m", "grandfather": "m", "grandpa": "m", "son": "m", "stepson": "m",
    "grandson": "m", "uncle": "m", "nephew": "m", "brother": "m", "husband": "m",
    "mother": "f", "mum": "f", "mom": "f", "stepmother": "f", "grandmother": "f", "grandma": "f", "daughter": "f",
    "stepdaughter": "f", "granddaughter": "f", "aunt": "f", "niece": "f", "sister": "f", "wife": "f",
}
GENERATION = 16  # the least gap in years between a parent and their child that reads as real


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    parts = word.split("-")
    if all(p in _NUMBERS for p in parts):
        return sum(_NUMBERS[p] for p in parts)
    return None


def parse_age(text: str) -> tuple[int, int] | None:
    """(youngest, oldest) the words allow, or None when they say nothing about age."""
    low = text.lower()
    m = re.search(r"\b([a-z]+(?:-[a-z]+)?|\d+)[- ]years?[- ]old\b", low)
    if m and (n := _number(m.group(1))) is not None:
        return n, n
    m = re.search(r"\b(?:aged|age) (\d+)\b", low)
    if m:
        return int(m.group(1)), int(m.group(1))
    m = re.search(r"\bin (?:his|her|their) (early |mid-|mid |late )?(teens|twenties|thirties|forties|fifties|sixties|"
                  r"seventies|eighties|nineties)\b", low)
    if m:
        base = _DECADES[m.group(2)]
        if base == 10:
            return 13, 19
        part = (m.group(1) or "").strip()
        return {"early": (base, base + 3), "mid-": (base + 3, base + 7), "mid": (base + 3, base + 7),
                "late": (base + 6, base + 9)}.get(part, (base, base + 9))
    for pattern, span in _AGE_WORDS:
        if re.search(pattern, low):
            return span
    return None


def typical(span: tuple[int, int]) -> float:
    return (span[0] + span[1]) / 2


def role_span(role: str) -> tuple[int, int] | None:
    """The ages a role's own words demand: "teenage son" 13-19, "old sailor" 60+."""
    low = role.lower()
    for pattern, span in _AGE_WORDS:
        if re.search(pattern, low):
            return span
    if re.search(r"\b(grandfather|grandmother|grandpa|grandma|widow|widower|veteran|retired)\b", low):
        return (50, 95)
    return None


def kin_of(role: str) -> str | None:
    """The relation word in a role ("her estranged father" -> father), or None."""
    for w in re.findall(r"[a-zé]+", role.lower()):
        if w in KIN:
            return w
    return None
