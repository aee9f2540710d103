"""Commands that show what is there: the providers of every stage, a film's contact sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InvalidInput
from .common import out


def providers() -> None:
    """List the providers of every stage."""
    from ..plugins import configured_provider, stages
    from ..plugins import providers as list_providers

    for st in stages():
        chosen = configured_provider(st)
        for pid, cls in sorted(list_providers(st).items()):
            mark = "*" if pid == chosen else " "
            key = f" (needs {cls.key_env_var})" if cls.needs_key else ""
            out.print(f"{mark} {st:<8} {pid}{key}")


def contact_sheet(
    film_dir: Annotated[Path, typer.Argument(help="A film folder (holds film.json).")],
    output: Annotated[Path | None, typer.Option("--out", "-o", help="PNG to write (default FILM_DIR/contact_sheet.png).")] = None,
) -> None:
    """Write a contact sheet PNG of a film's pictures (its storyboard)."""
    from ..picture.contact_sheet import contact_sheet_for_film
    from ..storage import open_store

    if not (film_dir / "film.json").exists():
        raise InvalidInput(f"{film_dir} holds no film.json: give the folder `deepflix make` printed")
    path = contact_sheet_for_film(film_dir, open_store(), out_png=output)
    out.print(str(path))
