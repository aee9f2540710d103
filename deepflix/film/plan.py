"""The film plan: every stage declared once.

A stage is its name, how many of it a film has (once, per scene, per
character), the stages its request is built from, the queue kind that runs it
(gpu or cpu), its result model and its pure request builder. The in-process
runner (``film.local``), the job system (initial rows, fan-ins, dispatch,
retries), the API's progress, the queue board and the metrics all read
``PLAN``; nothing else lists stages. A test (or a plugin package) may extend it
with ``PLAN.extended(...)``.

    story ─┬─► speech ×scene ──────────────┬─► score ─────────────┐
           │                               │                      ├─► cut
           └─► cast ×character ─► picture ×scene ─► segment ×scene ┘
                                        └─► clip ×(scenes marked motion: clip) ─┘

A per-scene stage may apply to some scenes only (``when``: the clip stage, for
the scenes whose ``motion`` is ``clip``); both runners make rows only for those,
and its outcomes are by scene, None where a scene has none. A stage may also be
allowed to fail (``may_fail``): a row that fails for good (after its retries, or
past its time limit) is then left out with a warning in the film's manifest, and
the stages that need it do without it (a scene without its clip is its still).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel

from ..models import (
    ClipResult,
    CutResult,
    PictureResult,
    PortraitResult,
    ScoreResult,
    SegmentResult,
    SpeechResult,
    Story,
    StoryRequest,
)
from .clips import clip_request, has_clip, with_clips
from .options import FilmOptions
from .requests import (
    Layout,
    SceneSlot,
    cut_request,
    layout,
    picture_request,
    portrait_request,
    score_request,
    segment_requests,
    speech_request,
    subtitle_cues,
    timeline,
)

Per = Literal["film", "scene", "character"]
Kind = Literal["cpu", "gpu"]


class PlanError(Exception):
    """The plan itself is wrong (a stage that needs an unknown one, a cycle)."""


class FilmParts:
    """What a film's requests are built from: the story, the options and the
    finished stages' outcomes (loaded lazily, so a worker reads only what the
    stage it runs needs). Derived parts (the timeline, the layout) are built
    once per object."""

    def __init__(
        self,
        opts: FilmOptions,
        providers: dict[str, str],
        *,
        story: Story | None = None,
        story_request: StoryRequest | None = None,
        load: Callable[[str], list[Any]] | None = None,
        picture_references: bool = False,
        clip_references: bool = False,
    ) -> None:
        self.opts, self.providers = opts, providers
        # whether the film's picture (clip) provider conditions scenes on the cast's portraits
        # (the runners ask the provider: this layer knows no providers)
        self.picture_references, self.clip_references = picture_references, clip_references
        self._story, self.story_request = story, story_request
        self._load = load or (lambda stage: [])
        self._outcomes: dict[str, list[Any]] = {}
        self._slots: list[SceneSlot] | None = None
        self._layout: Layout | None = None
        self._segments: list[Any] | None = None

    @property
    def story(self) -> Story:
        if self._story is None:
            raise PlanError("the film has no story yet")
        return self._story

    def set_story(self, story: Story) -> None:
        self._story = story

    def outcomes(self, stage: str) -> list[Any]:
        """Every outcome of a stage, in index order (scenes, characters)."""
        if stage not in self._outcomes:
            self._outcomes[stage] = list(self._load(stage))
        return self._outcomes[stage]

    def outcome(self, stage: str) -> Any:
        found = self.outcomes(stage)
        if len(found) != 1:
            raise PlanError(f"expected one {stage} result, found {len(found)}")
        return found[0]

    def put(self, stage: str, outcomes: Sequence[Any]) -> None:
        self._outcomes[stage] = list(outcomes)

    def scene_outcomes(self, stage: str) -> list[Any]:
        found = self.outcomes(stage)
        n = len(self.story.scenes)
        if len(found) != n:
            raise PlanError(f"expected {n} {stage} results (one per scene), found {len(found)}")
        return found

    def scene_outcome(self, stage: str, i: int) -> Any:
        """Scene i's outcome of a stage only some scenes have (``when``), or None."""
        found = self.outcomes(stage)
        return found[i] if i < len(found) else None

    @property
    def speech(self) -> list[SpeechResult]:
        return [oc.result for oc in self.scene_outcomes("speech")]

    @property
    def slots(self) -> list[SceneSlot]:
        if self._slots is None:
            self._slots = timeline(self.story, self.speech, self.opts.fps)
        return self._slots

    @property
    def layout(self) -> Layout:
        if self._layout is None:
            cues = subtitle_cues(self.story, self.slots, self.speech, self.opts.fps)
            clips = [self.scene_outcome("clip", i) for i in range(len(self.story.scenes))]
            self._layout = layout(self.story, self.slots, self.scene_outcomes("picture"),
                                  self.scene_outcomes("speech"), cues, self.opts, self.providers, clips)
        return self._layout

    def references(self, i: int, stage: str = "picture") -> list[Any]:
        """Scene i's references: the portraits of the characters in it, in their order."""
        if not (self.clip_references if stage == "clip" else self.picture_references):
            return []
        cast = self.outcomes("cast")
        index = {c.id: n for n, c in enumerate(self.story.characters)}
        return [cast[index[cid]].ref(cast[index[cid]].result.image) for cid in self.story.scenes[i].characters]

    def segment_request(self, i: int) -> Any:
        if self._segments is None:
            self._segments = segment_requests(self.layout, self.opts)
        return self._segments[i]


