"""The parts a job's stage is built from: the finished stages' outcomes, loaded
from the store on demand (compute.py runs the stage, repair.py remakes a broken input)."""

from __future__ import annotations

from ..errors import DeepFlixError
from ..film.plan import STORY, FilmParts, current
from ..film.spec import FilmSpec
from ..models import Story
from ..plugins import supports_references
from ..runner import StageOutcome
from ..storage import ArtifactStore
from .state import Job


class ArtifactMissing(DeepFlixError):
    """A finished stage's artifact is gone from the store (repair.py makes it again)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def stored_outcome(store: ArtifactStore, stage: str, key: str | None, provider: str = "") -> StageOutcome:
    stored = store.load_result(key) if key else None
    try:
        result = current()[stage].result.model_validate(stored["result"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):  # missing, or garbage
        raise ArtifactMissing(f"the {stage} artifact {str(key)[:12]}… is missing from the store; retry the movie", key) from None
    return StageOutcome(stage, key or "", result, True, 0.0, str(stored.get("provider", provider)))  # type: ignore[union-attr]


def film_parts(job: Job, store: ArtifactStore) -> FilmParts:
    """The parts a job's stage is built from, loading finished stages from the store on demand.
    The film is read back as the service stored it (FilmSpec: what was checked at submit)."""
    spec = FilmSpec.stored(job.request, job.options)
    opts = spec.options
    providers = dict(opts.providers)

    def load(stage: str) -> list[StageOutcome | None]:  # None: a scene without a row of a stage some scenes have
        return [stored_outcome(store, stage, k, providers.get(stage, "")) if k else None
                for k in job.keys.get(stage, [])]

    story = Story.model_validate(job.story) if job.story is not None else None
    return FilmParts(opts, providers, story=story, story_request=spec.story if job.stage == STORY else None, load=load,
                     picture_references=supports_references(providers, opts.provider_options.get("picture")),
                     clip_references=supports_references(providers, opts.provider_options.get("clip"), stage="clip"))
