"""One movie: story -> (picture, speech) per scene -> score -> cut.

The ``build_*`` functions turn the story and earlier results into each stage's
request; they are pure, and the in-process runner here and the fleet's actors
both use them, so every mode computes the same keys and the same film.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .core import config
from .errors import InvalidInput
from .models import (
    Aspect,
    CutRequest,
    CutResult,
    CutScene,
    GenerationParams,
    NextScene,
    PictureRequest,
    PictureResult,
    Resolution,
    ScoreCue,
    ScoreRequest,
    ScoreResult,
    SegmentRequest,
    SpeechLine,
    SpeechRequest,
    SpeechResult,
    Story,
    StoryRequest,
    frame_size,
    slug,
)
from .runner import StageOutcome, run_stage
from .storage import ArtifactStore, open_store

SCENE_LEAD = 0.6  # silence before a scene's first words
SCENE_TAIL = 0.9  # and after its last, so transitions never cut a word
MIN_SCENE = 3.0
TITLE_SECONDS = 3.5  # the title card overlays the opening of scene 1, before its words
CREDITS_SECONDS = 5.0  # the credits roll over the end of the last scene, after its words
TRANSITION_SECONDS = 0.8  # plays over the outgoing scene's silent tail (SCENE_TAIL)


class FilmOptions(BaseModel):
    """Everything about a film that is not the story."""

    model_config = ConfigDict(extra="forbid")
    aspect: Aspect = "16:9"
    resolution: Resolution = "1080p"
    fps: int = 30
    params: GenerationParams = Field(default_factory=GenerationParams)
    loudness_lufs: float = -16.0
    burn_subtitles: bool = True
    providers: dict[str, str] = Field(default_factory=dict)  # stage -> provider name
    provider_options: dict[str, dict[str, Any]] = Field(default_factory=dict)  # stage -> that provider's Options


# --------------------------------------------------------------------------- requests


def picture_request(story: Story, i: int, opts: FilmOptions) -> PictureRequest:
    scene = story.scenes[i]
    width, height = frame_size(opts.aspect, opts.resolution)
    params = opts.params.model_copy(update={"seed": opts.params.seed if opts.params.seed else story.seed})
    return PictureRequest(
        scene=scene.visual(),
        characters=[story.character(cid).sheet() for cid in scene.characters],
        genre=story.genre,
        width=width,
        height=height,
        params=params,
        scene_index=i,
    )


def speech_request(story: Story, i: int) -> SpeechRequest:
    scene = story.scenes[i]
    lines: list[SpeechLine] = []
    if scene.narration.strip():
        lines.append(SpeechLine(speaker="narrator", kind="narration", voice=story.narrator, text=scene.narration.strip()))
    for d in scene.dialogue:
        lines.append(SpeechLine(speaker=d.speaker, kind="dialogue", voice=story.character(d.speaker).voice, text=d.text))
    return SpeechRequest(lines=lines, scene_index=i)


@dataclass
class SceneSlot:
    start: float
    duration: float
    speech_offset: float


def _ceil_frame(t: float, fps: int) -> float:
    return math.ceil(round(t * fps, 6)) / fps


def timeline(story: Story, speech: list[SpeechResult], fps: int = 30) -> list[SceneSlot]:
    """Scene lengths come from their speech: lead + words + tail, title before the
    first scene's words and credits after the last's, each a whole number of frames."""
    slots: list[SceneSlot] = []
    t = 0.0
    n = len(story.scenes)
    for i, sp in enumerate(speech):
        offset = SCENE_LEAD + (TITLE_SECONDS if i == 0 else 0.0)
        dur = max(MIN_SCENE, offset + sp.duration + SCENE_TAIL + (CREDITS_SECONDS if i == n - 1 else 0.0))
        dur = _ceil_frame(dur, fps)
        slots.append(SceneSlot(start=round(t, 6), duration=dur, speech_offset=offset))
        t += dur
    return slots


def timed_story(story: Story, slots: list[SceneSlot]) -> Story:
    """The story with each scene's duration set to its real length in the film."""
    scenes = [s.model_copy(update={"duration": round(slot.duration, 3)}) for s, slot in zip(story.scenes, slots)]
    return story.model_copy(update={"scenes": scenes})


