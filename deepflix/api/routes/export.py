"""`GET /api/movies/{id}/export?format=otio|fcpxml|edl`: a finished film's
timeline for an editor, zipped with its media (pictures, speech, score) that
the timeline references by relative paths (deepflix/handoff/export.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ...errors import InvalidInput
from ...handoff.export import export_zip
from ...handoff.sources import from_movie
from ...storage import open_store
from ..deps import OwnedMovie
from .movies import MOVIE_ERRORS

router = APIRouter(prefix="/api/movies", tags=["media"])


def _zip(movie: dict[str, Any], fmt: str) -> tuple[bytes, str]:
    return export_zip(from_movie(movie, open_store()), fmt)


@router.get(
    "/{movie_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                     "description": "A zip: the timeline file and its media/ folder."},
               **MOVIE_ERRORS, 409: {"description": "The film is not finished yet (see its status)."}},
    summary="The film's timeline for an editor (OTIO, FCPXML or EDL, zipped with its media)",
)
async def export_movie(
    movie: OwnedMovie,
    format: Annotated[Literal["otio", "fcpxml", "edl"], Query(description="otio: OpenTimelineIO; fcpxml: Final Cut "
                                                              "Pro X XML; edl: CMX 3600")] = "otio",
) -> Response:
    if movie["status"] != "succeeded":
        raise HTTPException(409, detail=f"the film is {movie['status']}, not finished: it can be exported once made")
    try:
        body, name = await run_in_threadpool(_zip, movie, format)
    except ModuleNotFoundError as exc:  # the `handoff` extra (OpenTimelineIO and its adapters) is not installed
        raise HTTPException(503, detail="exports need the handoff extra: pip install 'deepflix[handoff]'") from exc
    except (InvalidInput, FileNotFoundError) as exc:
        raise HTTPException(404, detail=f"the film's media are missing from the store ({exc}); retry the film "
                                        "to remake them") from exc
    return Response(body, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, max-age=3600"})
