"""Word timings for one sentence, from whatever a provider can tell us.

Every function returns one ``Word`` per whitespace token of the sentence as
written (so ``len(words) == len(sentence.text.split())``: the subtitle builder
relies on that), each timed by the spoken words it became ("$5.20" lasts as
long as "five dollars and twenty cents"). Tokens that say nothing (a word
consumed by the one before, a lone quote) get a zero-length word where the
previous one ended.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..models import Word
from .text import Token, normalize_tokens, sentences, spoken_spans


@dataclass
class Sentence:
    text: str  # as written: what subtitles show
    tokens: list[Token] = field(default_factory=list)

    @property
    def spoken(self) -> str:
        return spoken_spans(self.tokens)[0]


def prepare(text: str, language: str = "en") -> list[Sentence]:
    """Split and normalise (in the text's language); sentences with nothing to say (a lone "...") are dropped."""
    from .. import languages
    from . import multilingual

    english = languages.base(language) == "en"
    out = []
    for s in sentences(text) if english else multilingual.sentences(text, language):
        sent = Sentence(s, normalize_tokens(s) if english else multilingual.normalize_tokens(s, language))
        if re.search(r"\w", sent.spoken):
            out.append(sent)
    return out


def _letters(s: str) -> int:
    return len(re.sub(r"[\W_]", "", s)) or 1


def _units(sent: Sentence) -> list[tuple[int, int]]:
    """(token index, letters) of each spoken word, in order."""
    out = []
    for i, t in enumerate(sent.tokens):
        if t.is_word:
            out += [(i, _letters(w)) for w in re.findall(r"[\w'’]+", t.spoken)]
    return out


def _to_words(sent: Sentence, unit_times: Sequence[tuple[float, float]], units: list[tuple[int, int]]) -> list[Word]:
    """Spoken-word times -> one Word per written token."""
    spans: dict[int, tuple[float, float]] = {}
    for (ti, _), (a, b) in zip(units, unit_times):
        lo, hi = spans.get(ti, (a, b))
        spans[ti] = (min(lo, a), max(hi, b))
    words = []
    last = unit_times[0][0] if unit_times else 0.0
    for i, t in enumerate(sent.tokens):
        a, b = spans.get(i, (last, last))
        words.append(Word(start=round(a, 4), end=round(b, 4), text=t.text))
        last = b
    return words


def words_proportional(sent: Sentence, start: float, end: float) -> list[Word]:
    """Spread [start, end] over the spoken words by their letters (and a space each)."""
    units = _units(sent)
    weights = [n + 1 for _, n in units]
    total = float(sum(weights)) or 1.0
    times, t = [], start
    for w in weights:
        d = (end - start) * w / total
        times.append((t, t + d * (w - 1) / w))  # the rest of the slot is the space after the word
        t += d
    return _to_words(sent, times, units)


_PUNCT = set(",.;:!?—–-…\"'()")


def words_from_phonemes(sent: Sentence, phonemes: Sequence[str], samples: Sequence[int], sr: int) -> list[Word]:
    """Piper alignments (phoneme, samples) -> words. espeak merges some words ("of the" is one phoneme
    word), so spoken words are placed by their share of letters, snapped to a phoneme-word boundary
    when one is near: pauses at commas then fall between words, not inside them."""
    content: list[tuple[float, float]] = []  # (start, end) of each sounding phoneme
    bounds = {0}
    t = 0.0
    for ph, n in zip(phonemes, samples):
        d = float(n) / sr
        if ph in (" ", "^", "$", "_") or ph in _PUNCT:
            bounds.add(len(content))
        else:
            content.append((t, t + d))
        t += d
    units = _units(sent)
    if not content or not units:
        return words_proportional(sent, 0.0, t)
    p = len(content)
    bounds.add(p)
    blist = sorted(bounds)
    letters = [n for _, n in units]
    total = float(sum(letters))
    cuts = [0]
    acc = 0
    for k, n in enumerate(letters[:-1]):
        acc += n
        q = acc / total * p
        near = min(blist, key=lambda b: abs(b - q))
        tol = max(1.5, 0.4 * n / total * p)
        b = near if abs(near - q) <= tol else int(round(q))
        remaining = len(letters) - k - 1  # each later word keeps at least one phoneme
        cuts.append(min(max(b, cuts[-1] + 1), p - remaining))
    cuts.append(p)
    times = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        b = max(b, a + 1)
        times.append((content[min(a, p - 1)][0], content[min(b, p) - 1][1]))
    return _to_words(sent, times, units)


def words_from_chars(sent: Sentence, offset: int, starts: Sequence[float] | np.ndarray,
                     ends: Sequence[float] | np.ndarray) -> list[Word]:
    """Character alignment of the spoken text (ElevenLabs) -> words. ``offset``: where this
    sentence's spoken string starts in the aligned text."""
    spoken, spans = spoken_spans(sent.tokens)
    units = _units(sent)
    times = []
    for i, t in enumerate(sent.tokens):
        span = spans[i]
        if span is None or not t.is_word:
            continue
        # each spoken word of this token, found inside the token's span
        for m in re.finditer(r"[\w'’]+", spoken[span[0]: span[1]]):
            a, b = offset + span[0] + m.start(), offset + span[0] + m.end() - 1
            times.append((float(starts[a]), float(ends[b])))
    return _to_words(sent, times, units)
