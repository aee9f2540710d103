"""Fonts for the film's script, all installed by pip, and only the glyphs they have.

Latin, Greek and Cyrillic keep Source Sans Pro (font-source-sans-pro); Devanagari
and Arabic are Noto Sans Devanagari and Noto Sans Arabic (fontpkg-noto-sans-*,
variable fonts set to the style's weight); Japanese, Chinese and Korean are Noto
Sans CJK (cvttf-notosanscjk-regular, one weight); Hebrew is Heebo (fontpkg-heebo).
All SIL OFL 1.1. Pillow lays
text out with libraqm (HarfBuzz shaping and the bidi algorithm), so Arabic letters
join and run right to left, Devanagari vowel signs sit where they belong, and the
CJK font gives Japanese its own glyph forms for ``language="ja"``.

A character the font has no glyph for (an emoji in a prompt) would be drawn as a
box: ``drawable`` drops it, by the font's own character map (fontTools).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from PIL import ImageFont, features

from ... import languages

_WEIGHTS = {"Light": 300, "LightIt": 300, "Regular": 400, "It": 400, "Semibold": 600, "SemiboldIt": 600,
            "Bold": 700, "BoldIt": 700}


def _package_file(package: str, *parts: str) -> Path:
    try:
        return Path(str(resources.files(package).joinpath(*parts)))
    except ModuleNotFoundError:
        from ...errors import InvalidInput

        raise InvalidInput(f"this script's font comes with the 'lang' extra ({package}): "
                           "pip install 'deepflix[lang]'") from None


def font_path(style: str, language: str = "en") -> Path:
    """The font file that draws ``language``'s script in ``style``."""
    script = languages.script(language) if language != "en" else "Latn"
    if script == "Deva":
        return _package_file("fontpkg_noto_sans_devanagari", "files", "NotoSansDevanagari[wdth,wght].ttf")
    if script == "Arab":
        return _package_file("fontpkg_noto_sans_arabic", "files", "NotoSansArabic[wdth,wght].ttf")
    if script == "Hebr":
        return _package_file("fontpkg_heebo", "files", "Heebo[wght].ttf")
    if script in ("Jpan", "Hans", "Hant", "Hani", "Kore", "Hang"):
        return _package_file("cvttf_NotoSansCJK_Regular", "NotoSansCJKtc-Regular.otf")
    return _package_file("font_source_sans_pro", "files", f"SourceSansPro-{style}.ttf")


@lru_cache(maxsize=64)
def script_font(style: str, size: int, language: str = "en") -> ImageFont.FreeTypeFont:
    path = font_path(style, language)
    fnt = ImageFont.truetype(str(path), size)
    if "[" in path.name:  # a variable font: the style's weight, full width
        axes = fnt.get_variation_axes()
        values = [float(_WEIGHTS.get(style, 400) if a["name"] == b"Weight" else a["maximum"] or 100) for a in axes]
        fnt.set_variation_by_axes(values)
    return fnt


@lru_cache(maxsize=16)
def _cmap(path: str) -> frozenset[int] | None:
    try:
        from fontTools.ttLib import TTFont
    except ModuleNotFoundError:  # without the 'lang' extra: text is drawn as given
        return None
    with TTFont(path, lazy=True) as tt:
        return frozenset(tt.getBestCmap())


def covers(fnt: ImageFont.FreeTypeFont, ch: str) -> bool:
    cmap = _cmap(str(fnt.path))
    return cmap is None or ord(ch) in cmap


def drawable(text: str, fnt: ImageFont.FreeTypeFont) -> str:
    """``text`` without the characters the font has no glyph for (emoji, another script):
    spaces and line breaks stay, bidi marks and joiners too (they draw nothing)."""
    cmap = _cmap(str(fnt.path))
    if cmap is None:
        return text
    kept = "".join(ch for ch in text if ord(ch) in cmap or ch in " \n" or unicodedata.category(ch) == "Cf")
    return " ".join(kept.split(" ")) if kept == text else " ".join(w for w in kept.split(" ") if w) or ""


def layout(language: str) -> dict[str, Any]:
    """draw.text's shaping arguments for the language: its direction and, for HarfBuzz's
    language-specific forms, its tag. Empty for English: the drawing stays as it was."""
    if language == "en" or not features.check("raqm"):
        return {}
    return {"direction": "rtl" if languages.is_rtl(language) else "ltr", "language": language}