def score_request(story: Story, slots: list[SceneSlot]) -> ScoreRequest:
    cues = [
        ScoreCue(start=slot.start, duration=slot.duration, mood=s.music.mood, intensity=s.music.intensity)
        for s, slot in zip(story.scenes, slots)
    ]
    return ScoreRequest(genre=story.genre, seed=story.seed, cues=cues, duration=slots[-1].start + slots[-1].duration)


_TRANSITIONS = ("crossfade", "crossfade", "fade_black", "wipe_left", "crossfade", "slide_up", "circle_open")
_MOVES = {
    "wide": ("pan_right", "pan_left", "pull_out", "push_in"),
    "aerial": ("tilt_down", "pull_out", "pan_right"),
    "medium": ("push_in", "pan_left", "pan_right"),
    "close": ("push_in", "pull_out"),
    "over_the_shoulder": ("push_in", "pan_right"),
}


def _pick(options: tuple[str, ...], *salt: Any) -> str:
    h = int(hashlib.sha256(repr(salt).encode()).hexdigest()[:8], 16)
    return options[h % len(options)]


def credits(story: Story, providers: dict[str, str]) -> list[str]:
    lines = [f"{c.name} — {c.role}" for c in story.characters]
    made = [f"{label}: {providers[stage]}" for stage, label in
            (("story", "Story"), ("picture", "Pictures"), ("speech", "Voices"), ("score", "Music"), ("cut", "Cut"))
            if stage in providers]
    return lines + [""] + made + ["", "Made with DeepFlix"]


def cut_request(
    story: Story,
    slots: list[SceneSlot],
    pictures: list[StageOutcome],
    speech: list[StageOutcome],
    score: StageOutcome | None,
    subtitles: list[Any],
    opts: FilmOptions,
    providers: dict[str, str],
) -> CutRequest:
    scenes = []
    n = len(story.scenes)
    for i, (s, slot, pic, sp) in enumerate(zip(story.scenes, slots, pictures, speech)):
        pres: PictureResult = pic.result
        move = s.camera_move or _pick(_MOVES[s.shot], story.seed, i, "move")
        trans = s.transition or ("fade_black" if i == n - 1 else _pick(_TRANSITIONS, story.seed, i, "transition"))
        scenes.append(
            CutScene(
                picture=pic.ref(pres.image),
                layers=[pic.ref(name) for name in pres.layers],
                clip=pic.ref(pres.clip) if pres.clip else None,
                start=slot.start,
                duration=slot.duration,
                speech=sp.ref(sp.result.audio),
                speech_offset=slot.speech_offset,
                camera_move=move,
                transition=trans,
            )
        )
    return CutRequest(
        title=story.title,
        logline=story.logline,
        credits=credits(story, providers),
        aspect=opts.aspect,
        resolution=opts.resolution,
        fps=opts.fps,
        scenes=scenes,
        title_duration=TITLE_SECONDS,
        credits_duration=CREDITS_SECONDS,
        score=score.ref(score.result.audio) if score else None,
        subtitles=subtitles,
        burn_subtitles=opts.burn_subtitles,
        loudness_lufs=opts.loudness_lufs,
    )


