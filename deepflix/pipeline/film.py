"""The in-process runner behind ``deepflix make``: the plan's stages on a thread
pool, each stage started as soon as every stage it needs is done.

Requests are built on the calling thread from the plan's pure builders (the
job system's workers use the same ones), so every mode computes the same keys
and the same film; the providers run on the pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import config
from ..errors import InvalidInput
from ..film.clips import check_clip_provider
from ..film.limits import StageTimeLimit, Watchdog
from ..film.manifest import export, film_record
from ..film.options import FilmOptions
from ..film.plan import FINAL, STORY, FilmParts, StageSpec, current, film_story
from ..film.requests import timed_story
from ..models import ArtifactRef, Story, StoryRequest, slug
from ..plugins import resolve_providers, stage_options, supports_references
from ..quality.consistency import story_findings
from ..runner import StageOutcome, run_stage
from ..storage import ArtifactStore, open_store
from ..story.storyfile import read_story_json
from .uploads import import_portrait, read_portrait_file


@dataclass
class StageEvent:
    stage: str  # a stage of the plan
    status: str  # start | done | cached | failed | progress | fallback (a row the film went on without)
    index: int | None = None  # scene (or character) index for per-scene stages
    total: int = 1
    seconds: float = 0.0
    message: str = ""
    fraction: float = 0.0  # progress: the provider's share of this row done


@dataclass
class FilmResult:
    story: Story
    out_dir: Path
    files: dict[str, Path]
    stage_seconds: dict[str, float]
    cached: dict[str, int]
    computed: dict[str, int]
    keys: dict[str, Any] = field(default_factory=dict)  # the manifest's artifacts
    warnings: list[dict[str, Any]] = field(default_factory=list)  # rows the film went on without (failed clips)


def check_out_dir(out: Path) -> Path:
    """Fail before any work when the output folder cannot be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".deepflix-write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise InvalidInput(f"cannot write to output folder {str(out)!r}: {exc.strerror or exc}") from exc
    return out


def load_story_file(path: Path) -> Story:
    data = read_story_json(Path(path))  # bounded, and every failure one clear line
    if isinstance(data, dict) and "story" in data and "scenes" not in data:
        data = data["story"]  # a film.json manifest works too
    if isinstance(data, dict):
        _import_portrait_paths(data, Path(path).parent)
    try:
        return Story.model_validate(data)
    except Exception as exc:
        first = str(exc).splitlines()
        raise InvalidInput(f"story file {path} is not a valid story: {' '.join(first[:3])}") from exc


def _import_portrait_paths(data: dict[str, Any], base: Path) -> None:
    """A character's ``portrait`` given as a file path (relative to the story file) is
    brought into the store and replaced by its reference."""

    for ch in data.get("characters") or []:
        if isinstance(ch, dict) and isinstance(ch.get("portrait"), str):
            p = Path(ch["portrait"]).expanduser()
            p = p if p.is_absolute() else base / p
            ch["portrait"] = import_portrait(open_store(), read_portrait_file(p),
                                             what=f"the portrait of {ch.get('name') or ch.get('id')!r}").model_dump()


def with_portraits(story: Story, portraits: dict[str, ArtifactRef]) -> Story:
    """The story with the user's portraits given to the characters they name (by name or id)."""
    if not portraits:
        return story
    by_name = {k.strip().lower(): v for k, v in portraits.items()}
    chars, used = [], set()
    for ch in story.characters:
        for label in (ch.name.lower(), ch.id.lower()):
            if label in by_name:
                ch = ch.model_copy(update={"portrait": by_name[label]})
                used.add(label)
                break
        chars.append(ch)
    unknown = sorted(set(by_name) - used)
    if unknown:
        names = ", ".join(c.name for c in story.characters) or "nobody"
        raise InvalidInput(f"--cast names {', '.join(unknown)}, who is not in the story; its cast: {names}")
    return story.model_copy(update={"characters": chars})


