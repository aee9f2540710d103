"""A scene's picture as soon as it is drawn, for a storyboard that fills while the film is made."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.concurrency import run_in_threadpool

from ...models import MAX_SCENES
from ...service import files
from ..deps import media_movie
from .media import RangeFileResponse
from .movies import MOVIE_ERRORS

router = APIRouter(prefix="/api/movies", tags=["media"])


@router.get(
    "/{movie_id}/scenes/{scene}/picture",
    response_class=RangeFileResponse,
    responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
                     "description": "The scene's picture."},
               **MOVIE_ERRORS},
    summary="A scene's picture (once drawn)",
)
async def scene_picture(movie: Annotated[dict[str, Any], Depends(media_movie())],
                        scene: Annotated[int, Path(ge=0, lt=MAX_SCENES, description="Scene index, from 0.")]
                        ) -> RangeFileResponse:
    path = await run_in_threadpool(files.scene_picture_path, movie, scene)
    if path is None:
        raise HTTPException(404, detail=f"scene {scene} of this film has no picture yet")
    media = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
    return RangeFileResponse(path, media_type=media, headers={"Cache-Control": "private, max-age=3600"})
