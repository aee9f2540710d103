"""The hand-off sub-commands (`deepflix export`, `deepflix mcp`) and the
`make --screenplay/--from-text/--batch` paths, kept here so cli.py only wires them."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import InvalidInput
from ..storage import open_store
from . import batch as b
from .fountain import story_from_screenplay
from .prose import story_from_text


def export(
    film_dir: Annotated[Path, typer.Argument(help="A film folder (holds film.json).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="otio, fcpxml or edl")] = "otio",
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the export (default FILM_DIR); media go in its media/.")] = None,
) -> None:
    """Export the film's timeline for an editor (OpenTimelineIO, Final Cut Pro X XML, CMX 3600 EDL)."""
    from .export import check_format, export_film
    from .sources import from_film_dir

    fmt = check_format(fmt)
    path = export_film(from_film_dir(film_dir, open_store()), fmt, out_dir or film_dir)
    print(path)


def mcp(
    films: Annotated[Path, typer.Option("--films", help="Films folder (local mode).")] = Path("films"),
    server: Annotated[str | None, typer.Option("--server", help="Act on this DeepFlix service instead (URL).")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="DEEPFLIX_API_KEY", help="The service API key (with --server).")] = None,
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP instead of stdio.")] = False,
    host: Annotated[str, typer.Option(help="HTTP host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port (0: any free one; the URL is printed on stderr).")] = 8765,
    resolution: Annotated[str, typer.Option(help="Default resolution of films made.")] = "720p",
) -> None:
    """Serve DeepFlix's tools to agents over MCP (stdio by default, or --http)."""
    from .mcp_films import LocalFilms, ServiceFilms
    from .mcp_server import build_server, serve_http
    from .remote import ServiceClient

    defaults = {"resolution": resolution}
    backend: Any = ServiceFilms(ServiceClient(server, api_key or ""), defaults) if server else LocalFilms(films, defaults)
    srv = build_server(backend)
    if http:
        serve_http(srv, host, port)
    else:
        _stdout_for_protocol()
        srv.run("stdio")


def _stdout_for_protocol() -> None:
    """Over stdio, stdout is the protocol: keep a private copy of it for the SDK and send
    fd 1 (anything a library or a child process prints) to stderr."""
    proto = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = __import__("io").TextIOWrapper(proto, encoding="utf-8", write_through=True)


def make_batch(batch: Path, films: Path, server: str | None, api_key: str | None, defaults: dict[str, Any]) -> None:
    from rich.console import Console


    items = b.read_batch(batch, defaults)
    err = Console(stderr=True)

    def report(line: str) -> None:
        print(" ".join(line.split()), file=sys.stderr, flush=True)

    if server:
        from .remote import ServiceClient

        rows = b.run_remote(items, ServiceClient(server, api_key or ""), batch.with_name(batch.name + ".done.json"),
                            report)
    else:
        rows = b.run_local(items, films, report)
    Console().print(b.summary_table(rows))
    if any(r.status == "failed" for r in rows):
        err.print(f"{sum(r.status == 'failed' for r in rows)} of {len(rows)} films failed; fix those lines and run "
                  "the batch again (made films are skipped)")
        sys.exit(1)  # click returns (not raises) typer.Exit outside standalone mode, and main() drops it


def story_from_inputs(screenplay: Path | None, from_text: Path | None, genre: str, scenes: int, seed: int,
                      story_provider: str | None) -> Any:
    """The Story for `make --screenplay` or `make --from-text` (None when neither is given)."""
    if screenplay is not None and from_text is not None:
        raise InvalidInput("give --screenplay or --from-text, not both")
    if screenplay is not None:
        return story_from_screenplay(screenplay, genre=genre, seed=seed)
    if from_text is not None:
        return story_from_text(from_text, genre=genre, scenes=scenes, seed=seed, store=open_store(),
                               provider=story_provider)
    return None


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("mcp")(mcp)
