"""One stage of one movie, computed exactly as `deepflix make` computes it.

The request comes from the plan's pure builder for that stage (film/plan.py),
fed with the stored outcomes of the stages it needs, and runner.run_stage does
the cache lookup, the provider call and the atomic publish. So a film made by
the fleet has the same stage keys, and the same bytes, as one made in process
with the same request and seed. This module touches no database. The parts a
stage is built from are parts.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import DeepFlixError
from ..film.manifest import film_record
from ..film.plan import FINAL, PICTURE_TRACK, STORY, current
from ..film.requests import timed_story
from ..models import Story
from ..quality.consistency import story_findings
from ..runner import StageOutcome
from ..storage import ArtifactStore
from .parts import ArtifactMissing, film_parts, stored_outcome
from .repair import run_repairing
from .state import Done, Job

log = logging.getLogger("deepflix.jobs")


def compute(job: Job, store: ArtifactStore, progress: Callable[[float, str], None] | None = None) -> Done:
    plan = current()
    st = plan[job.stage]
    if st.name != STORY and job.story is None:
        raise DeepFlixError("the movie has no story yet")
    oc, parts = run_repairing(job, store, progress)  # the plan's request and run_stage, remaking a broken input once
    done = Done(key=oc.key, cached=oc.cached, seconds=oc.seconds, provider=oc.provider)
    if st.name == STORY:
        done.story = oc.result.model_dump(mode="json")
    elif st.name == PICTURE_TRACK:
        segment_qa(store, oc)
    elif st.name == FINAL:
        keys: dict[str, list[str | None]] = {**job.keys, FINAL: [oc.key]}
        timed = timed_story(parts.story, parts.slots)
        done.result = film_record(plan, oc, parts.providers, keys, story_findings(timed) + list(job.warnings))
        done.story = timed.model_dump(mode="json")
        done.result["qa"] = film_qa(store, oc, timed, parts.opts.loudness_lufs, parts.scene_outcomes(PICTURE_TRACK))
    return done


def _picture_of(store: ArtifactStore, segment: StageOutcome) -> tuple[str, Path, float]:
    return segment.key, store.local_path(segment.key, segment.result.video), float(segment.result.duration)


def segment_qa(store: ArtifactStore, segment: StageOutcome) -> None:
    """The segment's black and frozen stretches, measured and kept in the store by the worker
    that encoded it, while the file is at hand: the film's QA then reads them instead of
    decoding the whole film's picture in the cut, and that work spreads with the segments.
    A fault here costs the film nothing (the cut measures what is missing)."""
    from ..quality.by_segment import remembered_stretches

    try:
        remembered_stretches(store, *_picture_of(store, segment))
    except Exception as exc:  # noqa: BLE001
        log.warning("segment %s: QA not measured here (%s); the cut will", segment.key[:12], exc)


def film_qa(store: ArtifactStore, final: StageOutcome, story: Story, target_lufs: float,
            segments: list[StageOutcome]) -> dict[str, Any]:
    """The QA report of the cut's files (what `deepflix qa` writes as qa.json), made where the cut
    ran, so the files are local; the picture by ``segments``, the cut's own inputs. A film that
    cannot be measured is still a film: the report then says why instead (and the API shows
    "not measured")."""
    from ..quality.qa import hearing_by_default, measure  # (numpy/scipy: only where a cut runs)

    res = final.result
    try:
        return measure(store.local_path(final.key, res.video), store.local_path(final.key, res.srt), story,
                       target_lufs, hearing=hearing_by_default() or False, store=store,
                       segments=[_picture_of(store, s) for s in segments])
    except Exception as exc:  # noqa: BLE001 (a measurement fault must not fail a finished film)
        return {"error": f"{type(exc).__name__}: {exc}"[:500]}


__all__ = ["ArtifactMissing", "compute", "film_parts", "film_qa", "stored_outcome"]  # the parts' names, as before
