"""One stage of one movie, computed exactly as `deepflix make` computes it.

The request comes from the plan's pure builder for that stage (film/plan.py),
fed with the stored outcomes of the stages it needs, and runner.run_stage does
the cache lookup, the provider call and the atomic publish. So a film made by
the fleet has the same stage keys, and the same bytes, as one made in process
with the same request and seed. This module touches no database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import DeepFlixError
from ..film.manifest import film_record
from ..film.options import FilmOptions
from ..film.plan import FINAL, STORY, FilmParts, current
from ..film.requests import timed_story
from ..models import Story, StoryRequest
from ..plugins import supports_references
from ..quality.consistency import story_findings
from ..runner import StageOutcome
from ..storage import ArtifactStore
from .state import Done, Job


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
    """The parts a job's stage is built from, loading finished stages from the store on demand."""
    opts = FilmOptions.model_validate(job.options)
    providers = dict(opts.providers)

    def load(stage: str) -> list[StageOutcome | None]:  # None: a scene without a row of a stage some scenes have
        return [stored_outcome(store, stage, k, providers.get(stage, "")) if k else None
                for k in job.keys.get(stage, [])]

    story = Story.model_validate(job.story) if job.story is not None else None
    sreq = StoryRequest.model_validate(job.request["story"]) if job.stage == STORY else None
    return FilmParts(opts, providers, story=story, story_request=sreq, load=load,
                     picture_references=supports_references(providers, opts.provider_options.get("picture")),
                     clip_references=supports_references(providers, opts.provider_options.get("clip"), stage="clip"))


def compute(job: Job, store: ArtifactStore, progress: Callable[[float, str], None] | None = None) -> Done:
    from .repair import run_repairing

    plan = current()
    st = plan[job.stage]
    if st.name != STORY and job.story is None:
        raise DeepFlixError("the movie has no story yet")
    oc = run_repairing(job, store, progress)  # the plan's request and run_stage, remaking a broken input once
    parts = film_parts(job, store)
    done = Done(key=oc.key, cached=oc.cached, seconds=oc.seconds, provider=oc.provider)
    if st.name == STORY:
        done.story = oc.result.model_dump(mode="json")
    elif st.name == FINAL:
        keys: dict[str, list[str | None]] = {**job.keys, FINAL: [oc.key]}
        timed = timed_story(parts.story, parts.slots)
        done.result = film_record(plan, oc, parts.providers, keys, story_findings(timed) + list(job.warnings))
        done.story = timed.model_dump(mode="json")
        done.result["qa"] = film_qa(store, oc, timed, parts.opts.loudness_lufs)
    return done


def film_qa(store: ArtifactStore, final: StageOutcome, story: Story, target_lufs: float) -> dict[str, Any]:
    """The QA report of the cut's files (what `deepflix qa` writes as qa.json), made where the cut
    ran, so the files are local. A film that cannot be measured is still a film: the report then
    says why instead (and the API shows "not measured")."""
    from ..quality.qa import hearing_by_default, measure

    res = final.result
    try:
        return measure(store.local_path(final.key, res.video), store.local_path(final.key, res.srt), story,
                       target_lufs, hearing=hearing_by_default() or False)
    except Exception as exc:  # noqa: BLE001 (a measurement fault must not fail a finished film)
        return {"error": f"{type(exc).__name__}: {exc}"[:500]}

