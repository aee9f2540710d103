"""The `deepflix` command. Thin: it parses, validates, shows progress, and maps
DeepFlixError to one line on stderr (exit 2 for bad input, 1 for a failed stage)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
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
STAGE_LABELS = {"story": "story", "picture": "pictures", "speech": "speech", "score": "score", "segment": "video", "cut": "cut"}


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


class _Bars:
    """Rich progress bars fed by pipeline StageEvents (called from worker threads)."""

    def __init__(self, progress: Progress) -> None:
        self.p = progress
        self.tasks: dict[str, int] = {}
        self.counts: dict[str, list[int]] = {}  # stage -> [done, cached]
        self.started: dict[str, float] = {}

    def __call__(self, ev: object) -> None:
        from .pipeline import StageEvent

        assert isinstance(ev, StageEvent)
        st = ev.stage
        if st not in self.tasks:
            self.tasks[st] = self.p.add_task(STAGE_LABELS[st], total=ev.total, status="")
            self.counts[st] = [0, 0]
            self.started[st] = time.perf_counter()
        task = self.tasks[st]
        if ev.status == "start":
            self.p.update(task, total=ev.total, status="running")
            self.p.start_task(task)
            return
        c = self.counts[st]
        c[0] += 1
        if ev.status == "cached":
            c[1] += 1
        took = time.perf_counter() - self.started[st]
        status = f"{c[1]} cached" if c[1] == c[0] else (f"{c[0] - c[1]} made, {c[1]} cached" if c[1] else "made")
        self.p.update(task, completed=c[0], status=f"{status} · {took:.1f}s" + (f" · {ev.message}" if ev.message else ""))


@app.command("make")
def make(
    prompt: Annotated[Optional[str], typer.Argument(help="What the film is about.")] = None,
    genre: Annotated[str, typer.Option("--genre", "-g", help="noir, sci-fi, fantasy, horror, comedy, romance, adventure, drama")] = "drama",
    scenes: Annotated[int, typer.Option("--scenes", "-n", help="Number of scenes (1-60).")] = 6,
    seed: Annotated[int, typer.Option(help="Same prompt + seed = same film.")] = 0,
    aspect: Annotated[str, typer.Option(help="16:9, 9:16 or 1:1")] = "16:9",
    resolution: Annotated[str, typer.Option(help="360p, 480p, 720p, 1080p or 2160p")] = "1080p",
    out_dir: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the film (default films/<title>).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo every stage, ignoring the cache.")] = False,
    story_file: Annotated[Optional[Path], typer.Option("--story", help="Make the film of this story JSON (e.g. an edited story.json).")] = None,
    story_provider: Annotated[Optional[str], typer.Option(help="Story provider (see `deepflix providers`).")] = None,
    picture_provider: Annotated[Optional[str], typer.Option(help="Picture provider.")] = None,
    speech_provider: Annotated[Optional[str], typer.Option(help="Speech provider.")] = None,
    score_provider: Annotated[Optional[str], typer.Option(help="Music provider.")] = None,
    no_burn: Annotated[bool, typer.Option("--no-burn-subtitles", help="Soft subtitles only.")] = False,
    steps: Annotated[int, typer.Option(help="Sampling steps (image models; the seed's steps).")] = 20,
    sampler: Annotated[str, typer.Option(help="Sampler (image models; the seed's sampler).")] = "euler",
    cfg_scale: Annotated[float, typer.Option(help="Guidance scale (image models; the seed's cfg_scale).")] = 7.0,
    picture_option: Annotated[Optional[list[str]], typer.Option(
        "--picture-option", help="KEY=VALUE for the picture provider's options (repeatable), e.g. steps=4, "
        "workflow=my_api.json, checkpoint=x.safetensors, width=512, height=512, scheduler=karras, timeout_s=900.")] = None,
) -> None:
    """Make a film from a prompt (or from a story JSON with --story)."""
    from .core import config
    from .models import MAX_SCENES, GenerationParams, StoryRequest
    from .pipeline import FilmOptions, check_out_dir, load_story_file, make_film

    story = None
    request = None
    if story_file is not None:
        story = load_story_file(story_file)
    else:
        if prompt is None or not prompt.strip():
            raise InvalidInput("the prompt is empty: say what the film is about, e.g. deepflix make \"a lighthouse keeper finds a message in a bottle\"")
        if not 1 <= scenes <= MAX_SCENES:
            raise InvalidInput(f"--scenes must be between 1 and {MAX_SCENES}; got {scenes}")
        if len(prompt) > 2000:
            raise InvalidInput(f"the prompt is {len(prompt)} characters; at most 2000")
        request = StoryRequest(prompt=prompt, genre=_genre(genre), num_scenes=scenes, seed=seed)  # type: ignore[arg-type]
    _choice("--aspect", aspect, ("16:9", "9:16", "1:1"))
    _choice("--resolution", resolution, ("360p", "480p", "720p", "1080p", "2160p"))
    if out_dir is not None:
        check_out_dir(out_dir)
    chosen = {k: v for k, v in (("story", story_provider), ("picture", picture_provider), ("speech", speech_provider), ("score", score_provider)) if v}
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
    )
    t0 = time.perf_counter()
    progress = Progress(
        TextColumn("[bold]{task.description:<9}"),
        BarColumn(bar_width=28),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=console,
        transient=False,
    )
    with progress:
        result = make_film(request, story=story, opts=opts, out_dir=out_dir, force=force, on_event=_Bars(progress))
    total = time.perf_counter() - t0

    table = Table(title=f"“{result.story.title}” — {len(result.story.scenes)} scenes, {sum(s.duration for s in result.story.scenes):.1f} s", show_edge=False)
    table.add_column("stage")
    table.add_column("made", justify="right")
    table.add_column("cached", justify="right")
    table.add_column("wall s", justify="right")
    for st in ("story", "picture", "speech", "score", "segment", "cut"):
        table.add_row(STAGE_LABELS[st], str(result.computed.get(st, 0)), str(result.cached.get(st, 0)), f"{result.stage_seconds.get(st, 0):.2f}")
    table.add_row("total", "", "", f"{total:.2f}")
    out.print(table)
    for label in ("movie", "srt", "vtt", "poster", "preview", "story", "manifest"):
        if label in result.files:
            out.print(f"{label:>8}: {result.files[label]}")
    out.print(f"edit {result.files['story']} and run `deepflix make --story {result.files['story']}` to remake only what changed")


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
    from .core import config
    from .plugins import STAGES, providers as list_providers

    for st in STAGES:
        chosen = config.settings.provider_for(st)
        for pid, cls in sorted(list_providers(st).items()):
            mark = "*" if pid == chosen else " "
            key = f" (needs {cls.key_env_var})" if cls.needs_key else ""
            out.print(f"{mark} {st:<8} {pid}{key}")


@app.command("contact-sheet")
def contact_sheet(
    film_dir: Annotated[Path, typer.Argument(help="A film folder (holds film.json).")],
    output: Annotated[Optional[Path], typer.Option("--out", "-o", help="PNG to write (default FILM_DIR/contact_sheet.png).")] = None,
) -> None:
    """Write a contact sheet PNG of a film's pictures (its storyboard)."""
    from .picture.contact_sheet import contact_sheet_for_film
    from .storage import open_store

    if not (film_dir / "film.json").exists():
        raise InvalidInput(f"{film_dir} holds no film.json: give the folder `deepflix make` printed")
    path = contact_sheet_for_film(film_dir, open_store(), out_png=output)
    out.print(str(path))


# sub-commands of the service stack (the `service` extra), by the module that registers them
SERVICE_COMMANDS = {"serve": "deepflix.api.cli", "keys": "deepflix.api.cli",
                    "worker": "deepflix.jobs.cli", "jobs": "deepflix.jobs.cli"}


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
        _fail(f"error: internal error ({type(exc).__name__}: {exc}); rerun with DEEPFLIX_RAISE_ERRORS=1 for details", 1)


if __name__ == "__main__":
    main()
