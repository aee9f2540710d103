"""Review before render (jobs/review.py): read and edit a film's story, change a
voice, redraw one scene's picture, see what a render would remake, render.

Owner only (anyone else's film is a 404). An edit while the film is being made
is a 409, refused whole: each edit is one transaction under the movie's lock."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from ...db.models import Movie
from ...jobs import review as jobs_review  # its redraw, render and dry_run share the routes' names
from ...jobs.errors import JobStateError
from ...jobs.review import EDITABLE, save_story, set_voice, versions
from ...models import MAX_SCENES, Story, Voice
from ...service import movies, public
from ...storage import open_store
from ..deps import CurrentUser, OwnedMovie, audit_request, run_write
from ..schemas import MAX_SEED, MoviePublic
from .movies import BAD_BODY, CONFLICT, MOVIE_ERRORS, _check_concurrency

router = APIRouter(prefix="/api/movies", tags=["review"])
ERRORS: dict[int | str, dict[str, Any]] = {**MOVIE_ERRORS, **BAD_BODY, 409: dict(CONFLICT[409])}


class StoryVersion(BaseModel):
    version: int
    at: str
    by: str | None = None
    note: str = ""


class StoryView(BaseModel):
    version: int = Field(description="The version the next render makes.")
    versions: list[StoryVersion]
    editable: bool = Field(description="False while the film is being made (edits then answer 409).")
    story: dict[str, Any]


class StoryEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    story: Story
    note: str = Field("edit", max_length=200, description="What changed, for the version list and the audit log.")


class Redraw(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed: int | None = Field(None, ge=1, le=MAX_SEED, description="This scene's new seed; unset: a random one.")
    scene_description: str | None = Field(None, min_length=1, max_length=4000,
                                          description="A changed description (a new story version) instead.")


class DryRunRow(BaseModel):
    stage: str
    index: int | None = None
    remake: bool
    after: str | None = Field(None, description="Remade once this stage is: its request holds that new outcome.")
    key: str | None = None


class DryRun(BaseModel):
    rows: list[DryRunRow]
    summary: str = Field(description="In words: '1 voice, 1 picture, 2 scene encodes, the score and the cut'.")


def _view(m: Any) -> StoryView:
    vs = versions(m)
    return StoryView(version=vs[-1]["version"] if vs else 0, editable=m.status in EDITABLE and m.story is not None,
                     versions=[StoryVersion(**{k: v for k, v in x.items() if k != "story"}) for x in vs],
                     story=m.story or {})


def _load(movie: dict[str, Any]) -> Movie:
    """The owner's movie row as it is now (its story versions and options)."""
    m = movies.row(movie["owner"], movie["id"])
    if m is None:
        raise HTTPException(404, detail=f"no movie {movie['id']!r} among yours")
    return m


async def _edit(request: Request, who: Any, movie: dict[str, Any], action: str, fn: Any,
                detail: dict[str, Any] | None = None, admit: bool = False) -> Any:
    """One edit in its own write transaction; 409 / 404 become the answer; audited either way."""

    def run() -> Any:
        outcome, out = 200, None
        try:
            with movies.write() as ws:
                if admit:  # a render is admitted like a submission: counted under the user's lock
                    _check_concurrency(request, who, ws)
                out = fn(ws)
        except JobStateError as exc:
            outcome = 409
            raise HTTPException(409, detail=str(exc)) from exc
        except LookupError as exc:
            outcome = 404
            raise HTTPException(404, detail=str(exc).strip("'")) from exc
        except HTTPException as exc:
            outcome = exc.status_code
            raise
        finally:
            with movies.write() as ws:
                audit_request(request, ws, f"movie.{action}", who=who, target=movie["id"], outcome=outcome,
                              detail=detail)
        return out

    return await run_write(request, run)


@router.get("/{movie_id}/story", response_model=StoryView, responses=MOVIE_ERRORS, summary="A film's story and its versions")
def get_story(movie: OwnedMovie) -> StoryView:
    if movie["story"] is None:
        raise HTTPException(404, detail="the film has no story yet")
    return _view(_load(movie))


