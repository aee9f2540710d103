"""`deepflix make`: a film from a prompt, a story JSON, a screenplay, prose or a batch."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ..errors import InvalidInput
from .common import _choice, _genre, console, out
from .quality import _write_qa

if TYPE_CHECKING:
    from ..models import ArtifactRef


def _portraits(specs: list[str]) -> dict[str, ArtifactRef]:
    """--cast NAME=FILE, checked and stored before any work."""
    from ..pipeline.uploads import import_portrait, read_portrait_file
    from ..storage import open_store

    out: dict[str, ArtifactRef] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise InvalidInput(f"--cast takes NAME=FILE (e.g. --cast \"Nadia=nadia.png\"); got {spec!r}")
        out[name.strip()] = import_portrait(open_store(), read_portrait_file(Path(path.strip())),
                                            what=f"the portrait of {name.strip()!r}")
    return out


def make(
    prompt: Annotated[str | None, typer.Argument(help="What the film is about.")] = None,
    genre: Annotated[str, typer.Option("--genre", "-g", help="noir, sci-fi, fantasy, horror, comedy, romance, adventure, drama")] = "drama",
    scenes: Annotated[int, typer.Option("--scenes", "-n", help="Number of scenes (1-60).")] = 6,
    seed: Annotated[int, typer.Option(help="Same prompt + seed = same film.")] = 0,
    aspect: Annotated[str, typer.Option(help="16:9, 9:16 or 1:1")] = "16:9",
    resolution: Annotated[str, typer.Option(help="360p, 480p, 720p, 1080p or 2160p")] = "1080p",
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the film (default films/<title>).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo every stage, ignoring the cache.")] = False,
    story_file: Annotated[Path | None, typer.Option("--story", help="Make the film of this story JSON (e.g. an edited story.json).")] = None,
    story_provider: Annotated[str | None, typer.Option(help="Story provider (see `deepflix providers`).")] = None,
    picture_provider: Annotated[str | None, typer.Option(help="Picture provider.")] = None,
    speech_provider: Annotated[str | None, typer.Option(help="Speech provider.")] = None,
    score_provider: Annotated[str | None, typer.Option(help="Music provider.")] = None,
    no_burn: Annotated[bool, typer.Option("--no-burn-subtitles", help="Soft subtitles only.")] = False,
    cast: Annotated[list[str] | None, typer.Option("--cast", help="NAME=portrait.png: a character's portrait, used instead of drawing one (repeatable).")] = None,
    review: Annotated[bool, typer.Option("--review", help="Stop after the story: edit it, then continue with --story.")] = False,
    screenplay: Annotated[Path | None, typer.Option("--screenplay", help="Make the film of this Fountain screenplay (no LLM).")] = None,
    from_text: Annotated[Path | None, typer.Option("--from-text", help="Make the film of this prose (a chapter, a short story), told in chunks.")] = None,
    batch: Annotated[Path | None, typer.Option("--batch", help="Make many films: one prompt a line, or JSON Lines with per-film options.")] = None,
    server: Annotated[str | None, typer.Option("--server", help="With --batch: submit the films to this DeepFlix service (URL).")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="DEEPFLIX_API_KEY", help="With --server: the service API key.")] = None,
    language: Annotated[str, typer.Option("--language", "-l", help="The film's language, a BCP-47 tag: en, es, pt-BR, fr, de, hi, ja, zh, ar...")] = "en",
    steps: Annotated[int, typer.Option(help="Sampling steps (image models; the seed's steps).")] = 20,
    sampler: Annotated[str, typer.Option(help="Sampler (image models; the seed's sampler).")] = "euler",
    cfg_scale: Annotated[float, typer.Option(help="Guidance scale (image models; the seed's cfg_scale).")] = 7.0,
    clips: Annotated[str | None, typer.Option("--clips", help="Scenes made as generated motion (image-to-video): none, all, "
                                              "or N (the N with the most action). Default: those the story marks motion: clip.")] = None,
    clip_provider: Annotated[str | None, typer.Option(help="Clip (image-to-video) provider.")] = None,
    strict_clips: Annotated[bool, typer.Option("--strict-clips", help="Fail the film when a clip fails (default: that scene is its still).")] = False,
    picture_option: Annotated[list[str] | None, typer.Option(
        "--picture-option", help="KEY=VALUE for the picture provider's options (repeatable), e.g. steps=4, "
        "workflow=my_api.json, checkpoint=x.safetensors, width=512, height=512, scheduler=karras, timeout_s=900.")] = None,
) -> None:
    """Make a film from a prompt (or from a story JSON with --story)."""
    from ..core import config
    from ..handoff import commands as handoff
    from ..models import MAX_SCENES, GenerationParams, StoryRequest
    from ..pipeline import FilmOptions, check_out_dir, load_story_file, make_film

    if batch is not None:  # films in turn, each with its own folder under --out (default films/)
        handoff.make_batch(batch, out_dir or Path("films"), server, api_key, {
            "genre": _genre(genre), "scenes": scenes, "seed": seed, "aspect": aspect, "resolution": resolution})
        return
    story = None
    request = None
    if screenplay is not None or from_text is not None:
        story = handoff.story_from_inputs(screenplay, from_text, _genre(genre), scenes, seed, story_provider)
    elif story_file is not None:
        story = load_story_file(story_file)
    else:
        if prompt is None or not prompt.strip():
            raise InvalidInput("the prompt is empty: say what the film is about, e.g. deepflix make \"a lighthouse keeper finds a message in a bottle\"")
        if not 1 <= scenes <= MAX_SCENES:
            raise InvalidInput(f"--scenes must be between 1 and {MAX_SCENES}; got {scenes}")
        if len(prompt) > 2000:
            raise InvalidInput(f"the prompt is {len(prompt)} characters; at most 2000")
        from ..languages import normalize_tag

        try:
            language = normalize_tag(language)
        except ValueError as exc:
            raise InvalidInput(f"--language: {exc}") from None
        request = StoryRequest(prompt=prompt, genre=_genre(genre), num_scenes=scenes, seed=seed,
                               language=language)
    _choice("--aspect", aspect, ("16:9", "9:16", "1:1"))
    _choice("--resolution", resolution, ("360p", "480p", "720p", "1080p", "2160p"))
    clip_choice = _clips(clips)
    portraits = _portraits(cast or [])
    if story is not None and portraits:  # names checked before any work when the story is known
        from ..pipeline.film import with_portraits

        story, portraits = with_portraits(story, portraits), {}
    if out_dir is not None:
        check_out_dir(out_dir)
    chosen = {k: v for k, v in (("story", story_provider), ("picture", picture_provider), ("speech", speech_provider),
                                ("score", score_provider), ("clip", clip_provider)) if v}
    picture_options = _provider_options(picture_option or [])
    if picture_options:  # a bad option fails now, before any stage runs
        from ..plugins import get_provider

        get_provider("picture", chosen.get("picture") or config.settings.provider_for("picture"), picture_options)
    try:
        params = GenerationParams(seed=story.seed if story else seed, sampler=sampler, steps=steps, cfg_scale=cfg_scale)
    except ValueError as exc:
        raise InvalidInput(f"--steps/--sampler/--cfg-scale: {exc}") from exc
    opts = FilmOptions(
        aspect=aspect,
        resolution=resolution,
        params=params,
        loudness_lufs=config.settings.deepflix_loudness_lufs,
        burn_subtitles=not no_burn,
        providers=chosen,
        provider_options={"picture": picture_options} if picture_options else {},
        clips=clip_choice,
        strict_clips=strict_clips,
    )
    if review:  # review before render: the story only, and the command that makes the rest
        if request is None:
            raise InvalidInput("--review stops after the story, and --story gives one already: leave one of them out")
        from ..pipeline.film import make_story

        path = make_story(request, opts=opts, out_dir=out_dir, force=force)
        look = "".join(f" --{k} {v}" for k, v, d in (("aspect", aspect, "16:9"), ("resolution", resolution, "1080p")) if v != d)
        out.print(f"story: {path}", soft_wrap=True)
        out.print(f"read and edit it, then continue with: deepflix make --story {path}{look}", soft_wrap=True)
        return
    t0 = time.perf_counter()
    from ..progress import bars

    with bars(console) as on_event:
        result = make_film(request, story=story, opts=opts, out_dir=out_dir, force=force, on_event=on_event,
                           portraits=portraits)
    total = time.perf_counter() - t0

    table = Table(title=f"“{result.story.title}” — {len(result.story.scenes)} scenes, {sum(s.duration for s in result.story.scenes):.1f} s", show_edge=False)
    table.add_column("stage")
    table.add_column("made", justify="right")
    table.add_column("cached", justify="right")
    table.add_column("wall s", justify="right")
    from ..film.plan import current

    for spec in current():
        st = spec.name
        if spec.when is not None and not (result.computed.get(st) or result.cached.get(st)
                                       or any(w["stage"] == st for w in result.warnings)):
            continue  # a stage only some scenes have (clips), which this film has none of
        table.add_row(spec.label.lower(), str(result.computed.get(st, 0)), str(result.cached.get(st, 0)), f"{result.stage_seconds.get(st, 0):.2f}")
    table.add_row("total", "", "", f"{total:.2f}")
    out.print(table)
    for label in ("movie", "srt", "vtt", "poster", "preview", "story", "manifest"):
        if label in result.files:
            out.print(f"{label:>8}: {result.files[label]}")
    for w in result.warnings:  # rows the film went on without (a clip that failed is its still)
        console.print(f"[yellow]warning[/yellow]: {w['message']}", soft_wrap=True, highlight=False, markup=True)
    out.print(f"edit {result.files['story']} and run `deepflix make --story {result.files['story']}` to remake only what changed")
    _write_qa(result.files["movie"].parent, opts.loudness_lufs)  # quality (issue 24): qa.json beside every film


def _clips(value: str | None) -> str | int | None:
    """--clips none|all|N."""
    if value is None or value.strip().lower() in ("none", "all"):
        return value.strip().lower() if value else None
    from ..models import MAX_SCENES

    if value.strip().isdigit() and 1 <= int(value) <= MAX_SCENES:
        return int(value)
    raise InvalidInput(f"--clips takes none, all or a number of scenes (1 to {MAX_SCENES}); got {value!r}")


def _provider_options(pairs: list[str]) -> dict[str, object]:
    """KEY=VALUE pairs; a value is read as JSON when it is JSON (numbers, true, null), else kept as text."""
    import json

    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--picture-option wants KEY=VALUE; got {pair!r}")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out
