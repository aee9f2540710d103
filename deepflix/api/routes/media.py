"""A finished film's files: the video with HTTP Range (players seek with it), the
subtitles and the poster. They come from the artifact store, by the cut's key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from starlette.responses import FileResponse

from ...service import files
from ..deps import media_movie
from .movies import MOVIE_ERRORS

router = APIRouter(prefix="/api/movies", tags=["media"])

NOT_READY = {409: {"description": "The film is not finished yet (see its status)."}}


class RangeFileResponse(FileResponse):
    """Starlette's FileResponse serves Range (206 with Content-Range, 416 with
    ``bytes */size``, multipart for several ranges). A Range it cannot parse it
    answers with 400; RFC 9110 §14.2 says to ignore such a header and send the
    whole file, which is what players expect, so that is what this does."""

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        from starlette.responses import MalformedRangeHeader

        try:
            return super()._parse_range_header(http_range, file_size)
        except MalformedRangeHeader:
            return []  # -> the whole file, 200


async def _file(movie: dict[str, Any], which: str, media_type: str, filename: str) -> RangeFileResponse:
    if movie["status"] != "succeeded" and not movie.get("result"):  # a re-render serves the previous cut meanwhile
        raise HTTPException(409, detail=f"the film is {movie['status']}, not finished: its {which} is not made yet")
    path = await run_in_threadpool(files.artifact_path, movie, which)
    if path is None:
        raise HTTPException(404, detail=f"the film's {which} is missing from the store; retry the film to remake it")
    return RangeFileResponse(
        path,
        media_type=media_type,
        filename=filename,
        content_disposition_type="inline",
        headers={"Cache-Control": "private, max-age=3600"},
    )


def _binary(media_type: str, ranged: bool = False) -> dict[int | str, dict[str, Any]]:
    content = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    out: dict[int | str, dict[str, Any]] = {200: {"content": content, "description": "The file."}}
    if ranged:
        out[206] = {"content": content, "description": "The requested byte range (Content-Range)."}
        out[416] = {"description": "The range lies outside the file (Content-Range: bytes */size)."}
    return {**out, **MOVIE_ERRORS, **NOT_READY}


@router.get("/{movie_id}/video", response_class=RangeFileResponse, responses=_binary("video/mp4", ranged=True),
            summary="The film (MP4, seekable with Range)")
async def video(movie: Annotated[dict[str, Any], Depends(media_movie("video"))]) -> RangeFileResponse:
    return await _file(movie, "video", "video/mp4", f"{movie['id']}.mp4")


@router.get("/{movie_id}/subtitles.srt", response_class=RangeFileResponse,
            responses=_binary("application/x-subrip"), summary="Subtitles (SRT)")
async def subtitles_srt(movie: Annotated[dict[str, Any], Depends(media_movie("srt"))]) -> RangeFileResponse:
    return await _file(movie, "srt", "application/x-subrip", f"{movie['id']}.srt")


@router.get("/{movie_id}/subtitles.vtt", response_class=RangeFileResponse,
            responses=_binary("text/vtt"), summary="Subtitles (WebVTT, for <track>)")
async def subtitles_vtt(movie: Annotated[dict[str, Any], Depends(media_movie("vtt"))]) -> RangeFileResponse:
    return await _file(movie, "vtt", "text/vtt", f"{movie['id']}.vtt")


@router.get("/{movie_id}/poster.jpg", response_class=RangeFileResponse, responses=_binary("image/jpeg"),
            summary="The poster (JPEG)")
async def poster(movie: Annotated[dict[str, Any], Depends(media_movie("poster"))]) -> RangeFileResponse:
    return await _file(movie, "poster", "image/jpeg", f"{movie['id']}.jpg")
