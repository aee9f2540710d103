"""Review before render: a film that stops at a review point, edits to its
story, voices and pictures, and a render that remakes only what changed.

A movie submitted with ``review`` holds back every stage the review point does
not need (``Movie.hold``): those rows stay waiting (state.advance skips them),
and once nothing else is left to run the movie is ``awaiting_review``, holding
no worker and no concurrency slot. Edits are allowed while a movie is not being
made (409 otherwise), each in one transaction under the movie's lock, so an edit
is never half-applied. A render lays out the film's rows afresh from the current
story: every stage runs again through the content-addressed cache, so only the
stages whose requests changed are computed (``dry_run`` says which, beforehand).
The movie's result (its media) is replaced only when the new cut finishes.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ..db.base import utcnow
from ..db.models import Movie, Stage
from ..film.options import FilmOptions
from ..film.plan import STORY, FilmParts, current
from ..models import Story, Voice
from ..plugins import get_provider, stage_options, supports_references
from ..runner import StageOutcome, stage_key
from ..storage import ArtifactStore
from . import state
from .dispatch import add_event, dispatch, lock_movie
from .errors import JobStateError

REVIEW_POINTS = {"story": "story", "pictures": "picture"}  # the API's word -> the stage it stops after
EDITABLE = ("awaiting_review", "succeeded", "failed", "cancelled")  # not while a render runs
MAX_VERSIONS = 50  # the oldest edits are dropped past this (the first, as written, is always kept)


def held_after(point: str) -> list[str]:
    """The stages a film reviewed at ``point`` holds back: those the plan declares after
    it (so "pictures" has its voices too: the plan runs speech first, it sets the timeline)."""
    if point not in REVIEW_POINTS:
        raise JobStateError(f"review must be one of {', '.join(REVIEW_POINTS)}; got {point!r}")
    names = list(current().names)
    return names[names.index(REVIEW_POINTS[point]) + 1:]


def _editable(session: Session, movie_id: str, owner: str) -> Movie:
    movie = lock_movie(session, movie_id)
    if movie is None or movie.owner != owner:
        raise LookupError(movie_id)
    if movie.status not in EDITABLE:
        raise JobStateError(f"the film is {movie.status}: wait for the render to finish (or cancel it) before editing")
    if movie.story is None:
        raise JobStateError("the film has no story yet: retry it first")
    return movie


def versions(movie: Movie) -> list[dict[str, Any]]:
    """The story's saved versions, oldest first (version 1 is the story as written)."""
    if movie.story_versions:
        return list(movie.story_versions)
    if movie.story is None:
        return []
    return [{"version": 1, "at": (movie.created_at or utcnow()).isoformat(), "by": None, "note": "as written",
             "story": movie.story}]


def save_story(session: Session, owner: str, movie_id: str, story: Story, *, note: str = "edit") -> Movie:
    """The story's next version; it is what the next render makes."""
    movie = _editable(session, movie_id, owner)
    data = story.model_dump(mode="json")
    old = versions(movie)
    n = old[-1]["version"] + 1
    kept = old[:1] + old[1:][-(MAX_VERSIONS - 2):]
    movie.story_versions = kept + [{"version": n, "at": utcnow().isoformat(), "by": owner, "note": note[:200],
                                    "story": data}]
    movie.story = data
    movie.title = story.title[:200]
    add_event(session, movie.id, "story_edited", message=note[:200], data={"version": n})
    return movie


def set_voice(session: Session, owner: str, movie_id: str, speaker: str, voice: Voice) -> Movie:
    """A character's voice (by id) or the narrator's, as a new story version."""
    movie = _editable(session, movie_id, owner)
    story = Story.model_validate(movie.story)
    if speaker == "narrator":
        story = story.model_copy(update={"narrator": voice})
    else:
        try:
            who = story.character(speaker)
        except KeyError:
            raise LookupError(f"no character {speaker!r} in the story") from None
        chars = [c.model_copy(update={"voice": voice}) if c is who else c for c in story.characters]
        story = story.model_copy(update={"characters": chars})
    return save_story(session, owner, movie_id, story, note=f"voice of {speaker}")


