"""The film's language: its BCP-47 tag, its script, and what follows from them.

One tag (``es``, ``pt-BR``, ``hi``, ``ja``, ``ar``...) travels with the story and
the requests built from it; this module answers what each stage asks of it:
the tag checked and written one way (``langcodes``), the script (Devanagari,
Arabic, Han and kana...), the direction, the ISO 639-2 code the MP4 wants, the
subtitle rules of Netflix's timed-text guide for that language, and our own
words on the credits. English is the default everywhere and keeps every rule it
had before.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import langcodes

LLM_STORY_PROVIDERS = ("anthropic/claude", "openai/chat")  # the story providers that write any language

DEFAULT = "en"
RTL_SCRIPTS = frozenset({"Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm"})
# scripts written without spaces between words: lines break between characters
UNSPACED_SCRIPTS = frozenset({"Jpan", "Hans", "Hant", "Hani", "Thai", "Khmr", "Laoo", "Mymr"})
NAMES = {  # for messages; langcodes' display names need another data package
    "en": "English", "es": "Spanish", "pt": "Portuguese", "fr": "French", "de": "German", "it": "Italian",
    "hi": "Hindi", "ja": "Japanese", "zh": "Chinese", "ar": "Arabic", "he": "Hebrew", "ko": "Korean",
    "ru": "Russian", "nl": "Dutch", "pl": "Polish", "tr": "Turkish",
}


def normalize_tag(tag: str) -> str:
    """The tag in its standard form ('pt-br' -> 'pt-BR', 'iw' -> 'he'); ValueError for anything else."""
    raw = (tag or "").strip().replace("_", "-")
    try:
        if not raw or not langcodes.tag_is_valid(raw):
            raise ValueError
        lang = langcodes.Language.get(raw)
        lang.to_alpha3()  # raises for a well-formed tag of no known language ('xx')
    except (ValueError, LookupError):
        raise ValueError(f"language {tag!r} is not a known BCP-47 language tag (e.g. en, es, pt-BR, hi, ja, zh, ar)") from None
    return langcodes.standardize_tag(raw)


@lru_cache(maxsize=64)
def _lang(tag: str) -> langcodes.Language:
    return langcodes.Language.get(tag)


def base(tag: str) -> str:
    """The language alone: 'pt-BR' -> 'pt'."""
    return _lang(tag).language or DEFAULT


def script(tag: str) -> str:
    """ISO 15924 script: 'Latn', 'Deva', 'Jpan', 'Hans', 'Arab'... (the likely one when the tag names none)."""
    return _lang(tag).maximize().script or "Latn"


def is_rtl(tag: str) -> bool:
    return script(tag) in RTL_SCRIPTS


def unspaced(tag: str) -> bool:
    return script(tag) in UNSPACED_SCRIPTS


def iso639_2(tag: str) -> str:
    """The three-letter code an MP4 track carries ('ja' -> 'jpn', 'fr' -> 'fra')."""
    return _lang(tag).to_alpha3()


def name(tag: str) -> str:
    return NAMES.get(base(tag), tag)


# --------------------------------------------------------------------------- subtitles


@dataclass(frozen=True)
class SubtitleRules:
    """Netflix timed-text rules for one language (adult programmes)."""

    max_line: int  # characters per line (full-width ones for Japanese and Chinese)
    max_cps: float  # reading speed, characters a second
    unspaced: bool = False  # no spaces between words: break between characters
    rtl: bool = False


# English keeps this project's 42 / 20 (Netflix's English guide); the others follow each
# language's own guide: 42 characters and 17 a second for the European languages and
# Arabic and Hebrew, 13 full-width characters and 4 a second for Japanese, 16 and 9 for
# Chinese, 16 and 12 for Korean; Hindi 42 and 22 (its combining vowel signs count).
_RULES = {
    "en": (42, 20.0), "es": (42, 17.0), "pt": (42, 17.0), "fr": (42, 17.0), "de": (42, 17.0), "it": (42, 17.0),
    "nl": (42, 17.0), "pl": (42, 17.0), "tr": (42, 17.0), "ru": (42, 17.0), "ar": (42, 17.0), "he": (42, 17.0),
    "hi": (42, 22.0), "ja": (13, 4.0), "zh": (16, 9.0), "ko": (16, 12.0),
}


def subtitle_rules(tag: str = DEFAULT) -> SubtitleRules:
    max_line, cps = _RULES.get(base(tag), (42, 17.0))
    return SubtitleRules(max_line, cps, unspaced=unspaced(tag), rtl=is_rtl(tag))


# --------------------------------------------------------------------------- our words

_LABELS: dict[str, dict[str, str]] = {
    "en": {"story": "Story", "picture": "Pictures", "speech": "Voices", "score": "Music", "cut": "Cut",
           "made": "Made with DeepFlix"},
    "es": {"story": "Historia", "picture": "Imágenes", "speech": "Voces", "score": "Música", "cut": "Montaje",
           "made": "Hecho con DeepFlix"},
    "pt": {"story": "História", "picture": "Imagens", "speech": "Vozes", "score": "Música", "cut": "Montagem",
           "made": "Feito com DeepFlix"},
    "fr": {"story": "Histoire", "picture": "Images", "speech": "Voix", "score": "Musique", "cut": "Montage",
           "made": "Réalisé avec DeepFlix"},
    "de": {"story": "Geschichte", "picture": "Bilder", "speech": "Stimmen", "score": "Musik", "cut": "Schnitt",
           "made": "Gemacht mit DeepFlix"},
    "it": {"story": "Storia", "picture": "Immagini", "speech": "Voci", "score": "Musica", "cut": "Montaggio",
           "made": "Realizzato con DeepFlix"},
    "hi": {"story": "कहानी", "picture": "चित्र", "speech": "आवाज़ें", "score": "संगीत", "cut": "संपादन",
           "made": "DeepFlix से बनाई गई"},
    "ja": {"story": "物語", "picture": "絵", "speech": "声", "score": "音楽", "cut": "編集",
           "made": "DeepFlixで制作"},
    "zh": {"story": "故事", "picture": "画面", "speech": "配音", "score": "音乐", "cut": "剪辑",
           "made": "由DeepFlix制作"},
    "ar": {"story": "القصة", "picture": "الصور", "speech": "الأصوات", "score": "الموسيقى", "cut": "المونتاج",
           "made": "صُنع باستخدام DeepFlix"},
    "he": {"story": "סיפור", "picture": "תמונות", "speech": "קולות", "score": "מוזיקה", "cut": "עריכה",
           "made": "נוצר עם DeepFlix"},
}


def labels(tag: str = DEFAULT) -> dict[str, str]:
    """Our words on the credits in the film's language (English where we have no table)."""
    return _LABELS.get(base(tag), _LABELS["en"])


