"""The one place that shapes a movie for the outside: its rows -> ``record`` (a plain
snapshot that outlives the session) -> ``movie_public`` (the API's MoviePublic, which
the CLI prints too), and a listed row -> ``movie_summary``. Media URLs of a finished film
are signed links (security/links.py) that a <video> or <img> opens without the key."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..db.models import Movie
from ..film.plan import current
from ..models import Story
from ..quality.qa import summary as qa_summary
from ..security import links
from .schemas import CastMember, MoviePublic, MovieSummary, MovieUrls, StageProgress

Record = dict[str, Any]  # a movie and its stages as plain data (see ``record``)


# The columns a record holds: read straight from the tables (movies.find, with no ORM
# objects, since a status read is the gateway's commonest request) or off a loaded row.
MOVIE_FIELDS = ("id", "owner", "status", "title", "request", "story", "error", "result", "priority",
                "created_at", "started_at", "finished_at")
STAGE_FIELDS = ("name", "scene", "status", "attempts", "seconds", "error", "provider", "artifact_key")


def record_of(movie: Mapping[Any, Any], stages: Iterable[Mapping[Any, Any]]) -> Record:
    """A movie's fields and its stages' (in stage order) as a record."""
    out = {f: movie[f] for f in MOVIE_FIELDS}
    out["request"] = {k: v for k, v in (out["request"] or {}).items() if k != "story"}  # "story": the job's own copy
    out["stages"] = [{f: s[f] for f in STAGE_FIELDS} for s in stages]
    return out


def record(m: Movie) -> Record:
    """The movie's row and its stages, read into plain data while the session is open."""
    return record_of({f: getattr(m, f) for f in MOVIE_FIELDS},
                     ({f: getattr(s, f) for f in STAGE_FIELDS} for s in m.stages))


def urls(movie_id: str, owner: str | None = None) -> MovieUrls:
    """The film's URLs. Given its owner (a finished film), the media URLs are signed links."""
    base = f"/api/movies/{movie_id}"

    def media(path: str, file: str) -> str:
        return links.signed(f"{base}/{path}", movie_id, file, owner) if owner else f"{base}/{path}"

    return MovieUrls(
        self=base, events=f"{base}/events", video=media("video", "video"),
        subtitles_srt=media("subtitles.srt", "srt"), subtitles_vtt=media("subtitles.vtt", "vtt"),
        poster=media("poster.jpg", "poster"), cancel=f"{base}/cancel", retry=f"{base}/retry",
    )


def _finished_owner(status: str, owner: str, result: dict[str, Any] | None) -> str | None:
    """The owner, for signing media links, when the film has files (else None): a film being
    re-rendered keeps its previous version's media until the new cut replaces them."""
    return owner if status == "succeeded" or result else None


def _scenes(story: dict[str, Any] | None, request: dict[str, Any]) -> int:
    if story and story.get("scenes"):
        return len(story["scenes"])
    return int(request.get("num_sequences") or request.get("num_scenes") or 1)


def expected_stages(n_scenes: int, story: dict[str, Any] | None = None) -> dict[str, int]:
    """Rows a film will have, by stage (per-scene rows appear once the story is written)."""
    return current().expected(n_scenes, Story.model_validate(story) if story else None)


def progress_of(status: str, done: int, n_scenes: int, story: dict[str, Any] | None = None) -> float:
    if status == "succeeded":
        return 1.0
    total = sum(expected_stages(n_scenes, story).values())
    return round(min(done, total) / total, 4)


def _stage_status(statuses: list[str]) -> str:
    for st in ("failed", "running", "queued", "ready"):
        if st in statuses:
            return "queued" if st == "ready" else st
    if statuses and all(s == "succeeded" for s in statuses):
        return "succeeded"
    if "cancelled" in statuses:
        return "cancelled"
    return "waiting"


