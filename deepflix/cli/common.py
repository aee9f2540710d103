"""What every command shares: the typer app, the two consoles (progress and errors on
stderr, results on stdout) and the checks of options several commands take."""

from __future__ import annotations

import typer
from rich.console import Console

from ..errors import InvalidInput

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
    from ..models import GENRES

    g = GENRE_ALIASES.get(value.strip().lower(), value.strip().lower())
    if g not in GENRES:
        raise InvalidInput(f"unknown genre {value!r}; choose one of: {', '.join(GENRES)}")
    return g


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value