def segment_requests(creq: CutRequest, opts: FilmOptions | None = None) -> list[SegmentRequest]:
    """Split the film's picture into one request per scene (see SegmentRequest)."""
    width, height = frame_size(creq.aspect, creq.resolution)
    n = len(creq.scenes)
    reqs = []
    for i, sc in enumerate(creq.scenes):
        nxt = creq.scenes[i + 1] if i + 1 < n else None
        fps = creq.fps

        def rel(t: float, start: float = sc.start) -> float:
            # snapped to the frame grid: cue times are rounded to ms on the film's clock, and a
            # scene that moves (an earlier scene got longer) must give the same relative times
            return round(round((t - start) * fps) / fps, 6)

        cues = [
            c.model_copy(update={"start": rel(c.start), "end": rel(c.end)})
            for c in creq.subtitles
            if c.scene_index == i
        ]
        reqs.append(
            SegmentRequest(
                index=i,
                picture=sc.picture,
                layers=sc.layers,
                clip=sc.clip,
                duration=sc.duration,
                camera_move=sc.camera_move,
                subtitles=cues,
                title=creq.title if i == 0 else None,
                logline=creq.logline if i == 0 else "",
                title_duration=creq.title_duration if i == 0 else 0.0,
                credits=creq.credits if i == n - 1 else [],
                credits_duration=creq.credits_duration if i == n - 1 else 0.0,
                next=NextScene(picture=nxt.picture, layers=nxt.layers, clip=nxt.clip, camera_move=nxt.camera_move)
                if nxt
                else None,
                transition=sc.transition if nxt else "fade_black",
                transition_duration=TRANSITION_SECONDS,
                fade_in=i == 0,
                width=width,
                height=height,
                fps=creq.fps,
                burn_subtitles=creq.burn_subtitles,
                codec=creq.codec,
                crf=creq.crf,
                preset=creq.preset,
            )
        )
    return reqs


def subtitle_cues(story: Story, slots: list[SceneSlot], speech: list[SpeechResult], fps: int = 30) -> list[Any]:
    from .subtitles import build_cues

    per_scene = []
    for slot, sp in zip(slots, speech):
        base = slot.start + slot.speech_offset
        segs = [
            seg.model_copy(update={
                "start": seg.start + base,
                "end": seg.end + base,
                "words": [w.model_copy(update={"start": w.start + base, "end": w.end + base}) for w in seg.words],
            })
            for seg in sp.segments
        ]
        per_scene.append((slot.start, slot.start + slot.duration, segs))
    return build_cues(per_scene, fps=fps)


# --------------------------------------------------------------------------- running


@dataclass
class StageEvent:
    stage: str  # story | picture | speech | score | cut
    status: str  # start | done | cached | failed
    index: int | None = None  # scene index for per-scene stages
    total: int = 1
    seconds: float = 0.0
    message: str = ""


@dataclass
class FilmResult:
    story: Story
    out_dir: Path
    files: dict[str, Path]
    stage_seconds: dict[str, float]
    cached: dict[str, int]
    computed: dict[str, int]
    keys: dict[str, Any] = field(default_factory=dict)


