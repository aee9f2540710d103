"""A finished film's whole QA report (what `deepflix qa` writes as qa.json): every check with
its value, its threshold and its detail (the stretches found, each subtitle's word error
rate, the story's findings). The movie's status carries the short form (``qa``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from ..deps import OwnedMovie
from .movies import MOVIE_ERRORS

router = APIRouter(prefix="/api/movies", tags=["movies"])

REPORT = {200: {"description": "The report: `passed`, and `checks`, each with name, value, threshold, passed and "
                               "its detail; or `error` when the film could not be measured.",
                "content": {"application/json": {"schema": {"type": "object"}}}},
          409: {"description": "The film is not finished yet (see its status)."}}


@router.get("/{movie_id}/qa", responses={**MOVIE_ERRORS, **REPORT}, summary="A film's QA report")
async def qa_report(movie: OwnedMovie) -> dict[str, Any]:
    """Loudness, true peak, A/V offset, black, frozen and silent stretches, subtitle rules, the
    story's contradictions and (with the qa extra) speech heard against the subtitles."""
    report = (movie.get("result") or {}).get("qa")
    if report is None:
        if movie["status"] != "succeeded":
            raise HTTPException(409, detail=f"the film is {movie['status']}, not finished: it has no QA report yet")
        raise HTTPException(404, detail="this film was made before QA reports were kept; retry it to measure it")
    return {"movie": movie["id"], **report}
