"""Regression: making a film again into its own folder (what `make` run twice,
the MCP server's rerender and edit_story do) left `.movie.mp4.tmp` and its
siblings behind, because the folder's files were already hard links to the
store's and rename() onto a link of the same file does nothing."""

from __future__ import annotations

from pathlib import Path

from deepflix.core import config
from deepflix.models import GenerationParams, StoryRequest
from deepflix.pipeline import FilmOptions, make_film

TINY = {"prompt": "A lighthouse keeper finds a message in a bottle", "genre": "drama", "scenes": 2, "seed": 7,
        "resolution": "360p"}  # conftest.TINY: the session's film, so the store has it


def test_remaking_a_film_into_its_folder_leaves_no_temp_files(tmp_path: Path) -> None:
    request = StoryRequest(prompt=TINY["prompt"], genre=TINY["genre"], num_scenes=TINY["scenes"], seed=TINY["seed"])
    opts = FilmOptions(resolution=TINY["resolution"], params=GenerationParams(seed=TINY["seed"]),
                       loudness_lufs=config.settings.deepflix_loudness_lufs)
    first = make_film(request, opts=opts, out_dir=tmp_path)
    again = make_film(request, opts=opts, out_dir=tmp_path)
    assert sum(again.computed.values()) == 0  # all from the store
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [], sorted(tmp_path.iterdir())
    assert first.files["movie"].read_bytes() == again.files["movie"].read_bytes()