def run_all(tasks: list[Callable[[], None]], workers: int, name: str) -> None:
    """Run the tasks on a thread pool; on the first failure, cancel what has not
    started and raise it (what finished is already in the store)."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name) as pool:
        futures = [pool.submit(t) for t in tasks]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f.done() and f.exception() is not None), None)
        if failed is not None:
            for f in futures:
                f.cancel()
            raise failed.exception()  # type: ignore[misc]


def _resolved_providers(opts: FilmOptions) -> dict[str, str]:
    from .plugins import STAGES, get_provider_class

    s = config.settings
    return {st: get_provider_class(st, opts.providers.get(st) or s.provider_for(st)).provider_id for st in STAGES}


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
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise InvalidInput(f"story file not found: {path}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"story file {path} is not valid JSON: {exc}") from exc
    if isinstance(data, dict) and "story" in data and "scenes" not in data:
        data = data["story"]  # a film.json manifest works too
    try:
        return Story.model_validate(data)
    except Exception as exc:
        first = str(exc).splitlines()
        raise InvalidInput(f"story file {path} is not a valid story: {' '.join(first[:3])}") from exc


def make_film(
    request: StoryRequest | None,
    *,
    story: Story | None = None,
    opts: FilmOptions | None = None,
    out_dir: Path | None = None,
    force: bool = False,
    store: ArtifactStore | None = None,
    on_event: Callable[[StageEvent], None] | None = None,
) -> FilmResult:
    """Make (or remake from the cache) one film in this process."""
    opts = opts or FilmOptions()
    s = config.settings
    store = store or open_store()
    emit = on_event or (lambda ev: None)
    lock = threading.Lock()
    providers = _resolved_providers(opts)
    retries = s.deepflix_retries
    stage_seconds: dict[str, float] = {}
    cached: dict[str, int] = {}
    computed: dict[str, int] = {}

    def note(stage: str, oc: StageOutcome) -> None:
        with lock:
            (cached if oc.cached else computed)[stage] = (cached if oc.cached else computed).get(stage, 0) + 1

    # ---- story
    t0 = time.perf_counter()
    if story is None:
        assert request is not None
        emit(StageEvent("story", "start"))
        oc = run_stage("story", request, store=store, provider=providers["story"], force=force, retries=retries)
        note("story", oc)
        story = oc.result
        emit(StageEvent("story", "cached" if oc.cached else "done", seconds=oc.seconds, message=story.title))
    else:
        emit(StageEvent("story", "cached", message="from file"))
        cached["story"] = 1
    stage_seconds["story"] = time.perf_counter() - t0
    out_dir = check_out_dir(out_dir or Path("films") / slug(story.title))

    # ---- pictures and speech, scene by scene, in parallel
    n = len(story.scenes)
    pictures: list[StageOutcome | None] = [None] * n
    speeches: list[StageOutcome | None] = [None] * n
    busy = {"picture": 0.0, "speech": 0.0}

    def do(stage: str, i: int) -> None:
        req = picture_request(story, i, opts) if stage == "picture" else speech_request(story, i)
        oc = run_stage(stage, req, store=store, provider=providers[stage], force=force, retries=retries, scene=i,
                           options=opts.provider_options.get(stage))
        note(stage, oc)
        with lock:
            (pictures if stage == "picture" else speeches)[i] = oc
            busy[stage] += oc.seconds
        emit(StageEvent(stage, "cached" if oc.cached else "done", index=i, total=n, seconds=oc.seconds))

    t0 = time.perf_counter()
    emit(StageEvent("picture", "start", total=n))
    emit(StageEvent("speech", "start", total=n))
    # speech first: it decides the timeline, and the score waits on it
    run_all([lambda i=i: do("speech", i) for i in range(n)] + [lambda i=i: do("picture", i) for i in range(n)],
            s.deepflix_workers, "scene")
    wall = time.perf_counter() - t0
    # wall time of the parallel phase, split by each stage's share of the work
    total_busy = sum(busy.values()) or 1.0
    for st in ("picture", "speech"):
        stage_seconds[st] = wall * busy[st] / total_busy

    speech_results: list[SpeechResult] = [oc.result for oc in speeches]  # type: ignore[union-attr]
    slots = timeline(story, speech_results, opts.fps)
    story_out = timed_story(story, slots)

    # ---- score and the scenes' video, side by side (neither needs the other)
    cues = subtitle_cues(story, slots, speech_results, opts.fps)
    creq = cut_request(story, slots, pictures, speeches, None, cues, opts, providers)  # type: ignore[arg-type]
    seg_reqs = segment_requests(creq, opts)
    segments: list[StageOutcome | None] = [None] * n
    score_box: list[StageOutcome] = []
    seg_busy = [0.0, 0.0]  # score, segments

    def do_score() -> None:
        emit(StageEvent("score", "start"))
        oc = run_stage("score", score_request(story, slots), store=store, provider=providers["score"], force=force, retries=retries)
        note("score", oc)
        score_box.append(oc)
        with lock:
            seg_busy[0] += oc.seconds
        emit(StageEvent("score", "cached" if oc.cached else "done", seconds=oc.seconds))

    def do_segment(i: int) -> None:
        oc = run_stage("segment", seg_reqs[i], store=store, provider=providers["segment"], force=force, retries=retries, scene=i)
        note("segment", oc)
        with lock:
            segments[i] = oc
            seg_busy[1] += oc.seconds
        emit(StageEvent("segment", "cached" if oc.cached else "done", index=i, total=n, seconds=oc.seconds))

    t0 = time.perf_counter()
    emit(StageEvent("segment", "start", total=n))
    run_all([do_score] + [lambda i=i: do_segment(i) for i in range(n)], s.deepflix_workers, "video")
    wall = time.perf_counter() - t0
    busy_total = sum(seg_busy) or 1.0
    stage_seconds["score"] = wall * seg_busy[0] / busy_total
    stage_seconds["segment"] = wall * seg_busy[1] / busy_total
    score = score_box[0]

    # ---- cut: join the segments, mix the sound, mux the subtitles
    t0 = time.perf_counter()
    emit(StageEvent("cut", "start"))
    creq = creq.model_copy(
        update={
            "score": score.ref(score.result.audio),
            "segments": [oc.ref(oc.result.video) for oc in segments],  # type: ignore[union-attr]
        }
    )
    cut = run_stage("cut", creq, store=store, provider=providers["cut"], force=force, retries=retries)
    note("cut", cut)
    emit(StageEvent("cut", "cached" if cut.cached else "done", seconds=cut.seconds))
    stage_seconds["cut"] = time.perf_counter() - t0

    files = export(store, cut, story_out, out_dir, pictures, speeches, score, providers, stage_seconds,
                   [oc.key for oc in segments], {"made": computed, "cached": cached})  # type: ignore[union-attr]
    return FilmResult(
        story=story_out, out_dir=out_dir, files=files, stage_seconds=stage_seconds, cached=cached, computed=computed,
        keys={"cut": cut.key, "score": score.key, "segments": [oc.key for oc in segments]},  # type: ignore[union-attr]
    )


def _place(src: Path, dest: Path) -> None:
    """Put a stored file at dest: a hard link when possible (no copy), replacing atomically."""
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        tmp.hardlink_to(src)
    except OSError:
        shutil.copyfile(src, tmp)
    tmp.replace(dest)


def export(
    store: ArtifactStore,
    cut: StageOutcome,
    story: Story,
    out_dir: Path,
    pictures: list[Any],
    speeches: list[Any],
    score: StageOutcome,
    providers: dict[str, str],
    stage_seconds: dict[str, float],
    segment_keys: list[str] | None = None,
    counts: dict[str, dict[str, int]] | None = None,
) -> dict[str, Path]:
    segment_keys = segment_keys or []
    res: CutResult = cut.result
    files: dict[str, Path] = {}
    for label, name, dest in (
        ("movie", res.video, "movie.mp4"),
        ("srt", res.srt, "movie.srt"),
        ("vtt", res.vtt, "movie.vtt"),
        ("poster", res.poster, "poster.jpg"),
        ("preview", res.preview, "preview" + (Path(res.preview).suffix if res.preview else "")),
    ):
        if name:
            _place(store.local_path(cut.key, name), out_dir / dest)
            files[label] = out_dir / dest
    (out_dir / "story.json").write_text(story.model_dump_json(indent=2))
    files["story"] = out_dir / "story.json"
    manifest = {
        "story": story.model_dump(mode="json"),
        "providers": providers,
        "duration": res.duration,
        "stage_seconds": {k: round(v, 3) for k, v in stage_seconds.items()},
        "stages": counts or {},  # per stage: how many results were made and how many came from the cache
        "artifacts": {
            "pictures": [p.key for p in pictures],
            "speech": [s.key for s in speeches],
            "score": score.key,
            "segments": [seg for seg in segment_keys],
            "cut": cut.key,
        },
    }
    (out_dir / "film.json").write_text(json.dumps(manifest, indent=2))
    files["manifest"] = out_dir / "film.json"
    return files

