"""`deepflix jobs show / list / cancel / retry / delete`: a film as the API shows it
(MoviePublic, JSON), read and changed through the movie service, for operators on a
machine with the database (DATABASE_URL). Mounted with the job system's own commands
(`deepflix worker`, `deepflix jobs stats`, ...) by deepflix/cli.py through ``register``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..db import migrate
from ..errors import InvalidInput
from ..jobs import cli as jobs_cli
from ..jobs.errors import JobStateError
from . import movies
from .public import movie_public
from .schemas import JobStatus

User = Annotated[str | None, typer.Option("--user", help="the film's owner (default: whoever owns it)")]
MovieIdArg = Annotated[str, typer.Argument(help="the film's id (POST /api/movies answered it)")]


def _owner(movie_id: str, user: str | None) -> str:
    owner = user or movies.owner_of(movie_id)
    if owner is None:
        raise InvalidInput(f"no movie {movie_id!r}")
    return owner


def show(movie_id: MovieIdArg, user: User = None) -> None:
    """A film's status, stages, story and URLs: what GET /api/movies/{id} answers."""
    migrate()
    movie = movies.find(_owner(movie_id, user), movie_id)
    if movie is None:
        raise InvalidInput(f"no movie {movie_id!r}" + (f" among {user}'s" if user else ""))
    typer.echo(movie_public(movie).model_dump_json(indent=2))


def list_cmd(
    user: Annotated[str | None, typer.Option("--user", help="one user's films (default: everyone's)")] = None,
    status: Annotated[str | None, typer.Option(help=f"only films in this state: {', '.join(JobStatus.__args__)}")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="how many")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="skip this many (newest first)")] = 0,
) -> None:
    """Films, newest first: what GET /api/movies answers (one line of JSON each)."""
    migrate()
    with movies.read() as s:
        items, total = movies.list_summaries(s, user, status=status, limit=limit, offset=offset)
    for item in items:
        typer.echo(item.model_dump_json())
    typer.echo(f"{len(items)} of {total}", err=True)


def _act(action: str, movie_id: str, user: str | None) -> None:
    migrate()
    try:  # an operator's action: no quota is counted (as for the admin routes)
        out = movies.act(action, _owner(movie_id, user), movie_id)
    except JobStateError as exc:
        raise InvalidInput(str(exc)) from exc
    if out is None:
        raise InvalidInput(f"no movie {movie_id!r}" + (f" among {user}'s" if user else ""))
    typer.echo(json.dumps(out) if action == "delete" else movie_public(out).model_dump_json(indent=2))


def cancel(movie_id: MovieIdArg, user: User = None) -> None:
    """Stop a queued or running film; its finished stages are kept for a retry."""
    _act("cancel", movie_id, user)


def retry(movie_id: MovieIdArg, user: User = None) -> None:
    """Run a failed or cancelled film again; what was finished is reused."""
    _act("retry", movie_id, user)


def delete(movie_id: MovieIdArg, user: User = None) -> None:
    """Forget a film (a running one is cancelled first); its artifacts stay in the store."""
    _act("delete", movie_id, user)


for _name, _fn in (("show", show), ("list", list_cmd), ("cancel", cancel), ("retry", retry), ("delete", delete)):
    jobs_cli.app.command(_name)(_fn)


def register(root: typer.Typer) -> None:
    """`deepflix worker` and `deepflix jobs ...`, these commands among them."""
    jobs_cli.register(root)
