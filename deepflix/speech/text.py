"""Text before speech: sentences, and words read the way a narrator says them.

``sentences(text)`` splits narration into sentences (the unit of timing and of
subtitles) without breaking at "Dr.", "e.g.", initials or decimals.
``normalize_tokens(sentence)`` keeps every original word next to its spoken
form ("$5.20" -> "five dollars and twenty cents"), so that the timing of the
spoken words maps back onto the words a subtitle shows. ``normalize(text)`` is
the spoken string alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import numbers as num

# ---------------------------------------------------------------------------- sentences

# never end a sentence: a title or a word that is always followed by more
_TITLES = {"mr", "mrs", "ms", "dr", "st", "prof", "sr", "jr", "mt", "capt", "gen", "sgt", "lt", "col", "rev",
           "gov", "sen", "rep", "fr", "no", "vs", "fig", "approx", "e.g", "i.e", "cf", "ave", "blvd", "rd"}
# may end a sentence when a capital follows: "... and so on, etc. Then ..."
_MAYBE_FINAL = {"etc", "a.m", "p.m", "inc", "ltd", "co", "u.s", "u.k", "am", "pm"}
_BOUNDARY = re.compile(r"([.!?…]+)([\"'”’)\]]*)(\s+)")


def sentences(text: str) -> list[str]:
    """Split text into sentences; paragraphs always end one."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = re.sub(r"\s+", " ", para).strip()
        start = 0
        for m in _BOUNDARY.finditer(para):
            nxt = para[m.end(): m.end() + 1]
            if not nxt or not (nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘([¿¡"):
                continue  # "Wait... what?" / "'Run!' she said."
            word = para[:m.start()].rsplit(" ", 1)[-1].lstrip("\"'“‘([").lower()
            if m.group(1) == ".":
                if word in _TITLES or (len(word) == 1 and word.isalpha()):  # "Dr. Who", "J. R. R. Tolkien"
                    continue
                if word in _MAYBE_FINAL and not nxt.isupper():
                    continue
            out.append(para[start:m.end(2)].strip())
            start = m.end()
        if para[start:].strip():
            out.append(para[start:].strip())
    return [s for s in out if re.search(r"\w", s)]


# ---------------------------------------------------------------------------- words


@dataclass(frozen=True)
class Token:
    text: str  # as written (what subtitles show)
    spoken: str  # as said (what the voice reads); "" for nothing

    @property
    def is_word(self) -> bool:
        return bool(re.search(r"\w", self.spoken))


_ABBREV = {
    "mr.": "Mister", "mrs.": "Missus", "ms.": "Miz", "prof.": "Professor", "sr.": "Senior", "jr.": "Junior",
    "mt.": "Mount", "capt.": "Captain", "gen.": "General", "sgt.": "Sergeant", "lt.": "Lieutenant",
    "col.": "Colonel", "rev.": "Reverend", "gov.": "Governor", "sen.": "Senator", "fr.": "Father",
    "vs.": "versus", "vs": "versus", "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is",
    "approx.": "approximately", "ave.": "Avenue", "blvd.": "Boulevard", "rd.": "Road", "fig.": "figure",
    "a.m.": "a m", "p.m.": "p m", "u.s.": "U S", "u.k.": "U K", "no.": "number", "km/h": "kilometers per hour",
}
_CONTEXT_ABBREV = {"dr.": ("Doctor", "Drive"), "st.": ("Saint", "Street")}  # before a name / after one
_UNITS = {
    "km": "kilometer", "kg": "kilogram", "cm": "centimeter", "mm": "millimeter", "mi": "mile", "ft": "foot",
    "lb": "pound", "lbs": "pound", "oz": "ounce", "mph": "miles per hour", "kph": "kilometers per hour",
    "°c": "degree Celsius", "°f": "degree Fahrenheit", "°": "degree", "h": "hour", "hrs": "hour", "min": "minute",
    "kb": "kilobyte", "mb": "megabyte", "gb": "gigabyte", "ml": "milliliter", "l": "liter",
}
_IRREGULAR_PLURAL = {"foot": "feet", "degree Celsius": "degrees Celsius", "degree Fahrenheit": "degrees Fahrenheit"}
_CURRENCY = {"$": ("dollar", "cent"), "£": ("pound", "penny"), "€": ("euro", "cent"), "¥": ("yen", "sen")}
_MAGNITUDE = {"k": "thousand", "m": "million", "bn": "billion", "b": "billion", "thousand": "thousand",
              "million": "million", "billion": "billion", "trillion": "trillion"}
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_MONTH_NAMES = {m.lower() for m in _MONTHS} | {m[:3].lower() for m in _MONTHS} | {"sept"}
_SYMBOLS = {"&": "and", "+": "plus", "=": "equals", "@": "at", "×": "times", "~": "about", "%": "percent",
            "°": "degrees", "#": "number", "/": "or", "—": ",", "–": ",", "--": ",", "-": ",", "…": "...",
            "§": "section", "<": "less than", ">": "greater than"}
_FRACTIONS = {(1, 2): "one half", (1, 3): "one third", (2, 3): "two thirds", (1, 4): "one quarter",
              (3, 4): "three quarters"}

_LEAD = "\"'“‘([{¿¡"
_TRAIL = "\"'”’)]}.,;:!?…"
_NUM = r"\d{1,3}(?:,\d{3})+|\d+"


def _int(s: str) -> int:
    return int(s.replace(",", ""))


def _number(s: str) -> str:
    """A plain number as written: integers (years when they look like one) and decimals."""
    if "." in s:
        return num.decimal(s)
    n = _int(s)
    if "," not in s and 1100 <= n <= 2099 and len(s) == 4:
        return num.year(n)
    return num.cardinal(n)


def _plural(unit: str, value: str) -> str:
    if value in ("one", "minus one") or unit.endswith("per hour"):
        return unit
    return _IRREGULAR_PLURAL.get(unit, unit + "s")


def _money(sym: str, amount: str, magnitude: str | None) -> str:
    major, minor = _CURRENCY[sym]
    if magnitude:  # "$3.5 million" -> "three point five million dollars"
        return f"{_number(amount) if '.' in amount else num.cardinal(_int(amount))} {magnitude} {major}s"
    whole, _, cents = amount.partition(".")
    w = _int(whole or "0")
    c = int((cents + "00")[:2]) if cents else 0
    parts = []
    if w or not c:
        parts.append(f"{num.cardinal(w)} {major if w == 1 or major == 'yen' else major + 's'}")
    if c:
        minor_word = minor if c == 1 else ("pence" if minor == "penny" else minor + ("" if minor == "sen" else "s"))
        parts.append(f"{num.cardinal(c)} {minor_word}")
    return " and ".join(parts)


def _core(core: str, prev: str, nxt: str) -> tuple[str, bool]:
    """Spoken form of one token's core (no surrounding punctuation). Returns (spoken, consumed_next)."""
    low = core.lower()
    if low in _CONTEXT_ABBREV:
        before, after = _CONTEXT_ABBREV[low]
        return (before if nxt[:1].isupper() else after), False
    if low in _ABBREV:
        return _ABBREV[low], False
    if (low in ("am", "pm") and re.fullmatch(r"\d{1,2}(:\d\d)?", prev)):
        return f"{low[0]} m", False
    m = re.fullmatch(r"([$£€¥])(" + _NUM + r")(\.\d+)?(k|m|bn|b|K|M|BN)?", core)
    if m:
        sym, amount, mag = m.group(1), m.group(2) + (m.group(3) or ""), m.group(4)
        nxt_mag = _MAGNITUDE.get(nxt.lower().rstrip(".,;:!?")) if nxt.lower().rstrip(".,;:!?") in (
            "thousand", "million", "billion", "trillion") else None
        magnitude = _MAGNITUDE[mag.lower()] if mag else nxt_mag
        return _money(sym, amount, magnitude), bool(nxt_mag and not mag)
    m = re.fullmatch(r"(\d+)¢", core)
    if m:
        return f"{num.cardinal(int(m.group(1)))} cent{'' if m.group(1) == '1' else 's'}", False
    m = re.fullmatch(r"(-?(?:" + _NUM + r")(?:\.\d+)?)%", core)
    if m:
        return _number(m.group(1)) + " percent", False
    m = re.fullmatch(r"(\d{1,2}):(\d\d)(am|pm|a\.m\.|p\.m\.)?", low)
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        suffix = f" {m.group(3)[0]} m" if m.group(3) else ""
        return num.clock(int(m.group(1)), int(m.group(2))) + suffix, False
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", core)
    if m and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31:
        return f"{_MONTHS[int(m.group(2)) - 1]} {num.ordinal(int(m.group(3)))}, {num.year(int(m.group(1)))}", False
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})", core)
    if m and 1 <= int(m.group(1)) <= 12 and 1 <= int(m.group(2)) <= 31:  # US order: month/day/year
        y = int(m.group(3)) + (2000 if len(m.group(3)) == 2 and int(m.group(3)) < 50 else 1900 if len(m.group(3)) == 2 else 0)
        return f"{_MONTHS[int(m.group(1)) - 1]} {num.ordinal(int(m.group(2)))}, {num.year(y)}", False
    m = re.fullmatch(r"(\d+)/(\d+)", core)
    if m and int(m.group(2)):
        a, b = int(m.group(1)), int(m.group(2))
        return _FRACTIONS.get((a, b), f"{num.cardinal(a)} over {num.cardinal(b)}"), False
    m = re.fullmatch(r"(" + _NUM + r")(st|nd|rd|th)", low)
    if m:
        return num.ordinal(_int(m.group(1))), False
    m = re.fullmatch(r"(\d{4})'?s", low)
    if m:
        return num.plural(num.year(int(m.group(1)))), False
    m = re.fullmatch(r"['’](\d0)s", low)
    if m:
        return num.plural(num.cardinal(int(m.group(1)))), False
    m = re.fullmatch(r"(" + _NUM + r"(?:\.\d+)?)[-–](" + _NUM + r"(?:\.\d+)?)", core)
    if m:
        return f"{_number(m.group(1))} to {_number(m.group(2))}", False
    m = re.fullmatch(r"(-?(?:" + _NUM + r")(?:\.\d+)?)(°[cf]?|[a-z]+)?", low)
    if m and (m.group(2) is None or m.group(2) in _UNITS):
        value = _number(m.group(1).lstrip("-"))
        value = ("minus " + value) if m.group(1).startswith("-") else value
        if m.group(2):
            return f"{value} {_plural(_UNITS[m.group(2)], value)}", False
        if prev.lower().rstrip(".") in _MONTH_NAMES and _int(m.group(1).lstrip("-")) <= 31 and "." not in m.group(1):
            return num.ordinal(_int(m.group(1))), False  # "March 3" -> "March third"
        unit = nxt.lower().rstrip(".,;:!?")
        if unit in _UNITS and unit not in ("h", "l", "min", "mi"):
            return f"{value} {_plural(_UNITS[unit], value)}", True
        return value, False
    m = re.fullmatch(r"#(\d+)", core)
    if m:
        return "number " + num.cardinal(int(m.group(1))), False
    if core in _SYMBOLS:
        return _SYMBOLS[core], False
    # symbols inside words: "rock&roll", "and/or", "well—enough"
    spoken = re.sub(r"\s*(—|–|--)\s*", ", ", core)
    spoken = re.sub(r"(?<=\w)/(?=\w)", " ", spoken)
    spoken = re.sub(r"\s*&\s*", " and ", spoken)
    spoken = re.sub(r"(?<=\w)\+(?=\w|$)", " plus ", spoken).strip()
    return spoken, False


def normalize_tokens(text: str) -> list[Token]:
    """One Token per whitespace-separated word of ``text``, in order."""
    raw = text.split()
    out: list[Token] = []
    skip = False
    for i, tok in enumerate(raw):
        if skip:  # consumed by the token before ("$3 million", "5 km")
            out.append(Token(tok, ""))
            skip = False
            continue
        lead = 0 if re.match(r"['’]\d0s", tok) else len(tok) - len(tok.lstrip(_LEAD))  # "'90s" is a decade
        core = tok[lead:]
        cut = len(core.rstrip(_TRAIL))
        for k in range(len(core), cut, -1):  # keep an abbreviation's own periods: "Dr.", "e.g.,", "a.m."
            if core[:k].lower() in _ABBREV or core[:k].lower() in _CONTEXT_ABBREV:
                cut = k
                break
        head, body, tail = tok[:lead], core[:cut], core[cut:]
        if not body:
            out.append(Token(tok, _SYMBOLS.get(tok, tok if re.search(r"[.,;:!?]", tok) else "")))
            continue
        prev = raw[i - 1].strip(_LEAD + _TRAIL) if i else ""
        nxt = raw[i + 1].lstrip(_LEAD) if i + 1 < len(raw) else ""
        spoken, skip = _core(body, prev, nxt)
        if skip and i + 1 < len(raw):
            tail = raw[i + 1][len(raw[i + 1].rstrip(_TRAIL)):]  # "$3 million." keeps its full stop
        if tail.startswith(".") and spoken.endswith(".") and body.endswith("."):
            tail = tail[1:]
        if body.endswith(".") and not spoken.endswith(".") and not tail and i == len(raw) - 1:
            tail = "."  # "... and so on, etc." still ends the sentence
        out.append(Token(tok, (head.replace("“", '"').replace("‘", "'") + spoken + tail).strip()))
    return out


def spoken_spans(tokens: list[Token]) -> tuple[str, list[tuple[int, int] | None]]:
    """The spoken string of ``tokens`` and where each token's spoken form lies in it (None: says nothing).
    A bare punctuation mark (a dash read as a pause) sticks to the word before."""
    out = ""
    spans: list[tuple[int, int] | None] = []
    for t in tokens:
        if not t.spoken:
            spans.append(None)
            continue
        if out and t.is_word:
            out += " "
        spans.append((len(out), len(out) + len(t.spoken)))
        out += t.spoken
    return out, spans


def join_spoken(tokens: list[Token]) -> str:
    return spoken_spans(tokens)[0]


def normalize(text: str) -> str:
    """The spoken form of ``text``."""
    return join_spoken(normalize_tokens(text))