def stage_progress(movie: Record) -> list[StageProgress]:
    expected = expected_stages(_scenes(movie["story"], movie["request"]), movie["story"])
    out = []
    for name in current().names:
        rows = [s for s in movie["stages"] if s["name"] == name]
        statuses = [s["status"] for s in rows]
        done = statuses.count("succeeded")
        total = max(expected[name], len(rows))
        if total == 0 and current()[name].when is not None:
            continue  # a stage only some scenes have (clips), which this film has none of
        status = _stage_status(statuses)
        if movie["status"] == "cancelled" and status == "waiting":
            status = "cancelled"
        errors = [s["error"] for s in rows if s["status"] == "failed" and s["error"]]
        secs = [s["seconds"] for s in rows if s["seconds"] is not None]
        out.append(StageProgress(
            name=name, status=status, done=done, total=total, progress=round(done / total, 4) if total else 0.0,
            attempts=max((s["attempts"] for s in rows), default=0), seconds=round(sum(secs), 3) if secs else None,
            error=errors[0] if errors else None,
        ))
    return out


def portrait_url(movie: Record, character_id: str, key: str) -> str:
    """A character's portrait: a signed link with the artifact's key in it, so a replaced
    portrait gets a new address (no stale cache)."""
    base = f"/api/movies/{movie['id']}/cast/{character_id}/portrait"
    return links.signed(base, movie["id"], f"portrait:{character_id}", movie["owner"]) + f"&v={key[:12]}"


def portrait_keys(movie: Record) -> dict[int, str]:
    """The cast stage's artifact per character (row ``cast``, index = the character's place)."""
    return {int(s["scene"] or 0): str(s["artifact_key"]) for s in movie["stages"]
            if s["name"] == "cast" and s["status"] == "succeeded" and s["artifact_key"]}


def cast_of(movie: Record) -> list[CastMember]:
    """The story's characters in order; a portrait URL for those whose portrait is made."""
    chars = (movie.get("story") or {}).get("characters") or []
    keys = portrait_keys(movie)
    return [CastMember(id=c["id"], name=c["name"], role=c.get("role"), user=bool(c.get("portrait")),
                       portrait=portrait_url(movie, c["id"], keys[i]) if i in keys else None)
            for i, c in enumerate(chars)]


def movie_public(movie: Record) -> MoviePublic:
    """The movie as GET /api/movies/{id} answers it (and `deepflix jobs show` prints it)."""
    done = sum(1 for s in movie["stages"] if s["status"] == "succeeded")
    u = urls(movie["id"], _finished_owner(movie["status"], movie["owner"], movie.get("result")))
    artifacts: dict[str, str] = {}
    if movie["status"] == "succeeded" or movie.get("result"):  # (a re-render keeps the previous cut's files)
        artifacts = {"video": u.video, "subtitles_srt": u.subtitles_srt, "subtitles_vtt": u.subtitles_vtt,
                     "poster": u.poster}
    report = (movie.get("result") or {}).get("qa")
    if report is not None:
        artifacts["qa"] = f"{u.self}/qa"  # the whole report (routes/quality.py)
    for s in movie["stages"]:
        if s["name"] == "picture" and s["status"] == "succeeded" and s["scene"] is not None:
            artifacts[f"picture_{s['scene']}"] = links.signed(
                f"{u.self}/scenes/{s['scene']}/picture", movie["id"], f"picture:{s['scene']}", movie["owner"]
            ) + f"&v={str(s['artifact_key'] or '')[:12]}"  # a redrawn picture gets a new address (no stale cache)
    return MoviePublic(
        id=movie["id"], status=movie["status"],
        progress=progress_of(movie["status"], done, _scenes(movie["story"], movie["request"]), movie["story"]),
        created_at=movie["created_at"], started_at=movie["started_at"], finished_at=movie["finished_at"],
        request=movie["request"], stages=stage_progress(movie), story=movie["story"], title=movie["title"],
        error=movie["error"], urls=u, artifacts=artifacts, qa=qa_summary(report) if report is not None else None,
        cast=cast_of(movie),
    )


def movie_summary(m: Movie, done: int) -> MovieSummary:
    """A listed movie (its row alone; ``done``: its succeeded stages)."""
    return MovieSummary(
        id=m.id, status=m.status, progress=progress_of(m.status, done, _scenes(m.story, m.request)),
        title=m.title, prompt=str(m.request.get("prompt", "")), genre=str(m.request.get("genre", "")),
        created_at=m.created_at, finished_at=m.finished_at, error=m.error,
        urls=urls(m.id, _finished_owner(m.status, m.owner, m.result)),
    )
