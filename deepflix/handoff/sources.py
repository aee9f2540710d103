"""What an export reads: a finished film's story and the stored results of its
stages, found either through a film folder's film.json or a service movie's
stage rows. Both end in the same FilmSources, so the CLI and the API export
the same timeline."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from ..errors import InvalidInput
from ..models import PictureResult, ScoreResult, SegmentResult, SpeechResult, Story
from ..storage import ArtifactStore

M = TypeVar("M", bound=BaseModel)


@dataclass
class Stored:
    """One stage result and the key its files live under."""

    key: str
    result: Any


@dataclass
class FilmSources:
    story: Story
    pictures: list[Stored]
    speech: list[Stored]
    score: Stored
    store: ArtifactStore
    segments: list[Stored] = field(default_factory=list)
    providers: dict[str, str] = field(default_factory=dict)

    @property
    def fps(self) -> int:
        """The cut's frame rate, read back from its encoded segments (30, the default, if none)."""
        for seg in self.segments:
            res: SegmentResult = seg.result
            if res.duration > 0:
                return max(1, round(res.frames / res.duration))
        return 30


def _load(store: ArtifactStore, key: str, model: type[M], what: str) -> Stored:
    stored = store.load_result(key)
    if stored is None:
        raise InvalidInput(f"the film's {what} ({key[:12]}…) is not in the store; remake the film to export it")
    return Stored(key, model.model_validate(stored.get("result", stored)))


def from_film_dir(film_dir: Path, store: ArtifactStore) -> FilmSources:
    """The sources of a film that `deepflix make` wrote to film_dir."""
    manifest_path = Path(film_dir) / "film.json"
    try:
        manifest = json.loads(manifest_path.read_text())
        story = Story.model_validate(manifest["story"])
        art = manifest["artifacts"]
        pictures, speech, score = art["pictures"], art["speech"], art["score"]
    except FileNotFoundError as exc:
        raise InvalidInput(f"{film_dir} holds no film.json: give the folder `deepflix make` printed") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"{manifest_path} is not a film manifest: {str(exc).splitlines()[0]}") from exc
    return FilmSources(
        story=story,
        pictures=[_load(store, k, PictureResult, f"scene {i + 1} picture") for i, k in enumerate(pictures)],
        speech=[_load(store, k, SpeechResult, f"scene {i + 1} speech") for i, k in enumerate(speech)],
        score=_load(store, score, ScoreResult, "score"),
        segments=[_load(store, k, SegmentResult, "segment") for k in art.get("segments") or []],
        providers=dict(manifest.get("providers") or {}),
        store=store,
    )


def from_movie(movie: dict[str, Any], store: ArtifactStore) -> FilmSources:
    """The sources of a finished service movie (service.public.record's shape)."""
    if movie.get("status") != "succeeded" or not movie.get("story"):
        raise InvalidInput(f"the film is {movie.get('status')}, not finished: it can be exported once it is made")
    story = Story.model_validate(movie["story"])
    n = len(story.scenes)

    def keys(stage: str) -> dict[int | None, str]:
        return {s["scene"]: s["artifact_key"] for s in movie["stages"]
                if s["name"] == stage and s["status"] == "succeeded" and s["artifact_key"]}

    pics, speech, segs, score = keys("picture"), keys("speech"), keys("segment"), keys("score")
    if len(pics) < n or len(speech) < n or None not in score:
        raise InvalidInput("the film's stage results are incomplete; retry the film to remake them")
    return FilmSources(
        story=story,
        pictures=[_load(store, pics[i], PictureResult, f"scene {i + 1} picture") for i in range(n)],
        speech=[_load(store, speech[i], SpeechResult, f"scene {i + 1} speech") for i in range(n)],
        score=_load(store, score[None], ScoreResult, "score"),
        segments=[_load(store, segs[i], SegmentResult, "segment") for i in range(n) if i in segs],
        # the film's record names every stage's provider (the cast's too); rows only those that ran
        providers=dict((movie.get("result") or {}).get("providers") or {})
        or {s["name"]: s["provider"] for s in movie["stages"] if s.get("provider")},
        store=store,
    )
