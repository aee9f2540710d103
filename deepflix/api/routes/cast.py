"""A film's cast: a character's portrait, and replacing it with the user's own.

``PUT /api/movies/{id}/cast/{character}`` takes one image (multipart field
``portrait``: PNG, JPEG or WebP, 64-4096 px a side, at most
DEEPFLIX_MAX_UPLOAD_BYTES), stores it (pipeline/uploads.py) and gives it to the
character (jobs/cast.py), which saves a story version and renders again: only that
portrait, the pictures of the scenes the character is in, the segments that show
them and the cut are remade. Everything that can be refused is refused before the
image is stored, so a bad upload changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, HTTPException, Path, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from ...errors import InvalidInput
from ...models import Story
from ...service import files, movies, public
from ..deps import CurrentUser, OwnedMovie, media_movie, settings_of
from ..schemas import ErrorBody, MoviePublic
from .media import RangeFileResponse
from .movies import MOVIE_ERRORS
from .review import ERRORS, _edit

router = APIRouter(prefix="/api/movies", tags=["review"])

CHARACTER = Path(min_length=1, max_length=100, description="A character's id (or name, any case) in the story.")
UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {"model": MoviePublic, "description": "The film awaits review: the portrait is used at its render."},
    **ERRORS,
    404: {"model": ErrorBody, "description": "No such movie among the caller's, or no such character in it."},
    413: {"model": ErrorBody, "description": "The image is larger than DEEPFLIX_MAX_UPLOAD_BYTES."},
    422: {"model": ErrorBody, "description": "Not a PNG, JPEG or WebP that decodes, or a side under 64 or over 4096 px."},
}


@router.put("/{movie_id}/cast/{character}", status_code=202, response_model=MoviePublic, responses=UPLOAD_ERRORS,
            summary="Give a character your own portrait (re-renders that character's scenes)")
async def put_portrait(request: Request, response: Response, movie: OwnedMovie, who: CurrentUser,
                       character: Annotated[str, CHARACTER],
                       portrait: Annotated[UploadFile, File(description="The image: PNG, JPEG or WebP.")]) -> MoviePublic:
    """202: the film is rendered again with it. 200: the film awaits review, and the
    portrait is used at its render."""
    from ...jobs.cast import find_character, set_portrait
    from ...jobs.review import EDITABLE
    from ...pipeline.uploads import import_portrait
    from ...storage import open_store

    if movie["story"] is None:
        raise HTTPException(409, detail="the film has no story yet, so no cast: retry it first")
    story = Story.model_validate(movie["story"])
    i = find_character(story, character)
    if i is None:
        names = ", ".join(f"{c.name} ({c.id})" for c in story.characters) or "nobody"
        raise HTTPException(404, detail=f"no character {character!r} in this film; its cast: {names}")
    if movie["status"] not in EDITABLE:
        raise HTTPException(409, detail=f"the film is {movie['status']}: wait for it to finish (or cancel it) "
                            "before changing its cast")
    limit = settings_of(request).deepflix_max_upload_bytes
    data = await portrait.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, detail=f"the portrait is over {limit} bytes (DEEPFLIX_MAX_UPLOAD_BYTES)")
    try:
        ref = await run_in_threadpool(import_portrait, open_store(), data, what=f"the portrait of {story.characters[i].name}",
                                      limit=limit)
    except InvalidInput as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    out = await _edit(request, who, movie, "cast.portrait",
                      lambda ws: set_portrait(ws, who.user, movie["id"], story.characters[i].id, ref),
                      {"character": story.characters[i].id, "key": ref.key}, admit=True)
    if out is None:
        raise HTTPException(404, detail=f"no movie {movie['id']!r} among yours")
    now = movies.find(who.user, movie["id"])
    if now is None:
        raise HTTPException(404, detail=f"no movie {movie['id']!r} among yours")
    if now["status"] == "awaiting_review":
        response.status_code = 200
    return public.movie_public(now)


@router.get("/{movie_id}/cast/{character}/portrait", response_class=RangeFileResponse, tags=["media"],
            responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "The character's portrait sheet."}, **MOVIE_ERRORS},
            summary="A character's portrait (once made)")
async def get_portrait(movie: Annotated[dict[str, Any], Depends(media_movie(kind="portrait", param="character"))],
                       character: Annotated[str, CHARACTER]) -> RangeFileResponse:
    path = await run_in_threadpool(files.portrait_path, movie, character)
    if path is None:
        raise HTTPException(404, detail=f"no portrait of {character!r} in this film yet")
    media = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
    return RangeFileResponse(path, media_type=media, headers={"Cache-Control": "private, max-age=3600"})