Builder = Callable[[FilmParts, int], BaseModel]


@dataclass(frozen=True)
class StageSpec:
    name: str  # also the stage's name inside every cache key: never rename one
    per: Per
    needs: tuple[str, ...]  # the stages its request is built from (all of their rows)
    kind: Kind  # the queue kind that runs it
    result: type[BaseModel]
    build: Builder  # pure: (parts, index) -> request
    default_provider: str
    label: str  # for people: progress bars, the film page, the board
    artifact: str  # its keys' name in a film's manifest
    time_limit: float = 600.0  # s; DEEPFLIX_TIME_LIMIT_<NAME> overrides it
    follows: str | None = None  # its provider defaults to the one chosen for that stage, when it has one
    when: Callable[[Story, int], bool] | None = None  # per scene: the scenes that have a row (None: all)
    may_fail: Callable[[FilmOptions], bool] | None = None  # a failed row is a warning, for these films
    fallback: str = ""  # what the film shows instead of a failed row, for the warning

    def indices(self, story: Story | None, n_scenes: int = 1) -> list[int]:
        """The indices of this stage's rows (scenes, characters; [0] for a film's one)."""
        if self.per == "film":
            return [0]
        if self.per == "character":
            return list(range(len(story.characters))) if story is not None else []
        if self.when is None:
            return list(range(len(story.scenes) if story is not None else n_scenes))
        return [i for i in range(len(story.scenes)) if self.when(story, i)] if story is not None else []

    def count(self, story: Story | None, n_scenes: int = 1) -> int:
        """How many rows of this stage a film has."""
        return len(self.indices(story, n_scenes))

    def falls_back(self, opts: FilmOptions) -> bool:
        """Whether a row of this stage that fails for good leaves the film going (with a warning)."""
        return self.may_fail is not None and self.may_fail(opts)

    def limit(self) -> float:
        """s one attempt may run: DEEPFLIX_TIME_LIMIT_<NAME>, else the plan's."""
        value = os.environ.get(f"DEEPFLIX_TIME_LIMIT_{self.name.upper()}")
        return float(value) if value else self.time_limit


def _cut(parts: FilmParts, i: int) -> BaseModel:
    score = parts.outcome("score")
    segments = parts.scene_outcomes(PICTURE_TRACK)
    return cut_request(parts.layout, score.ref(score.result.audio), [oc.ref(oc.result.video) for oc in segments])


def _story_request(parts: FilmParts, i: int) -> BaseModel:
    if parts.story_request is None:
        raise PlanError("the story stage needs a story request")
    return parts.story_request


STORY, FINAL = "story", "cut"
PICTURE_TRACK = "segment"  # the stage whose outcomes the cut joins, unchanged, into the film's picture
CLIP_DEFAULT = "comfyui/clip"  # the ComfyUI image-to-video provider (Wan 2.2, LTX-Video workflows)

def _picture(parts: FilmParts, i: int) -> BaseModel:
    req = picture_request(parts.story, i, parts.opts)
    refs = parts.references(i)
    return req.model_copy(update={"references": refs}) if refs else req


def _clip(parts: FilmParts, i: int) -> BaseModel:
    return clip_request(parts.story, i, parts.opts, parts.slots[i].duration, parts.outcomes("picture")[i],
                        parts.references(i, "clip"))


def film_story(story: Story, opts: FilmOptions) -> Story:
    """The story as this film makes it, when it is first known: the film's options that
    choose per scene (the scenes made as clips) marked on it. Both runners call it once;
    a later render of an edited story keeps the marks it has."""
    return with_clips(story, opts)