@router.get("/{movie_id}/story/versions/{version}", response_model=dict[str, Any], responses=MOVIE_ERRORS,
            summary="One saved version of a film's story")
def get_story_version(movie: OwnedMovie, version: Annotated[int, Path(ge=1)]) -> dict[str, Any]:
    for v in versions(_load(movie)):
        if v["version"] == version:
            return dict(v["story"])
    raise HTTPException(404, detail=f"the story has no version {version}")


@router.put("/{movie_id}/story", response_model=StoryView, responses=ERRORS, summary="Save an edited story")
async def put_story(request: Request, movie: OwnedMovie, who: CurrentUser, body: StoryEdit) -> StoryView:
    """The story's next version (validated whole: a bad field is a 422 naming it).
    Nothing is made until POST .../render."""

    await _edit(request, who, movie, "story.edit",
                lambda ws: save_story(ws, who.user, movie["id"], body.story, note=body.note), {"note": body.note})
    return _view(_load(movie))


@router.put("/{movie_id}/voices/{speaker}", response_model=StoryView, responses=ERRORS,
            summary="Change a character's voice or the narrator's")
async def put_voice(request: Request, movie: OwnedMovie, who: CurrentUser,
                    speaker: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                                                 description="A character's id, or narrator.")],
                    voice: Annotated[Voice, Body()]) -> StoryView:
    await _edit(request, who, movie, "story.voice", lambda ws: set_voice(ws, who.user, movie["id"], speaker, voice),
                {"speaker": speaker, "voice": voice.model_dump()})
    return _view(_load(movie))


@router.post("/{movie_id}/scenes/{scene}/redraw", response_model=dict[str, Any], responses=ERRORS,
             summary="Redraw one scene's picture at the next render")
async def redraw(request: Request, movie: OwnedMovie, who: CurrentUser,
                 scene: Annotated[int, Path(ge=0, lt=MAX_SCENES, description="Scene index, from 0.")],
                 body: Annotated[Redraw | None, Body()] = None) -> dict[str, Any]:
    """A new seed for that scene alone (or the one given), or a changed description."""

    body = body or Redraw()
    return await _edit(request, who, movie, "scene.redraw",  # type: ignore[no-any-return]
                       lambda ws: jobs_review.redraw(ws, who.user, movie["id"], scene, seed=body.seed,
                                                         description=body.scene_description),
                       {"scene": scene, **body.model_dump(exclude_none=True)})


@router.get("/{movie_id}/render", response_model=DryRun, responses=MOVIE_ERRORS,
            summary="What a render would remake (a dry run)")
def dry_run(movie: OwnedMovie) -> DryRun:
    """Each stage row's request, built as the render will build it, looked up in the
    cache by its key. Rows waiting on a remade stage's new outcome say so (``after``)."""

    if movie["story"] is None:
        raise HTTPException(409, detail="the film has no story yet")
    m = _load(movie)
    previous: dict[str, dict[int, str]] = {}  # the last rows' keys: stand-ins for outcomes a render remakes
    for s in movie["stages"]:
        if s["status"] == "succeeded" and s["artifact_key"]:
            previous.setdefault(s["name"], {})[s["scene"] or 0] = s["artifact_key"]
    keys = {name: [d.get(i) for i in range(max(d) + 1)] for name, d in previous.items()}
    return DryRun.model_validate(jobs_review.dry_run(m.story, m.options, open_store(), keys))


@router.post("/{movie_id}/render", status_code=202, response_model=MoviePublic, responses=ERRORS,
             summary="Render: continue a film under review, or remake a finished one")
async def render(request: Request, movie: OwnedMovie, who: CurrentUser) -> MoviePublic:
    """Makes the current story's film; unchanged stages come from the cache. A
    finished film keeps its files until the new cut replaces them."""

    await _edit(request, who, movie, "render", lambda ws: jobs_review.render(ws, who.user, movie["id"]), admit=True)
    out = movies.find(who.user, movie["id"])
    if out is None:
        raise HTTPException(404, detail=f"no movie {movie['id']!r} among yours")
    return public.movie_public(out)
