"""A submission, validated once into a FilmSpec (deepflix/film/spec.py): the fields of
the seed's POST /api/movies body (or the CLI's, a test's), the providers resolved, the
language and the clips checked against them. Bad input raises InvalidInput naming the
field, before anything is written."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from .. import plugins
from ..core import config
from ..errors import InvalidInput, UnknownProviderError
from ..film.clips import check_clip_provider
from ..film.spec import FilmSpec
from ..language_check import check_film_language, story_voices  # a language no voice speaks: refused now
from ..models import Story


def first_error(exc: ValidationError, within: str = "") -> str:
    """The first bad field and why, in one line (``within``: the field it was read from)."""
    err = exc.errors()[0]
    where = ".".join([within] * bool(within) + [str(p) for p in err.get("loc", ())]) or "request"
    return f"{where}: {err.get('msg')} (got {err.get('input')!r})"[:300]


def spec_of(
    *,
    prompt: str,
    genre: str = "drama",
    num_sequences: int = 6,
    seed: int = 0,
    sampler: str = "euler",
    steps: int = 20,
    cfg_scale: float = 7.0,
    aspect: str = "16:9",
    resolution: str = "1080p",
    priority: str = "normal",
    providers: dict[str, str] | None = None,
    language: str = "en",
    story: Story | None = None,
    review: str | None = None,
    provider_options: dict[str, dict[str, Any]] | None = None,
    clips: str | int | None = None,
    strict: bool = False,
) -> FilmSpec:
    """The film these fields ask for. ``story`` (a story a person wrote or edited) sets the
    scene count; ``review`` ("story" or "pictures") stops the film after that stage;
    ``provider_options`` (stage -> that provider's Options) go to its provider on every
    worker; ``clips`` (none, all, N) the scenes made as clips, ``strict`` fails the film
    when one fails (else that scene is its still). Raises InvalidInput."""
    look = {"seed": seed, "sampler": sampler, "steps": steps, "cfg_scale": cfg_scale}
    try:
        spec = FilmSpec.model_validate({
            "prompt": prompt, "genre": genre, "num_sequences": len(story.scenes) if story else num_sequences,
            **look, "aspect": aspect, "resolution": resolution, "priority": priority,
            "story": {"prompt": prompt, "genre": genre, "num_scenes": num_sequences, "seed": seed, "language": language},
            "picture_options": (provider_options or {}).get("picture") or None, "review": review,
            "options": {"aspect": aspect, "resolution": resolution, "params": look,
                        "loudness_lufs": config.settings.deepflix_loudness_lufs,
                        "providers": plugins.resolve_providers(providers), "clips": clips, "strict_clips": strict,
                        "provider_options": provider_options or {}},
        })
    except ValidationError as exc:
        raise InvalidInput(first_error(exc)) from exc
    chosen = dict(spec.options.providers)
    check_film_language(story.language if story else spec.story.language, chosen, writes_story=story is None,
                        voices=story_voices(story))
    check_clip_provider(spec.options, chosen)
    return spec


def check_provider(stage: str, name: str) -> None:
    """UnknownProviderError unless a provider with that full id is registered for the
    stage (the API takes full ids only, the ones its spec lists)."""
    known = plugins.providers(stage)
    if name not in known:
        raise UnknownProviderError(f"no {stage} provider named {name!r}; installed: {', '.join(sorted(known)) or 'none'}")


def provider_ids() -> dict[str, list[str]]:
    """Every stage's installed provider ids (the API's spec lists them)."""
    return {st: sorted(plugins.providers(st)) for st in plugins.stages()}
