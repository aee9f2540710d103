"""`deepflix mcp`: DeepFlix as tools for agents, on the official MCP Python SDK
(MCPServer), over stdio (the default) or streamable HTTP (--http).

Tools: make_film, film_status, read_story, edit_story, rerender, list_films,
media_links. Locally they act on a films folder in this process; with
--server URL --api-key KEY they act on a DeepFlix service as that key's user.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

from ..errors import DeepFlixError


def build_server(films: Any) -> Any:
    """An MCPServer whose tools call ``films`` (mcp_films.LocalFilms or ServiceFilms)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    # WARNING: at INFO the SDK's logging setup would print every httpx call of the service mode
    server = MCPServer(name="deepflix", log_level="WARNING", instructions=(
        "Make narrated short films from a prompt. make_film answers at once with the film's id; follow it with "
        "film_status until status is succeeded, then read_story or media_links. Edit the story JSON with "
        "edit_story (only what changed is re-rendered)."))

    def call(fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except DeepFlixError as exc:  # the user-facing words; anything else stays a server-side error
            raise ToolError(str(exc)) from exc

    @server.tool()
    def make_film(prompt: str, genre: str = "drama", scenes: int = 6, seed: int = 0, resolution: str | None = None,
                  aspect: str | None = None) -> dict[str, Any]:
        """Start making a film of the prompt (genre: noir, sci-fi, fantasy, horror, comedy, romance, adventure,
        drama; scenes 1-60; resolution 360p-2160p; aspect 16:9, 9:16, 1:1). Returns its id and status."""
        return call(films.make, prompt=prompt, genre=genre, scenes=scenes, seed=seed, resolution=resolution,
                    aspect=aspect)

    @server.tool()
    def film_status(film_id: str) -> dict[str, Any]:
        """A film's status (running, succeeded, failed), progress 0-1 and each stage's progress."""
        return call(films.status, film_id)

    @server.tool()
    def read_story(film_id: str) -> dict[str, Any]:
        """The film's story JSON: title, characters, scenes with narration and dialogue."""
        return call(films.story, film_id)

    @server.tool()
    def edit_story(film_id: str, story: dict[str, Any]) -> dict[str, Any]:
        """Replace the film's story with this story JSON (read_story's shape) and re-render what changed."""
        return call(films.edit_story, film_id, story)

    @server.tool()
    def rerender(film_id: str, force: bool = False) -> dict[str, Any]:
        """Make the film again from its story (reusing finished work unless force)."""
        return call(films.rerender, film_id, force=force)

    @server.tool()
    def list_films() -> dict[str, Any]:
        """The films: id, status, progress and title of each."""
        return {"films": call(films.list)}

    @server.tool()
    def media_links(film_id: str) -> dict[str, str]:
        """Links to the film's files: movie, subtitles, poster, story and editor exports."""
        return call(films.media, film_id)

    return server


def serve_http(server: Any, host: str, port: int) -> None:
    """Streamable HTTP on host:port (0: any free port); says the URL on stderr once it listens."""
    import anyio
    import uvicorn

    app = server.streamable_http_app(host=host)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)  # so a client that reads the line below and connects at once waits in the backlog, not refused
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    print(f"deepflix mcp: listening on http://{host}:{sock.getsockname()[1]}/mcp", file=sys.stderr, flush=True)
    anyio.run(lambda: uv.serve(sockets=[sock]))
