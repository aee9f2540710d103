"""Films made in this process, in a films folder: what `make --batch` and the
MCP server's local mode share. A film's folder is named from its request (the
prompt's slug and a hash of every option), so asking again for the same film
finds the folder, and a film that is there is not made twice."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..core import config
from ..models import MAX_SCENES, Aspect, GenerationParams, Genre, Resolution, StoryRequest, slug
from ..pipeline import FilmOptions, check_out_dir, make_film

REQUEST_FILE = "request.json"  # beside film.json: what was asked, so the film can be re-rendered alike


class FilmAsk(BaseModel):
    """One film to make: a prompt and the options `deepflix make` takes."""

    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(min_length=1, max_length=2000)
    genre: Genre = "drama"
    scenes: int = Field(6, ge=1, le=MAX_SCENES)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    aspect: Aspect = "16:9"
    resolution: Resolution = "1080p"
    out: str | None = Field(None, description="Folder for the film (default: named from the request).")

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the prompt is empty: say what the film is about")
        return " ".join(v.split())

    @field_validator("genre", mode="before")
    @classmethod
    def _genre(cls, v: object) -> object:
        aliases = {"scifi": "sci-fi", "sci fi": "sci-fi", "science fiction": "sci-fi", "romantic": "romance"}
        return aliases.get(v.strip().lower(), v.strip().lower()) if isinstance(v, str) else v

    def film_id(self) -> str:
        body = json.dumps(self.model_dump(exclude={"out"}), sort_keys=True)
        return f"{slug(self.prompt, 40)}-{hashlib.sha256(body.encode()).hexdigest()[:8]}"

    def folder(self, films: Path) -> Path:
        return Path(self.out) if self.out else Path(films) / self.film_id()


def is_made(folder: Path) -> bool:
    return (Path(folder) / "film.json").is_file() and (Path(folder) / "movie.mp4").is_file()


def make_one(ask: FilmAsk, folder: Path, *, story: Any = None, force: bool = False, on_event: Any = None) -> Any:
    """Make the film into folder (in this process), recording the request beside it."""

    check_out_dir(folder)
    (Path(folder) / REQUEST_FILE).write_text(ask.model_dump_json(indent=2))
    request = None if story is not None else StoryRequest(prompt=ask.prompt, genre=ask.genre, num_scenes=ask.scenes,
                                                          seed=ask.seed)
    opts = FilmOptions(aspect=ask.aspect, resolution=ask.resolution, params=GenerationParams(seed=ask.seed),
                       loudness_lufs=config.settings.deepflix_loudness_lufs)
    return make_film(request, story=story, opts=opts, out_dir=Path(folder), force=force, on_event=on_event)


def read_ask(folder: Path) -> FilmAsk | None:
    try:
        return FilmAsk.model_validate_json((Path(folder) / REQUEST_FILE).read_text())
    except (OSError, ValueError):
        return None