STAGES: tuple[StageSpec, ...] = (
    StageSpec("story", "film", (), "cpu", Story, _story_request, "builtin/planner", "Story", "story"),
    # a portrait of every character, made once by the picture provider, the reference of every scene
    StageSpec("cast", "character", ("story",), "gpu", PortraitResult,
              lambda p, i: portrait_request(p.story, i, p.opts), "builtin/illustrator", "Cast", "cast",
              follows="picture"),
    # speech before pictures: it decides the timeline, and the score waits on it alone
    StageSpec("speech", "scene", ("story",), "cpu", SpeechResult, lambda p, i: speech_request(p.story, i),
              "piper/joe", "Voices", "speech"),
    StageSpec("picture", "scene", ("cast",), "gpu", PictureResult, _picture,
              "builtin/illustrator", "Pictures", "pictures", time_limit=900.0),
    # generated motion for the scenes marked motion: clip (film/clips.py); a clip that fails is the still
    StageSpec("clip", "scene", ("cast", "picture", "speech"), "gpu", ClipResult, _clip, CLIP_DEFAULT,
              "Motion clips", "clips", time_limit=1800.0, when=has_clip, may_fail=lambda o: not o.strict_clips,
              fallback="the scene is its still picture with its camera move"),
    StageSpec("score", "film", ("speech",), "cpu", ScoreResult, lambda p, i: score_request(p.story, p.slots),
              "builtin/composer", "Music", "score"),
    StageSpec("segment", "scene", ("picture", "speech", "clip"), "cpu", SegmentResult, lambda p, i: p.segment_request(i),
              "builtin/ffmpeg-segment", "Scene encode", "segments", time_limit=1200.0),
    StageSpec("cut", "film", ("score", "segment"), "cpu", CutResult, _cut, "builtin/ffmpeg", "Final cut", "cut",
              time_limit=1800.0),
)


@dataclass(frozen=True)
class Plan:
    stages: tuple[StageSpec, ...]
    _by_name: dict[str, StageSpec] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise PlanError(f"stage names repeat: {names}")
        seen: set[str] = set()
        for st in self.stages:  # declared in an order where needs come first: no cycles
            missing = [n for n in st.needs if n not in seen]
            if missing:
                raise PlanError(f"stage {st.name!r} needs {missing}, which are not declared before it")
            seen.add(st.name)
        self._by_name.update({s.name: s for s in self.stages})
        if STORY not in self._by_name or FINAL not in self._by_name:
            raise PlanError(f"a plan starts with {STORY!r} and ends with {FINAL!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def __getitem__(self, name: str) -> StageSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise PlanError(f"unknown stage {name!r}; stages are {', '.join(self.names)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[StageSpec]:
        return iter(self.stages)

    def starts_ready(self, name: str) -> bool:
        """A stage whose rows are ready as soon as they exist (it needs at most the story)."""
        return set(self[name].needs) <= {STORY}

    def fan_ins(self) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """(stages that wait, the stages they wait for), grouped by what they wait for."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for st in self.stages:
            if not self.starts_ready(st.name):
                groups.setdefault(st.needs, []).append(st.name)
        return [(tuple(targets), deps) for deps, targets in groups.items()]

    def expected(self, n_scenes: int, story: Story | None = None) -> dict[str, int]:
        """Rows a film will have, by stage (per-scene counts from the request until the story is written)."""
        return {st.name: st.count(story, n_scenes) for st in self.stages}

    def with_stage(self, stage: StageSpec, *, before: str = FINAL, feeds: Sequence[str] = ()) -> Plan:
        """A plan with one more stage, inserted before ``before``; the stages in ``feeds`` now need it too."""
        out: list[StageSpec] = []
        for st in self.stages:
            if st.name == before:
                out.append(stage)
            out.append(replace(st, needs=st.needs + (stage.name,)) if st.name in feeds else st)
        return Plan(tuple(out))


PLAN = Plan(STAGES)


def current() -> Plan:
    """The plan in force (read at call time, so ``extended`` reaches every reader)."""
    return PLAN


@contextmanager
def extended(stage: StageSpec, *, before: str = FINAL, feeds: Sequence[str] = ()) -> Iterator[Plan]:
    """Run with one more stage in the plan (tests; a plugin's own stage)."""
    global PLAN
    old = PLAN
    PLAN = old.with_stage(stage, before=before, feeds=feeds)
    try:
        yield PLAN
    finally:
        PLAN = old