class _Tally:
    """Made / cached counts and each stage's wall time (first start to last finish)."""

    def __init__(self) -> None:
        self.cached: dict[str, int] = {}
        self.computed: dict[str, int] = {}
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    def start(self, stage: str) -> None:
        self.started.setdefault(stage, time.perf_counter())

    def note(self, stage: str, oc: StageOutcome | None) -> None:
        book = self.cached if oc is None or oc.cached else self.computed
        book[stage] = book.get(stage, 0) + 1
        self.seconds[stage] = time.perf_counter() - self.started.get(stage, time.perf_counter())


def make_film(
    request: StoryRequest | None,
    *,
    story: Story | None = None,
    opts: FilmOptions | None = None,
    out_dir: Path | None = None,
    force: bool = False,
    store: ArtifactStore | None = None,
    on_event: Callable[[StageEvent], None] | None = None,
    portraits: dict[str, ArtifactRef] | None = None,
) -> FilmResult:
    """Make (or remake from the cache) one film in this process. ``portraits``: the
    user's own portraits of characters, by name or id (the cast stage takes them as they are)."""
    plan = current()
    opts = opts or FilmOptions()
    s = config.settings
    store = store or open_store()
    emit = on_event or (lambda ev: None)
    providers = resolve_providers(opts.providers)
    retries = s.deepflix_retries
    from ..language_check import check_film_language, story_voices  # before any work: a voice and a font for it

    check_film_language(story.language if story else request.language if request else "en", providers,
                        writes_story=story is None, voices=story_voices(story))
    check_clip_provider(opts, providers)
    parts = FilmParts(opts, providers, story=story, story_request=request,
                      picture_references=supports_references(providers, opts.provider_options.get("picture")),
                      clip_references=supports_references(providers, opts.provider_options.get("clip"), stage="clip"))
    tally = _Tally()
    keys: dict[str, list[str | None]] = {}
    warnings: list[dict[str, Any]] = []
    watchdog = Watchdog()

    def run(st: StageSpec, i: int | None, req: Any) -> StageOutcome:
        def progress(fraction: float, message: str = "") -> None:
            emit(StageEvent(st.name, "progress", index=i, fraction=fraction, message=message))

        def go() -> StageOutcome:
            return run_stage(st.name, req, store=store, provider=providers.get(st.name), force=force, retries=retries,
                             scene=i if st.per != "film" else None,
                             options=stage_options(st.name, providers, opts.provider_options), progress=progress)

        if not st.falls_back(opts):
            return go()
        with watchdog.limit((st.name, i), st.limit()):  # a row the film can do without gets a time limit here too
            return go()

    # ---- the story first: how many rows every other stage has depends on it
    tally.start(STORY)
    if story is None:
        if request is None:
            raise InvalidInput("make_film needs a story request or a story")
        emit(StageEvent(STORY, "start"))
        oc = run(plan[STORY], None, plan[STORY].build(parts, 0))
        tally.note(STORY, oc)
        parts.set_story(oc.result)
        parts.put(STORY, [oc])
        keys[STORY] = [oc.key]
        emit(StageEvent(STORY, "cached" if oc.cached else "done", seconds=oc.seconds, message=oc.result.title))
    else:
        emit(StageEvent(STORY, "cached", message="from file"))
        tally.note(STORY, None)
    if portraits:
        parts.set_story(with_portraits(parts.story, portraits))
    parts.set_story(film_story(parts.story, opts))  # the scenes chosen as clips marked on it
    story = parts.story
    out_dir = check_out_dir(out_dir or Path("films") / slug(story.title))

    # ---- every other stage, each as soon as what it needs is done
    done: set[str] = {STORY}
    outs: dict[str, list[StageOutcome | None]] = {}
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=s.deepflix_workers, thread_name_prefix="stage") as pool:
        running: dict[Future[StageOutcome], tuple[StageSpec, int]] = {}
        left: dict[str, int] = {}  # rows of each started stage not finished yet

        def finish_stage(st: StageSpec) -> None:
            done.add(st.name)
            parts.put(st.name, outs[st.name])
            keys[st.name] = [oc.key if oc else None for oc in outs[st.name]]

        def submit_ready() -> None:
            progressed = True
            while progressed:  # a stage with no rows (no characters) is done at once, which may free others
                progressed = False
                for st in plan:
                    if st.name in done or st.name in outs or not set(st.needs) <= done:
                        continue
                    rows = st.indices(story)
                    # by scene for a stage only some scenes have: None where a scene has no row
                    outs[st.name] = [None] * (len(story.scenes) if st.when is not None else len(rows))
                    left[st.name] = len(rows)
                    tally.start(st.name)
                    if rows or st.when is None:
                        emit(StageEvent(st.name, "start", total=len(rows)))
                    for i in rows:
                        running[pool.submit(run, st, i, st.build(parts, i))] = (st, i)
                    if not rows:
                        finish_stage(st)
                        progressed = True

        def row_done(st: StageSpec) -> None:
            left[st.name] -= 1
            if left[st.name] == 0:
                finish_stage(st)

        submit_ready()
        while running:
            limited = any(st.falls_back(opts) for st, _ in running.values())
            due = watchdog.next_deadline()  # None until a limited row's thread has started: look again soon
            finished, _ = wait(list(running), timeout=due if due is not None else 0.25 if limited else None,
                               return_when=FIRST_COMPLETED)
            watchdog.stop_overdue()
            for fut in finished:
                st, i = running.pop(fut)
                exc = fut.exception()
                if exc is not None and st.falls_back(opts) and isinstance(exc, (Exception, StageTimeLimit)):
                    why = (f"took longer than its time limit of {st.limit():.0f} s" if isinstance(exc, StageTimeLimit)
                           else str(exc) or type(exc).__name__)
                    message = f"scene {i + 1}: {st.label.lower()} failed ({why[:300]}); {st.fallback}"
                    warnings.append({"stage": st.name, "scene": i, "message": message})
                    emit(StageEvent(st.name, "fallback", index=i, total=left[st.name], message=message[:200]))
                    row_done(st)
                    continue
                if exc is not None:  # what finished is in the store already: a rerun resumes from it
                    for other in running:
                        other.cancel()
                    emit(StageEvent(st.name, "failed", index=i, message=str(exc)[:200]))
                    raise exc
                oc = fut.result()
                with lock:
                    outs[st.name][i] = oc
                    tally.note(st.name, oc)
                emit(StageEvent(st.name, "cached" if oc.cached else "done", index=i if st.per != "film" else None,
                                total=len(outs[st.name]), seconds=oc.seconds))
                row_done(st)
            submit_ready()

    final = parts.outcome(FINAL)
    story_out = timed_story(story, parts.slots)
    warnings.sort(key=lambda w: (plan.names.index(w["stage"]), w["scene"]))
    record = film_record(plan, final, providers, keys, story_findings(story_out) + warnings)
    extra = {"stage_seconds": {k: round(v, 3) for k, v in tally.seconds.items()},
             # per stage: how many results were made and how many came from the cache
             "stages": {"made": tally.computed, "cached": tally.cached}}
    files = export(store, record, story_out, out_dir, extra)
    return FilmResult(story=story_out, out_dir=out_dir, files=files, stage_seconds=tally.seconds,
                      cached=tally.cached, computed=tally.computed, keys=record["artifacts"], warnings=warnings)


def make_story(request: StoryRequest, *, opts: FilmOptions | None = None, out_dir: Path | None = None,
               force: bool = False, store: ArtifactStore | None = None) -> Path:
    """Only the story (``deepflix make --review``): written to <out>/story.json for a
    person to read and edit; ``make_film(story=...)`` then makes the rest."""
    plan = current()
    opts = opts or FilmOptions()
    providers = resolve_providers(opts.providers)
    parts = FilmParts(opts, providers, story_request=request)
    oc = run_stage(STORY, plan[STORY].build(parts, 0), store=store or open_store(), provider=providers[STORY],
                   force=force, retries=config.settings.deepflix_retries)
    story: Story = film_story(oc.result, opts)  # the scenes chosen as clips, marked for the reader
    out = check_out_dir(out_dir or Path("films") / slug(story.title))
    (out / "story.json").write_text(story.model_dump_json(indent=2))
    return out / "story.json"
