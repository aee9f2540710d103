"""A finished stage whose artifact is now broken (a file truncated or deleted,
a garbage result.json) is made again, here, by the worker that needed it.

The job snapshot names every finished stage's key; the stage that made a
broken key is rebuilt from the same pure request builders, so its key comes
out the same, runner.run_stage finds the stored copy broken (a miss), computes
it and its publish replaces the broken folder. Then the stage that needed it
runs again. Each broken input is remade once per attempt, so a store that
keeps breaking fails the stage (ArtifactMissing) instead of looping.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from ..core import config
from ..film.plan import STORY, FilmParts, current
from ..plugins import stage_options
from ..runner import StageOutcome, run_stage
from ..storage import ArtifactBroken, ArtifactStore
from .parts import ArtifactMissing, film_parts
from .state import Job

log = logging.getLogger("deepflix.jobs")

_MAX_DEPTH = 4  # the stages' own depth: a cut's segment's picture is as deep as it goes


def _broken_key(exc: BaseException) -> str | None:
    """The key of the broken artifact behind an error, following its causes."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, (ArtifactBroken, ArtifactMissing)) and cur.key:
            return cur.key
        cur = cur.__cause__ or cur.__context__
    return None


def _locate(job: Job, key: str) -> tuple[str, int | None] | None:
    """Which finished stage of this movie made ``key``."""
    plan = current()
    for stage, keys in job.keys.items():
        for i, k in enumerate(keys):
            if k == key and stage in plan:
                return stage, (i if plan[stage].per != "film" else None)
    return None


def run_repairing(job: Job, store: ArtifactStore, progress: Callable[[float, str], None] | None = None,
                  depth: int = 0) -> tuple[StageOutcome, FilmParts]:
    """The job's stage, built by the plan and run, remaking any broken input it meets; with the
    parts it was built from (the cut's record is written from them)."""
    remade: set[str] = set()
    while True:
        try:
            parts = film_parts(job, store)  # afresh each try: a remade input is loaded again
            req = current()[job.stage].build(parts, job.scene or 0)
            return run_stage(job.stage, req, store=store, provider=parts.providers.get(job.stage),
                             retries=config.settings.deepflix_retries, scene=job.scene, progress=progress,
                             options=stage_options(job.stage, parts.providers, parts.opts.provider_options)), parts
        except Exception as exc:
            key = _broken_key(exc)
            where = _locate(job, key) if key else None
            if key is None or where is None or key in remade or depth >= _MAX_DEPTH or where[0] == STORY:
                if key is not None and not isinstance(exc, ArtifactMissing):
                    raise ArtifactMissing(f"the artifact {key[:12]}… is broken in the store and could not be "
                                          f"made again: {exc}", key) from exc
                raise
            remade.add(key)
            stage, scene = where
            log.warning("%s of movie %s needs %s %s, whose artifact %s is broken; making it again",
                        job.stage, job.movie_id, stage, "" if scene is None else scene, key[:12])
            oc, _ = run_repairing(dataclasses.replace(job, stage=stage, scene=scene), store, None, depth + 1)
            if oc.key != key:  # a provider changed since: the old key cannot be made again
                raise ArtifactMissing(f"the {stage} artifact {key[:12]}… is broken and its stage now makes "
                                      f"{oc.key[:12]}…; retry the movie", key) from exc
