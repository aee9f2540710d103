"""The pure request builders: from the story and earlier results to each
stage's request. A picture's request holds only what a picture depends on, so
a narration edit never redraws it; the film's layout (scene slots, moves,
transitions, subtitles) is built once and both the segments and the cut are
built from it, so every mode computes the same keys and the same film.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..models import (
    DEFAULT_CRF,
    DEFAULT_PRESET,
    ArtifactRef,
    Aspect,
    CameraMove,
    CutRequest,
    CutScene,
    NextScene,
    PictureRequest,
    PictureResult,
    PortraitRequest,
    Resolution,
    ScoreCue,
    ScoreRequest,
    SegmentRequest,
    SpeechLine,
    SpeechRequest,
    SpeechResult,
    Story,
    SubtitleCue,
    Transition,
    frame_size,
)
from .options import FilmOptions

SCENE_LEAD = 0.6  # silence before a scene's first words
SCENE_TAIL = 0.9  # and after its last, so transitions never cut a word
MIN_SCENE = 3.0
TITLE_SECONDS = 3.5  # the title card overlays the opening of scene 1, before its words
CREDITS_SECONDS = 5.0  # the credits roll over the end of the last scene, after its words
TRANSITION_SECONDS = 0.8  # plays over the outgoing scene's silent tail (SCENE_TAIL)


class Outcome:
    """What a builder needs of a finished stage: its result and a way to name its files.
    (runner.StageOutcome is one; so is anything with .key, .result and .ref.)"""

    key: str
    result: Any

    def ref(self, name: str) -> ArtifactRef:  # pragma: no cover - protocol
        raise NotImplementedError


# --------------------------------------------------------------------------- per scene


def picture_request(story: Story, i: int, opts: FilmOptions) -> PictureRequest:
    scene = story.scenes[i]
    width, height = frame_size(opts.aspect, opts.resolution)
    seed = opts.picture_seeds.get(i) or (opts.params.seed if opts.params.seed else story.seed)
    params = opts.params.model_copy(update={"seed": seed})
    return PictureRequest(
        scene=scene.visual(),
        characters=[story.character(cid).sheet() for cid in scene.characters],
        genre=story.genre,
        width=width,
        height=height,
        params=params,
        scene_index=i,
    )


def character_seed(story: Story, i: int, base: int) -> int:
    """A character's own seed: stable for their id, so adding a character never redraws another."""
    h = int(hashlib.sha256(f"{story.characters[i].id}".encode()).hexdigest()[:8], 16)
    return (base + h) % 2**32


def portrait_request(story: Story, i: int, opts: FilmOptions) -> PortraitRequest:
    """Character i's portrait sheet: their visual traits alone (and the user's picture, if they brought one)."""
    ch = story.characters[i]
    seed = character_seed(story, i, opts.params.seed if opts.params.seed else story.seed)
    return PortraitRequest(character=ch.sheet(), genre=story.genre, params=opts.params.model_copy(update={"seed": seed}),
                           source=ch.portrait)


def speech_request(story: Story, i: int) -> SpeechRequest:
    scene = story.scenes[i]
    lines: list[SpeechLine] = []
    if scene.narration.strip():
        lines.append(SpeechLine(speaker="narrator", kind="narration", voice=story.narrator, text=scene.narration.strip()))
    for d in scene.dialogue:
        lines.append(SpeechLine(speaker=d.speaker, kind="dialogue", voice=story.character(d.speaker).voice, text=d.text))
    return SpeechRequest(lines=lines, scene_index=i, language=story.language)


# --------------------------------------------------------------------------- the timeline


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


def subtitle_cues(story: Story, slots: list[SceneSlot], speech: list[SpeechResult], fps: int = 30) -> list[SubtitleCue]:
    from ..subtitles import build_cues

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
    return build_cues(per_scene, fps=fps, language=story.language)


# --------------------------------------------------------------------------- the layout, the segments, the cut

_TRANSITIONS = ("crossfade", "crossfade", "fade_black", "wipe_left", "crossfade", "slide_up", "circle_open")
_MOVES = {
    "wide": ("pan_right", "pan_left", "pull_out", "push_in"),
    "aerial": ("tilt_down", "pull_out", "pan_right"),
    "medium": ("push_in", "pan_left", "pan_right"),
    "close": ("push_in", "pull_out"),
    "over_the_shoulder": ("push_in", "pan_right"),
}
# who made what, in the credits (stages the plan has but the credits don't name are left out)
CREDITED = ("story", "picture", "speech", "score", "cut")


def _pick(options: tuple[str, ...], *salt: Any) -> str:
    h = int(hashlib.sha256(repr(salt).encode()).hexdigest()[:8], 16)
    return options[h % len(options)]


def scene_move(story: Story, i: int) -> CameraMove:
    """Scene i's camera move: the story's, else one picked for its shot (stable for the seed)."""
    return story.scenes[i].camera_move or _pick(_MOVES[story.scenes[i].shot], story.seed, i, "move")  # type: ignore[return-value]


