"""The two things the MCP server can act on, with one set of methods:

* LocalFilms: films made in this process into a films folder (a film's id is
  its folder's name); a film runs on a thread, so a tool call answers at once
  and the agent follows it with status.
* ServiceFilms: a DeepFlix service through its REST API with the caller's API
  key, so the service's own users, limits and quotas apply.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from ..errors import DeepFlixError, InvalidInput
from ..models import Story
from .films import FilmAsk, is_made, make_one, read_ask
from .remote import ServiceClient

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
STAGES = ("story", "picture", "speech", "score", "segment", "cut")
FILES = (("movie", "movie.mp4"), ("subtitles_srt", "movie.srt"), ("subtitles_vtt", "movie.vtt"),
         ("poster", "poster.jpg"), ("story", "story.json"), ("manifest", "film.json"))


class _Job:
    def __init__(self, scenes: int = 1) -> None:
        self.scenes = scenes  # what was asked for, until the story says how many it has
        self.status = "running"
        self.error = ""
        self.done: dict[str, int] = {}
        self.total: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, ev: Any) -> None:  # a pipeline StageEvent, from worker threads
        with self.lock:
            self.total[ev.stage] = max(self.total.get(ev.stage, 1), ev.total)
            if ev.status in ("done", "cached"):
                self.done[ev.stage] = self.done.get(ev.stage, 0) + 1


class LocalFilms:
    mode = "local"

    def __init__(self, films: Path, defaults: dict[str, Any] | None = None) -> None:
        self.films = Path(films)
        self.defaults = defaults or {}
        self.jobs: dict[str, _Job] = {}
        self.lock = threading.Lock()

    def _folder(self, film_id: str) -> Path:
        folder = self.films / film_id
        if not _ID.match(film_id) or not (folder.is_dir() or film_id in self.jobs):
            raise InvalidInput(f"no film {film_id!r} here; list_films shows the films")
        return folder

    def _start(self, film_id: str, ask: FilmAsk, story: Story | None = None, force: bool = False) -> None:
        with self.lock:
            if film_id in self.jobs and self.jobs[film_id].status == "running":
                raise InvalidInput(f"film {film_id!r} is being made already; follow it with film_status")
            job = self.jobs[film_id] = _Job(len(story.scenes) if story else ask.scenes)

        def run() -> None:
            try:
                make_one(ask, self.films / film_id, story=story, force=force, on_event=job)
                job.status = "succeeded"
            except DeepFlixError as exc:
                job.status, job.error = "failed", str(exc)
            except Exception as exc:  # a bug: the agent gets one line, not a dead thread
                job.status, job.error = "failed", f"internal error ({type(exc).__name__}: {exc})"

        threading.Thread(target=run, name=f"film-{film_id[:20]}", daemon=True).start()

    def make(self, **options: Any) -> dict[str, Any]:
        try:
            ask = FilmAsk.model_validate({**self.defaults, **{k: v for k, v in options.items() if v is not None}})
        except ValueError as exc:
            raise InvalidInput(str(exc).splitlines()[-1] if "\n" in str(exc) else str(exc)) from exc
        fid = ask.film_id()
        job = self.jobs.get(fid)
        running = job is not None and job.status == "running"
        if not running and not is_made(self.films / fid):  # asked again for a film that is made: it is found
            self._start(fid, ask)
        return self.status(fid)

    def status(self, film_id: str) -> dict[str, Any]:
        folder = self._folder(film_id)
        job = self.jobs.get(film_id)
        if job is not None and job.status != "succeeded":
            n = max(job.total.get("picture", job.scenes), 1)  # (the asked-for count first: progress never goes back)
            want = {"story": 1, "picture": n, "speech": n, "score": 1, "segment": n, "cut": 1}
            with job.lock:
                stages = {st: {"done": min(job.done.get(st, 0), want[st]), "total": want[st]} for st in STAGES}
            progress = sum(s["done"] for s in stages.values()) / sum(want.values())
            return {"id": film_id, "status": job.status, "progress": round(progress, 3), "stages": stages,
                    "error": job.error or None, "title": None}
        if is_made(folder):
            story = json.loads((folder / "story.json").read_text())
            return {"id": film_id, "status": "succeeded", "progress": 1.0, "title": story.get("title"),
                    "scenes": len(story.get("scenes", [])), "error": None}
        return {"id": film_id, "status": "unknown", "progress": 0.0, "error": "not made here; make_film or rerender"}

    def story(self, film_id: str) -> dict[str, Any]:
        path = self._folder(film_id) / "story.json"
        if not path.is_file():
            raise InvalidInput(f"film {film_id!r} has no story yet; follow it with film_status")
        return json.loads(path.read_text())  # type: ignore[no-any-return]

    def _ask(self, film_id: str) -> FilmAsk:
        ask = read_ask(self._folder(film_id))
        if ask is None:
            raise InvalidInput(f"film {film_id!r} was not made by this server (no request.json); remake it")
        return ask

    def edit_story(self, film_id: str, story: dict[str, Any]) -> dict[str, Any]:
        """Replace the story and re-render: only the stages whose inputs changed are redone."""
        try:
            new = Story.model_validate(story)
        except ValueError as exc:
            raise InvalidInput(f"not a valid story: {' '.join(str(exc).splitlines()[:3])}") from exc
        ask = self._ask(film_id)
        (self.films / film_id / "story.json").write_text(new.model_dump_json(indent=2))
        self._start(film_id, ask, story=new)
        return self.status(film_id)

    def rerender(self, film_id: str, force: bool = False) -> dict[str, Any]:
        ask = self._ask(film_id)
        path = self.films / film_id / "story.json"
        story = Story.model_validate_json(path.read_text()) if path.is_file() else None
        self._start(film_id, ask, story=story, force=force)
        return self.status(film_id)

    def list(self) -> list[dict[str, Any]]:
        ids = sorted({p.name for p in self.films.glob("*") if (p / "request.json").is_file() or is_made(p)}
                     | set(self.jobs)) if self.films.is_dir() else sorted(self.jobs)
        return [self.status(fid) for fid in ids if _ID.match(fid)]

    def media(self, film_id: str) -> dict[str, str]:
        folder = self._folder(film_id).resolve()
        links = {label: (folder / name).as_uri() for label, name in FILES if (folder / name).is_file()}
        for ext in ("otio", "fcpxml", "edl"):
            links.update({f"export_{ext}": p.as_uri() for p in folder.glob(f"*.{ext}")})
        return links


class ServiceFilms:
    mode = "service"

    def __init__(self, client: ServiceClient, defaults: dict[str, Any] | None = None) -> None:
        self.client = client
        self.defaults = defaults or {}

    @staticmethod
    def _shape(m: dict[str, Any]) -> dict[str, Any]:
        stages = {s["name"]: {"done": s["done"], "total": s["total"], "status": s["status"]} for s in m.get("stages", [])}
        return {"id": m["id"], "status": m["status"], "progress": m["progress"], "title": m.get("title"),
                "error": m.get("error"), "stages": stages}

    def make(self, **options: Any) -> dict[str, Any]:
        try:
            ask = FilmAsk.model_validate({**self.defaults, **{k: v for k, v in options.items() if v is not None}})
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        return self.status(self.client.make(ask))

    def status(self, film_id: str) -> dict[str, Any]:
        return self._shape(self.client.status(film_id))

    def story(self, film_id: str) -> dict[str, Any]:
        story = self.client.status(film_id).get("story")
        if not story:
            raise InvalidInput(f"film {film_id!r} has no story yet; follow it with film_status")
        return story  # type: ignore[no-any-return]

    def edit_story(self, film_id: str, story: dict[str, Any]) -> dict[str, Any]:
        raise InvalidInput("the service has no route to edit a film's story yet: run the MCP server locally "
                           "(without --server) to edit stories, or make a new film")

    def rerender(self, film_id: str, force: bool = False) -> dict[str, Any]:
        return self._shape(self.client.retry(film_id))

    def list(self) -> list[dict[str, Any]]:
        return [{"id": m["id"], "status": m["status"], "progress": m["progress"], "title": m.get("title"),
                 "prompt": m.get("prompt")} for m in self.client.list()["items"]]

    def media(self, film_id: str) -> dict[str, str]:
        m = self.client.status(film_id)
        links = {k: self.client.absolute(v) for k, v in m.get("urls", {}).items()}
        links.update({k: self.client.absolute(v) for k, v in (m.get("artifacts") or {}).items()})
        for fmt in ("otio", "fcpxml", "edl"):
            links[f"export_{fmt}"] = self.client.absolute(f"/api/movies/{film_id}/export?format={fmt}")
        return links
