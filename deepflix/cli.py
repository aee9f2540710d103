"""The `deepflix` command. Thin: it parses, validates, shows progress, and maps
DeepFlixError to one line on stderr (exit 2 for bad input, 1 for a failed stage)."""

from __future__ import annotations

import errno
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .errors import DeepFlixError, InvalidInput, UnknownProviderError

app = typer.Typer(
    name="deepflix",
    help="Turn a text prompt into a finished, narrated short film.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out = Console()

GENRE_ALIASES = {"scifi": "sci-fi", "sci fi": "sci-fi", "science fiction": "sci-fi", "romantic": "romance"}


def _genre(value: str) -> str:
    from .models import GENRES

    g = GENRE_ALIASES.get(value.strip().lower(), value.strip().lower())
    if g not in GENRES:
        raise InvalidInput(f"unknown genre {value!r}; choose one of: {', '.join(GENRES)}")
    return g


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _portraits(specs: list[str]) -> dict[str, object]:
    """--cast NAME=FILE, checked and stored before any work."""
    from .pipeline.uploads import import_portrait, read_portrait_file
    from .storage import open_store

    out: dict[str, object] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise InvalidInput(f"--cast takes NAME=FILE (e.g. --cast \"Nadia=nadia.png\"); got {spec!r}")
        out[name.strip()] = import_portrait(open_store(), read_portrait_file(Path(path.strip())),
                                            what=f"the portrait of {name.strip()!r}")
    return out


@app.command("make")
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
    from .core import config
    from .handoff import commands as handoff
    from .models import MAX_SCENES, GenerationParams, StoryRequest
    from .pipeline import FilmOptions, check_out_dir, load_story_file, make_film

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
        from .languages import normalize_tag

        try:
            language = normalize_tag(language)
        except ValueError as exc:
            raise InvalidInput(f"--language: {exc}") from None
        request = StoryRequest(prompt=prompt, genre=_genre(genre), num_scenes=scenes, seed=seed,  # type: ignore[arg-type]
                               language=language)
    _choice("--aspect", aspect, ("16:9", "9:16", "1:1"))
    _choice("--resolution", resolution, ("360p", "480p", "720p", "1080p", "2160p"))
    clip_choice = _clips(clips)
    portraits = _portraits(cast or [])
    if story is not None and portraits:  # names checked before any work when the story is known
        from .pipeline.film import with_portraits

        story, portraits = with_portraits(story, portraits), {}  # type: ignore[arg-type]
    if out_dir is not None:
        check_out_dir(out_dir)
    chosen = {k: v for k, v in (("story", story_provider), ("picture", picture_provider), ("speech", speech_provider),
                                ("score", score_provider), ("clip", clip_provider)) if v}
    picture_options = _provider_options(picture_option or [])
    if picture_options:  # a bad option fails now, before any stage runs
        from .plugins import get_provider

        get_provider("picture", chosen.get("picture") or config.settings.provider_for("picture"), picture_options)
    try:
        params = GenerationParams(seed=story.seed if story else seed, sampler=sampler, steps=steps, cfg_scale=cfg_scale)  # type: ignore[arg-type]
    except ValueError as exc:
        raise InvalidInput(f"--steps/--sampler/--cfg-scale: {exc}") from exc
    opts = FilmOptions(
        aspect=aspect,  # type: ignore[arg-type]
        resolution=resolution,  # type: ignore[arg-type]
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
        from .pipeline.film import make_story

        path = make_story(request, opts=opts, out_dir=out_dir, force=force)
        look = "".join(f" --{k} {v}" for k, v, d in (("aspect", aspect, "16:9"), ("resolution", resolution, "1080p")) if v != d)
        out.print(f"story: {path}", soft_wrap=True)
        out.print(f"read and edit it, then continue with: deepflix make --story {path}{look}", soft_wrap=True)
        return
    t0 = time.perf_counter()
    from .progress import bars

    with bars(console) as on_event:
        result = make_film(request, story=story, opts=opts, out_dir=out_dir, force=force, on_event=on_event,
                           portraits=portraits)
    total = time.perf_counter() - t0

    table = Table(title=f"“{result.story.title}” — {len(result.story.scenes)} scenes, {sum(s.duration for s in result.story.scenes):.1f} s", show_edge=False)
    table.add_column("stage")
    table.add_column("made", justify="right")
    table.add_column("cached", justify="right")
    table.add_column("wall s", justify="right")
    from .film.plan import current

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
    from .models import MAX_SCENES

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


@app.command("providers")
def providers() -> None:
    """List the providers of every stage."""
    from .plugins import configured_provider, stages
    from .plugins import providers as list_providers

    for st in stages():
        chosen = configured_provider(st)
        for pid, cls in sorted(list_providers(st).items()):
            mark = "*" if pid == chosen else " "
            key = f" (needs {cls.key_env_var})" if cls.needs_key else ""
            out.print(f"{mark} {st:<8} {pid}{key}")


@app.command("contact-sheet")
def contact_sheet(
    film_dir: Annotated[Path, typer.Argument(help="A film folder (holds film.json).")],
    output: Annotated[Path | None, typer.Option("--out", "-o", help="PNG to write (default FILM_DIR/contact_sheet.png).")] = None,
) -> None:
    """Write a contact sheet PNG of a film's pictures (its storyboard)."""
    from .picture.contact_sheet import contact_sheet_for_film
    from .storage import open_store

    if not (film_dir / "film.json").exists():
        raise InvalidInput(f"{film_dir} holds no film.json: give the folder `deepflix make` printed")
    path = contact_sheet_for_film(film_dir, open_store(), out_png=output)
    out.print(str(path))


from .handoff.commands import register as _register_handoff  # noqa: E402  (export, mcp)

_register_handoff(app)

# sub-commands of the service stack (the `service` extra), by the module that registers them
SERVICE_COMMANDS = {"serve": "deepflix.api.cli", "keys": "deepflix.api.cli",
                    "worker": "deepflix.service.cli", "jobs": "deepflix.service.cli"}


# --- quality (issue 24): the story consistency checker and the film QA report -----------------
@app.command("check-story")
def check_story_cmd(file: Annotated[Path, typer.Argument(help="a story.json (or a film.json manifest)")]) -> None:
    """List the contradictions in a story; exit 1 when there are any, 0 when it is clean."""
    from .pipeline import load_story_file
    from .quality.consistency import check_story

    findings = check_story(load_story_file(file))
    for f in findings:
        out.print(str(f), markup=False, highlight=False, soft_wrap=True)
    if findings:
        console.print(f"{len(findings)} contradiction(s)")
        sys.exit(1)  # not typer.Exit: main() runs the app with standalone_mode=False, which returns its code
    out.print("no contradictions found")


def _write_qa(film_dir: Path, target_lufs: float) -> None:
    from .quality.qa import hearing_by_default, run_qa
    from .storage import open_store

    try:
        # by ear only when asked: loading the speech model costs seconds on every make; the
        # picture a segment at a time from the store, so an edit decodes only what it re-encoded
        report = run_qa(film_dir, target_lufs=target_lufs, hearing=hearing_by_default() or False,
                        store=open_store())
    except Exception as exc:  # the film is made; a QA fault must not fail the command
        console.print(f"qa: not measured ({type(exc).__name__}: {exc})")
        return
    failed = [c["name"] for c in report["checks"] if not c["passed"]]
    out.print(f"      qa: {film_dir / 'qa.json'} " + ("(every check passed)" if not failed else f"(failed: {', '.join(failed)})"))


@app.command("qa")
def qa_cmd(
    film_dir: Annotated[Path, typer.Argument(help="a film folder (movie.mp4, movie.srt, story.json)")],
    target: Annotated[float, typer.Option(help="the integrated loudness the film should have, LUFS")] = -16.0,
    hearing: Annotated[bool | None, typer.Option("--hearing/--no-hearing",
                                                    help="speech by ear (default: when the qa extra is installed)")] = None,
) -> None:
    """Measure a finished film, write qa.json beside it; exit 1 when a check fails."""
    from .quality.qa import run_qa

    report = run_qa(film_dir, target_lufs=target, hearing=hearing)
    for c in report["checks"]:
        out.print(f"{'pass' if c['passed'] else 'FAIL'}  {c['name']:<24} {c['value']!s:<10} {c['threshold']}",
                  markup=False, highlight=False)
    out.print(f"wrote {Path(film_dir) / 'qa.json'}")
    if not report["passed"]:
        sys.exit(1)


# --- end quality ---------------------------------------------------------------------------------


def _mount_optional(argv: list[str]) -> None:
    """Mount the service sub-commands when they are asked for (or for --help):
    importing the service stack costs seconds that `deepflix make` should not pay."""
    first = next((a for a in argv if not a.startswith("-")), None)
    if first in SERVICE_COMMANDS:
        modules = [SERVICE_COMMANDS[first]]
    elif first is None or first not in {c.name for c in app.registered_commands if c.name}:
        modules = sorted(set(SERVICE_COMMANDS.values()))
    else:
        modules = []
    for module in modules:
        try:
            mod = __import__(module, fromlist=["register"])
        except ModuleNotFoundError:
            continue  # the `service` extra is not installed
        register = getattr(mod, "register", None)
        if register is not None:
            register(app)


def _fail(message: str, code: int) -> None:
    """One line on stderr, never wrapped, then exit."""
    print(" ".join(message.split()), file=sys.stderr)
    sys.exit(code)


def main() -> None:
    """Entry point: one clear line for errors, never a traceback."""
    _mount_optional(sys.argv[1:])
    try:
        app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _fail("aborted", 130)
    except typer.TyperException as exc:  # usage errors: bad option values, missing arguments
        msg = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        _fail(f"error: {msg}", getattr(exc, "exit_code", 2) or 2)
    except (InvalidInput, UnknownProviderError) as exc:
        _fail(f"error: {exc}", 2)
    except DeepFlixError as exc:
        if os.environ.get("DEEPFLIX_RAISE_ERRORS"):
            raise
        _fail(f"error: {exc}", 1)
    except KeyboardInterrupt:
        _fail("interrupted: finished stages are kept; run the same command to resume", 130)
    except Exception as exc:  # a bug: say so in one line; DEEPFLIX_RAISE_ERRORS=1 shows the traceback
        if os.environ.get("DEEPFLIX_RAISE_ERRORS"):
            raise
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):  # not a bug: a full disk
            where = f" writing {exc.filename}" if exc.filename else ""
            _fail(f"error: no space left on the disk{where}; free some space and run the same command again "
                  "(finished stages are kept)", 2)
        _fail(f"error: internal error ({type(exc).__name__}: {exc}); rerun with DEEPFLIX_RAISE_ERRORS=1 for details", 1)


if __name__ == "__main__":
    main()