# --------------------------------------------------------------------------- is it written in it?

_RANGES = {
    "Deva": ((0x0900, 0x097F),), "Hebr": ((0x0590, 0x05FF),), "Cyrl": ((0x0400, 0x04FF),), "Grek": ((0x0370, 0x03FF),),
    "Arab": ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    "Thai": ((0x0E00, 0x0E7F),), "Hang": ((0xAC00, 0xD7AF), (0x1100, 0x11FF)), "Kore": ((0xAC00, 0xD7AF),),
    "Hans": ((0x4E00, 0x9FFF), (0x3400, 0x4DBF)), "Hant": ((0x4E00, 0x9FFF), (0x3400, 0x4DBF)),
    "Jpan": ((0x3040, 0x30FF), (0x4E00, 0x9FFF), (0x3400, 0x4DBF)),
}
_KANA = ((0x3040, 0x30FF),)
# the commonest short words: enough to tell a paragraph in one of these from one in English
_STOPWORDS = {
    "en": "the and of to a in is was he she it that with his her for on as at they but".split(),
    "es": "el la los las de y en que un una es por con para del se su al lo como pero".split(),
    "pt": "o a os as de e em que um uma é por com para do da se seu no na mas não".split(),
    "fr": "le la les de et en que un une est pour avec dans du des se son sur il elle pas".split(),
    "de": "der die das und in zu den von mit ist sich nicht ein eine auf für sie er es im".split(),
    "it": "il la le di e in che un una è per con del della si suo non ma lo gli".split(),
}


def _in(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(a <= ord(ch) <= b for a, b in ranges)


def looks_written_in(text: str, tag: str) -> bool:
    """A light check that ``text`` is in the language: its script's letters make most of the
    letters (and Japanese has kana), or, for Latin-script languages with a word list, its
    common words outnumber English ones. Unknown Latin languages pass on script alone."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return True
    sc = script(tag)
    if sc in _RANGES:
        share = sum(_in(ch, _RANGES[sc]) for ch in letters) / len(letters)
        if sc == "Jpan" and not any(_in(ch, _KANA) for ch in letters):
            return False  # Chinese, not Japanese
        if sc in ("Hans", "Hant") and sum(_in(ch, _KANA) for ch in letters) > 0.05 * len(letters):
            return False  # Japanese, not Chinese
        return share >= 0.6
    latin = sum(ch.isascii() or 0x00C0 <= ord(ch) <= 0x024F for ch in letters) / len(letters)
    lang = base(tag)
    if latin < 0.8 or lang not in _STOPWORDS or lang == "en":
        return latin >= 0.8 if sc == "Latn" else True
    words = [w.strip(".,;:!?¡¿\"'()«»“”").lower() for w in text.split()]
    mine = sum(w in _STOPWORDS[lang] for w in words)
    english = sum(w in _STOPWORDS["en"] for w in words)
    return mine > english