def redraw(session: Session, owner: str, movie_id: str, scene: int, *, seed: int | None = None,
           description: str | None = None) -> dict[str, Any]:
    """Ask for a new picture of one scene: a changed description (a new story
    version) or, failing that, a new seed for that scene alone."""
    movie = _editable(session, movie_id, owner)
    story = Story.model_validate(movie.story)
    if not 0 <= scene < len(story.scenes):
        raise LookupError(f"the film has no scene {scene + 1}")
    out: dict[str, Any] = {"scene": scene}
    if description is not None and description.strip() != story.scenes[scene].scene_description:
        scenes = list(story.scenes)
        scenes[scene] = scenes[scene].model_copy(update={"scene_description": description.strip()})
        save_story(session, owner, movie_id, Story.model_validate({**story.model_dump(), "scenes": scenes}),
                   note=f"scene {scene + 1} description")
        out["description"] = description.strip()
    if seed is not None or description is None:
        opts = FilmOptions.model_validate(movie.options)
        new = seed if seed is not None else secrets.randbelow(2**31 - 1) + 1
        movie.options = {**movie.options, "picture_seeds": {**{str(k): v for k, v in opts.picture_seeds.items()},
                                                            str(scene): new}}
        add_event(session, movie.id, "redraw", stage="picture", scene=scene, data={"seed": new})
        out["seed"] = new
    return out


def render(session: Session, owner: str, movie_id: str) -> Movie:
    """Make the film of its current story: continue a film under review, or
    re-render a finished (or stopped) one. Rows are laid out afresh and every
    stage goes through the cache, so only what changed is computed."""
    movie = _editable(session, movie_id, owner)
    session.execute(delete(Stage).where(Stage.movie_id == movie.id, Stage.name != STORY))
    session.expire(movie, ["stages"])
    movie.hold = None
    movie.status, movie.error, movie.started_at, movie.finished_at = "queued", None, None, None
    n = versions(movie)[-1]["version"]
    add_event(session, movie.id, "render", data={"version": n, "replaces": bool(movie.result)})
    state._story_done(session, movie, movie.story or {})
    session.flush()
    state.advance(session, movie)
    dispatch(session)
    return movie


# --------------------------------------------------------------------------- the dry run

NOUNS = {"cast": ("portrait", "portraits"), "speech": ("voice", "voices"), "picture": ("picture", "pictures"), "clip": ("clip", "clips"),
         "segment": ("scene encode", "scene encodes")}


class _Unknown(Exception):
    """A builder asked for an outcome the render will make anew, with nothing to stand in for it."""


def _perturbed(oc: StageOutcome) -> StageOutcome:
    """A stand-in for an outcome a render will remake: another key, other numbers."""
    upd = {name: v + 1.37 for name, v in oc.result if isinstance(v, float) and not isinstance(v, bool)}
    key = hashlib.sha256(b"dry-run:" + oc.key.encode()).hexdigest()
    return StageOutcome(oc.stage, key, oc.result.model_copy(update=upd), True, 0.0, oc.provider)


