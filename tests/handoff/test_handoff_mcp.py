"""Issue 22: `deepflix mcp`, driven by the MCP SDK's own client, over stdio and
over streamable HTTP (port 0): list the tools, make a 2-scene film, follow it
to done, read its story; a bad story edit is refused and changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

TOOLS = {"make_film", "film_status", "read_story", "edit_story", "rerender", "list_films", "media_links"}
TINY = {"prompt": "A lighthouse keeper finds a message in a bottle", "genre": "drama", "scenes": 2, "seed": 7,
        "resolution": "360p"}  # conftest.TINY: the session's film, so most stages come from the store


async def session(client: Client, films: Path) -> dict[str, Any]:
    tools = await client.list_tools()
    assert {t.name for t in tools.tools} == TOOLS
    make = next(t for t in tools.tools if t.name == "make_film")
    assert "prompt" in make.input_schema["properties"]

    r = await client.call_tool("make_film", TINY)
    assert not r.is_error, r.content
    film = r.structured_content
    fid = film["id"]
    assert film["status"] in ("running", "succeeded") and (films / fid).is_dir()
    deadline = time.monotonic() + 600
    seen = []
    while film["status"] == "running":
        assert time.monotonic() < deadline, film
        await anyio.sleep(0.5)
        film = (await client.call_tool("film_status", {"film_id": fid})).structured_content
        seen.append(film["progress"])
    assert film["status"] == "succeeded", film
    assert seen == sorted(seen)  # progress only goes forward

    story = (await client.call_tool("read_story", {"film_id": fid})).structured_content
    assert story == json.loads((films / fid / "story.json").read_text())
    assert len(story["scenes"]) == 2 and story["title"] == film["title"]

    listed = (await client.call_tool("list_films", {})).structured_content["films"]
    assert [f["id"] for f in listed] == [fid]
    links = (await client.call_tool("media_links", {"film_id": fid})).structured_content
    assert Path(links["movie"].removeprefix("file://")).stat().st_size > 10_000

    # a story that is not one: a clear tool error, and the film's story is as it was
    bad = {**story, "scenes": []}
    r = await client.call_tool("edit_story", {"film_id": fid, "story": bad})
    assert r.is_error and "not a valid story" in r.content[0].text
    assert json.loads((films / fid / "story.json").read_text()) == story
    r = await client.call_tool("film_status", {"film_id": "../etc"})
    assert r.is_error and "no film" in r.content[0].text
    return {"id": fid, "story": story}


def test_mcp_over_stdio(tmp_path: Path) -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "deepflix", "mcp", "--films", str(tmp_path)],
                                   env=dict(os.environ))

    async def main() -> dict[str, Any]:
        async with Client(params) as client:
            return await session(client, tmp_path)

    got = anyio.run(main)
    assert (tmp_path / got["id"] / "movie.mp4").is_file()


@pytest.fixture
def http_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    proc = subprocess.Popen([sys.executable, "-m", "deepflix", "mcp", "--http", "--port", "0", "--films", str(tmp_path)],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=dict(os.environ))
    try:
        assert proc.stderr is not None
        line = ""
        for _ in range(50):  # the first lines are ours; uvicorn's warnings may follow
            line = proc.stderr.readline()
            if "listening on" in line or not line:
                break
        assert "listening on http://127.0.0.1:" in line, line
        yield line.split("listening on ")[1].strip(), tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_mcp_over_streamable_http(http_server) -> None:  # type: ignore[no-untyped-def]
    url, films = http_server
    assert not url.endswith(":0/mcp")

    async def main() -> dict[str, Any]:
        async with Client(url) as client:
            return await session(client, films)

    got = anyio.run(main)
    assert (films / got["id"] / "film.json").is_file()