def credits(story: Story, providers: dict[str, str]) -> list[str]:
    from ..languages import labels  # our words, in the film's language

    words = labels(story.language)
    lines = [f"{c.name} — {c.role}" for c in story.characters]
    made = [f"{words[stage]}: {providers[stage]}" for stage in CREDITED if stage in providers]
    return lines + [""] + made + ["", words["made"]]


class Layout(BaseModel):
    """The film as it will be cut: every scene's slot, move and transition, the
    title, credits and subtitles. The segments are built from it, and the cut
    from it plus the score and the segments."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str
    logline: str = ""
    credits: list[str] = Field(default_factory=list)
    aspect: Aspect = "16:9"
    resolution: Resolution = "1080p"
    fps: int = 30
    scenes: list[CutScene]
    title_duration: float = TITLE_SECONDS
    credits_duration: float = CREDITS_SECONDS
    subtitles: list[SubtitleCue] = Field(default_factory=list)
    burn_subtitles: bool = True
    loudness_lufs: float = -16.0
    codec: Literal["h264", "h265", "av1"] = "h264"
    crf: int = DEFAULT_CRF
    preset: str = DEFAULT_PRESET
    language: str = "en"


def layout(
    story: Story,
    slots: list[SceneSlot],
    pictures: list[Any],
    speech: list[Any],
    subtitles: list[SubtitleCue],
    opts: FilmOptions,
    providers: dict[str, str],
    clips: list[Any] | None = None,
) -> Layout:
    """``clips``: the clip stage's outcomes by scene (None where a scene has no clip)."""
    scenes = []
    n = len(story.scenes)
    for i, (s, slot, pic, sp) in enumerate(zip(story.scenes, slots, pictures, speech)):
        pres: PictureResult = pic.result
        move = scene_move(story, i)
        made = (clips or [])[i] if i < len(clips or []) else None
        clip = made.ref(made.result.video) if made else pic.ref(pres.clip) if pres.clip else None
        trans: Transition = s.transition or (  # type: ignore[assignment]
            "fade_black" if i == n - 1 else _pick(_TRANSITIONS, story.seed, i, "transition"))
        scenes.append(
            CutScene(
                picture=pic.ref(pres.image),
                layers=[pic.ref(name) for name in pres.layers],
                clip=clip,
                clip_extend=(made.result.extend if made else "hold") if clip else None,
                start=slot.start,
                duration=slot.duration,
                speech=sp.ref(sp.result.audio),
                speech_offset=slot.speech_offset,
                camera_move=move,
                transition=trans,
            )
        )
    return Layout(
        title=story.title,
        logline=story.logline,
        credits=credits(story, providers),
        aspect=opts.aspect,
        resolution=opts.resolution,
        fps=opts.fps,
        scenes=scenes,
        subtitles=subtitles,
        burn_subtitles=opts.burn_subtitles,
        loudness_lufs=opts.loudness_lufs,
        language=story.language,
    )


def segment_requests(lay: Layout | CutRequest, opts: FilmOptions | None = None) -> list[SegmentRequest]:
    """Split the film's picture into one request per scene (see SegmentRequest)."""
    width, height = frame_size(lay.aspect, lay.resolution)
    n = len(lay.scenes)
    reqs = []
    for i, sc in enumerate(lay.scenes):
        nxt = lay.scenes[i + 1] if i + 1 < n else None
        fps = lay.fps

        def rel(t: float, start: float = sc.start, fps: float = fps) -> float:
            # snapped to the frame grid: cue times are rounded to ms on the film's clock, and a
            # scene that moves (an earlier scene got longer) must give the same relative times
            return round(round((t - start) * fps) / fps, 6)

        cues = [
            c.model_copy(update={"start": rel(c.start), "end": rel(c.end)})
            for c in lay.subtitles
            if c.scene_index == i
        ]
        reqs.append(
            SegmentRequest(
                index=i,
                picture=sc.picture,
                layers=sc.layers,
                clip=sc.clip,
                clip_extend=sc.clip_extend,
                duration=sc.duration,
                camera_move=sc.camera_move,
                subtitles=cues,
                title=lay.title if i == 0 else None,
                logline=lay.logline if i == 0 else "",
                title_duration=lay.title_duration if i == 0 else 0.0,
                credits=lay.credits if i == n - 1 else [],
                credits_duration=lay.credits_duration if i == n - 1 else 0.0,
                next=NextScene(picture=nxt.picture, layers=nxt.layers, clip=nxt.clip, camera_move=nxt.camera_move)
                if nxt
                else None,
                transition=sc.transition if nxt else "fade_black",
                transition_duration=TRANSITION_SECONDS,
                fade_in=i == 0,
                width=width,
                height=height,
                fps=lay.fps,
                burn_subtitles=lay.burn_subtitles,
                codec=lay.codec,
                crf=lay.crf,
                preset=lay.preset,
                language=lay.language,
            )
        )
    return reqs


def cut_request(lay: Layout, score: ArtifactRef | None, segments: list[ArtifactRef]) -> CutRequest:
    """The cut: the layout, with the score under it and the encoded segments as its picture."""
    return CutRequest(**dict(lay), score=score, segments=segments)