def dry_run(story: dict[str, Any], options: dict[str, Any], store: ArtifactStore,
            previous: dict[str, list[str | None]] | None = None) -> dict[str, Any]:
    """What a render would remake: every row's request from the plan's builders,
    looked up in the store by its cache key. A row that needs a remade row's new
    outcome is built twice, with that row's previous outcome and with a changed
    stand-in: when both give the same request it does not depend on it and is
    looked up as usual; otherwise it is remade ``after`` that stage (its request
    holds the new outcome, unknown before the render). ``previous``: the film's
    last rows' keys, by stage, in index order."""

    plan = current()
    opts = FilmOptions.model_validate(options)
    parsed = Story.model_validate(story)
    providers = dict(opts.providers)
    outs: dict[str, dict[int, StageOutcome | None]] = {}  # known outcomes by index (None: remade, unknown)
    stale: dict[str, dict[int, StageOutcome | None]] = {}  # the previous outcomes of those rows
    roots: dict[str, str] = {}  # stage with unknown rows -> the remade stage they come from

    def old(name: str, i: int) -> StageOutcome | None:
        keys = (previous or {}).get(name) or []
        key = keys[i] if i < len(keys) else None
        stored = store.load_result(key) if key else None
        if stored is None or key is None:
            return None
        return StageOutcome(name, key, plan[name].result.model_validate(stored["result"]), True, 0.0, "")

    def parts(variant: int) -> FilmParts:
        def load(name: str) -> list[Any]:
            got: list[Any] = []
            row = outs.get(name, {})
            for i in range(max(row, default=-1) + 1):  # (the story is in parsed, not a row)
                if i not in row:  # a scene without a row of a stage some scenes have
                    got.append(None)
                    continue
                oc = row[i]
                if oc is None:
                    base = stale[name][i]
                    if base is None:
                        raise _Unknown(name)
                    oc = base if variant == 0 else _perturbed(base)
                got.append(oc)
            return got

        refs = supports_references(providers, opts.provider_options.get("picture"))
        return FilmParts(opts, providers, story=parsed, load=load, picture_references=refs)

    rows: list[dict[str, Any]] = []
    for st in plan:
        if st.name == STORY:
            continue  # the story is the edit itself: never remade by a render
        per, indices = st.per != "film", st.indices(parsed)
        if not indices:
            continue  # no rows (no clips): nothing to remake, and maybe no provider installed
        prov = get_provider(st.name, providers.get(st.name), stage_options(st.name, providers, opts.provider_options))  # as the workers do
        # builders read more than their direct needs (the cut reads the layout): any unknown row may matter
        waits = [roots[d] for d in st.needs if d in roots] or list(roots.values())
        variants = [parts(0), parts(1)] if roots else [parts(0)]
        outs[st.name], stale[st.name] = {}, {}
        for i in indices:
            row = {"stage": st.name, "index": i if per else None, "remake": True, "after": None, "key": None}
            oc = None
            try:
                keys = {stage_key(prov, st.build(v, i)) for v in variants}
            except _Unknown:
                keys = set()
            if len(keys) == 1:
                row["key"] = key = keys.pop()
                stored = store.load_result(key)
                if stored is not None:
                    row["remake"] = False
                    oc = StageOutcome(st.name, key, st.result.model_validate(stored["result"]), True, 0.0,
                                      prov.provider_id)
            else:
                row["after"] = waits[0]
            rows.append(row)
            outs[st.name][i] = oc
            stale[st.name][i] = None if oc else old(st.name, i)
            if oc is None:
                roots.setdefault(st.name, str(row["after"] or st.name))
    return {"rows": rows, "summary": summary(rows)}


def summary(rows: list[dict[str, Any]]) -> str:
    """'1 voice, 1 picture, 2 scene encodes, the score and the cut' (or 'nothing: ...')."""
    counts: dict[str, int] = {}
    for r in rows:
        if r["remake"]:
            counts[r["stage"]] = counts.get(r["stage"], 0) + 1
    if not counts:
        return "nothing: every stage is in the cache"
    plan, parts = current(), []
    # counted rows first (voices, pictures, encodes), then the film's own stages, each in plan order
    for st in sorted(plan, key=lambda st: st.per == "film"):
        k = counts.get(st.name)
        if not k:
            continue
        if st.per == "film":
            parts.append(f"the {st.label.lower() if st.name not in ('score', 'cut') else st.name}")
        else:
            one, many = NOUNS.get(st.name, (st.label.lower(), st.label.lower()))
            parts.append(f"{k} {one if k == 1 else many}")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
