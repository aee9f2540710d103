"""English number words: cardinals, ordinals, years, decimals, times.

Pure Python so that every speech provider reads numbers the same way (Piper's
espeak would, ElevenLabs mostly would, a local OpenAI-compatible server may
not); text.py decides *which* reading a token gets.
"""

from __future__ import annotations

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**15, "quadrillion"), (10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_IRREGULAR = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}


def _below_hundred(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds:
        parts.append(f"{_ONES[hundreds]} hundred")
    if rest:
        parts.append(_below_hundred(rest))
    return " ".join(parts)


def cardinal(n: int) -> str:
    """1234 -> 'one thousand two hundred thirty-four' (no 'and': US usage)."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n < 1000:
        return _below_thousand(n) if n else "zero"
    if n >= 10**18:  # beyond any sensible narration: read the digits
        return digits(str(n))
    parts = []
    for value, name in _SCALES:
        count, n = divmod(n, value)
        if count:
            parts.append(f"{cardinal(count)} {name}")
    if n:
        parts.append(_below_thousand(n))
    return " ".join(parts)


def ordinal(n: int) -> str:
    """21 -> 'twenty-first'."""
    words = cardinal(n)
    head, sep, last = words.rpartition("-") if "-" in words.split(" ")[-1] else words.rpartition(" ")
    if last in _ORDINAL_IRREGULAR:
        last = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def digits(s: str) -> str:
    """'0714' -> 'zero seven one four'."""
    return " ".join(_ONES[int(c)] for c in s if c.isdigit())


def decimal(s: str) -> str:
    """'3.14' -> 'three point one four'; '-0.5' -> 'minus zero point five'."""
    sign = ""
    if s.startswith("-"):
        sign, s = "minus ", s[1:]
    whole, _, frac = s.partition(".")
    out = cardinal(int(whole.replace(",", "") or "0"))
    if frac:
        out += " point " + digits(frac)
    return sign + out


def year(n: int) -> str:
    """1987 -> 'nineteen eighty-seven', 2005 -> 'two thousand five', 2024 -> 'twenty twenty-four',
    1900 -> 'nineteen hundred'."""
    if not 1000 <= n <= 9999 or 2000 <= n <= 2009:
        return cardinal(n)
    hi, lo = divmod(n, 100)
    if lo == 0:
        return f"{_below_hundred(hi)} hundred"
    return f"{_below_hundred(hi)} {'oh ' + _ONES[lo] if lo < 10 else _below_hundred(lo)}"


def plural(words: str) -> str:
    """'nineteen eighty' -> 'nineteen eighties' (decades)."""
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def clock(hours: int, minutes: int) -> str:
    """10:30 -> 'ten thirty', 10:05 -> 'ten oh five', 10:00 -> "ten o'clock"."""
    h = cardinal(hours)
    if minutes == 0:
        return f"{h} o'clock" if hours <= 12 else f"{h} hundred"
    if minutes < 10:
        return f"{h} oh {_ONES[minutes]}"
    return f"{h} {_below_hundred(minutes)}"
