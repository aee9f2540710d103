"""One stage of one movie, computed exactly as `deepflix make` computes it.

The request comes from the plan's pure builder for that stage (film/plan.py),
fed with the stored outcomes of the stages it needs, and runner.run_stage does
the cache lookup, the provider call and the atomic publish. So a film made by
the fleet has the same stage keys, and the same bytes, as one made in process
with the same request and seed. This module touches no database. The parts a
stage is built from are parts.py's.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import DeepFlixError
from ..film.manifest import film_record
from ..film.plan import FINAL, STORY, current
from ..film.requests import timed_story
from ..storage import ArtifactStore
from .parts import ArtifactMissing, film_parts, stored_outcome
from .repair import run_repairing
from .state import Done, Job


def compute(job: Job, store: ArtifactStore, progress: Callable[[float, str], None] | None = None) -> Done:
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
        done.result = film_record(plan, oc, parts.providers, keys)
        done.story = timed_story(parts.story, parts.slots).model_dump(mode="json")
    return done


__all__ = ["ArtifactMissing", "compute", "film_parts", "stored_outcome"]  # the parts' names, as before
