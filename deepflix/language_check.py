"""Can this film be made in its language? Asked before any work starts (``deepflix make``
and ``POST /api/movies``), so that a language no voice speaks fails in a line, not after
the pictures are drawn."""

from __future__ import annotations

from collections.abc import Iterable

from . import languages
from .errors import InvalidInput

# the story providers that write in any language the model knows
from .languages import LLM_STORY_PROVIDERS


def language_hint(tag: str) -> str:
    """Which speech providers can speak ``tag``: for error messages."""
    from .plugins import providers
    from .speech.base import SpeechProvider

    able = [cls.provider_id for cls in sorted(providers("speech").values(), key=lambda c: c.provider_id)
            if issubclass(cls, SpeechProvider) and cls.supports_language(tag)]
    return (f"use --speech-provider {' or '.join(able)}" if able
            else "no installed speech provider speaks it") + " (DEEPFLIX_SPEECH_PROVIDER)"


def story_voices(story: object | None) -> list[str]:
    """Every Voice.voice_id a story's speech will use ("default" for the provider's own)."""
    if story is None:
        return ["default"]
    narrator = getattr(story, "narrator").voice_id  # noqa: B009  (typed object: any story-shaped model)
    return [narrator, *(c.voice.voice_id for c in getattr(story, "characters"))]  # noqa: B009


def check_film_language(language: str, providers: dict[str, str], *, writes_story: bool,
                        voices: Iterable[str] = ("default",)) -> None:
    """Raise InvalidInput naming what to change when the chosen providers cannot make the
    film in ``language``. ``providers``: stage -> provider id (resolved)."""
    from .plugins import get_provider_class
    from .speech.base import SpeechProvider

    if languages.base(language) == "en":
        return
    name = languages.name(language)
    if writes_story:
        story_cls = get_provider_class("story", providers.get("story"))
        if not getattr(story_cls, "writes_any_language", False):
            raise InvalidInput(
                f"{story_cls.provider_id} writes English only, and the film is in {name} ({language}): use "
                f"--story-provider {' or '.join(LLM_STORY_PROVIDERS)} (DEEPFLIX_STORY_PROVIDER), or write the story "
                f"in {name} and make it with --story story.json")
    speech_cls = get_provider_class("speech", providers.get("speech"))
    if issubclass(speech_cls, SpeechProvider) and not speech_cls.supports_language(language, list(voices)):
        raise InvalidInput(f"{speech_cls.provider_id} has no {name} voice ({language}); {language_hint(language)}")
    from .cut.ffmpeg.fonts import font_path

    font_path("Regular", language)  # the script's font is installed (the 'lang' extra), or a clear error
