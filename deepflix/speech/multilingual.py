"""Text before speech in languages other than English.

The English reader (text.py) knows English titles, units and number words. For
another language this module splits sentences by that language's own marks
(Spanish ¿¡, the Devanagari danda ।, the Arabic question mark ؟, the full-width
。！？ of Japanese and Chinese, which need no space after them) and reads digits,
percentages and money with num2words in that language ("5,20 €" -> "cinco
euros con veinte céntimos", "1234" -> "千二百三十四"). Where num2words has no
such language (Hindi, Chinese), the digits are left to the voice, which reads
them itself. Tokens are still one per whitespace-separated word as written, so
the subtitle timing works as it does for English.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from .. import languages
from .text import Token

_END = r"[.!?…。！？؟।॥]+"
# a sentence ends at its mark (and closing quotes) followed by a space, or at once after a
# full-width mark (Japanese and Chinese put no space between sentences)
_BOUNDARY = re.compile(rf"(?:{_END}[\"'”’»)\]」』）]*\s+|[。！？][」』）]*)")
_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "R$": "BRL"}
_PERCENT = {"es": "por ciento", "pt": "por cento", "fr": "pour cent", "de": "Prozent", "it": "per cento",
            "ja": "パーセント", "ar": "بالمئة", "he": "אחוז", "ru": "процентов", "nl": "procent", "pl": "procent",
            "tr": "yüzde"}
_NUMBER = re.compile(r"(R\$|[$€£¥₹])?(\d+(?:[.,]\d+)*)(\s?(?:R\$|[$€£¥₹%]))?")
_DECIMAL_COMMA = {"es", "pt", "fr", "de", "it", "nl", "pl", "ru", "tr"}  # 5,20 is five point two


def sentences(text: str, tag: str) -> list[str]:
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = re.sub(r"\s+", " ", para).strip()
        start = 0
        for m in _BOUNDARY.finditer(para):
            out.append(para[start:m.end()].strip())
            start = m.end()
        if para[start:].strip():
            out.append(para[start:].strip())
    return [s for s in out if re.search(r"\w", s)]


@lru_cache(maxsize=32)
def num2words_lang(tag: str) -> str | None:
    """num2words' name for the language ('pt-BR' -> 'pt_BR'), or None when it has none."""
    from num2words import CONVERTER_CLASSES

    lang = languages.base(tag)
    region = tag.split("-")[-1] if "-" in tag else ""
    for name in (f"{lang}_{region}", lang):
        if name in CONVERTER_CLASSES:
            return name
    return None


def _value(digits: str, tag: str) -> Decimal | None:
    """'1.234,5' (es) or '1,234.5' -> Decimal."""
    comma_decimal = languages.base(tag) in _DECIMAL_COMMA
    thousands, point = (".", ",") if comma_decimal else (",", ".")
    s = digits
    if re.fullmatch(rf"\d{{1,3}}(?:\{thousands}\d{{3}})+(?:\{point}\d+)?", s):
        s = s.replace(thousands, "")
    s = s.replace(point, ".")
    try:
        return Decimal(s) if s.count(".") <= 1 else None
    except InvalidOperation:
        return None


def _say_number(m: re.Match[str], tag: str, lang: str) -> str:
    from num2words import num2words

    pre, digits, post = m.group(1), m.group(2), (m.group(3) or "").strip()
    value = _value(digits, tag)
    if value is None:
        return m.group(0)
    symbol = pre or (post if post and post != "%" else None)
    if symbol:
        said = _money(value, lang, _CURRENCY[symbol])
        if said:
            return said
    words = str(num2words(value if value != value.to_integral() else int(value), lang=lang))
    if post == "%":
        words += " " + _PERCENT.get(languages.base(tag), "%")
    elif symbol:
        words += " " + symbol
    return words


def _money(value: Decimal, lang: str, code: str) -> str | None:
    """'5 dólares', '12 reais e 50 centavos'; None when num2words has no such currency in the language
    (then the amount is read, and the symbol left to the voice)."""
    from num2words import CONVERTER_CLASSES, num2words

    conv = CONVERTER_CLASSES[lang]
    # pt_BR's converter takes no currency argument: it speaks reais
    kwargs = {} if lang == "pt_BR" and code == "BRL" else {"currency": code}
    try:
        if value == value.to_integral() and kwargs:  # no "and zero cents"
            forms = conv.CURRENCY_FORMS[code][0]
            return f"{conv.to_cardinal(int(value))} {conv.pluralize(int(value), forms)}"
        return str(num2words(value.quantize(Decimal("0.01")), lang=lang, to="currency", **kwargs))
    except (NotImplementedError, KeyError, TypeError, AttributeError):
        return None


def speak(word: str, tag: str) -> str:
    """The spoken form of one written word in the language."""
    word = "".join(ch for ch in word if not _unspoken(ch))
    lang = num2words_lang(tag)
    if lang is None or not re.search(r"\d", word):
        return word
    try:
        return _NUMBER.sub(lambda m: _say_number(m, tag, lang), word)
    except (NotImplementedError, OverflowError, ValueError, ArithmeticError):
        return word  # a number this language's num2words cannot say: the voice reads the digits


def normalize_tokens(text: str, tag: str) -> list[Token]:
    """One Token per whitespace-separated word; amounts written as '5 €' stay two tokens, read as one."""
    raw = text.split()
    out: list[Token] = []
    i = 0
    while i < len(raw):
        tok = raw[i]
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if re.fullmatch(r"\d+(?:[.,]\d+)*", tok.rstrip(".,;:!?")) and nxt[:1] in ("€", "$", "£", "¥", "₹", "%"):
            tail = nxt[1:]
            out.append(Token(tok, speak(tok.rstrip(".,;:!?") + nxt[0], tag) + tail))
            out.append(Token(nxt, ""))
            i += 2
            continue
        if tok in _CURRENCY and re.match(r"\d", nxt):  # "R$ 12,50": the symbol is read with the amount
            out.append(Token(tok, speak(tok + nxt, tag)))
            out.append(Token(nxt, ""))
            i += 2
            continue
        out.append(Token(tok, speak(tok, tag)))
        i += 1
    return out


def _unspoken(ch: str) -> bool:
    """Emoji and other pictographs (and their joiners and variation selectors): nothing to say."""
    import unicodedata

    return unicodedata.category(ch) in ("So", "Sk", "Cs", "Co") or ch in "\u200d\ufe0e\ufe0f" or \
        0x1F3FB <= ord(ch) <= 0x1F3FF
