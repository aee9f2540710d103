"""One tiny film (2 scenes, 360p) made once per session, in process, for the
export tests; the MCP and batch tests ask for the same prompt and options, so
the store serves them from cache."""

from __future__ import annotations

from pathlib import Path

import pytest

PROMPT = "A lighthouse keeper finds a message in a bottle"
TINY = {"prompt": PROMPT, "genre": "drama", "scenes": 2, "seed": 7, "resolution": "360p"}


@pytest.fixture(scope="session")
def tiny_film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from deepflix.handoff.films import FilmAsk, make_one

    films = tmp_path_factory.mktemp("films")
    ask = FilmAsk(**TINY)
    folder = ask.folder(films)
    make_one(ask, folder)
    return folder
