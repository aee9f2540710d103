"""What each stage is asked for: a small request built from the story, holding only
the fields that stage depends on (its cache key is the request's JSON), so editing
narration does not redraw pictures."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .base import MAX_SCENES, ArtifactRef, Aspect, CameraMove, Genre, Mood, Resolution, Sampler, Transition, _Language, _Model, stripped_prompt
from .story import Character, CharacterSheet, Scene, SceneVisual, Voice


class GenerationParams(_Model):
    """The seed's generation_params: used by image models; the illustrator uses the seed."""

    seed: int = 0
    sampler: Sampler = "euler"
    steps: int = Field(20, ge=1, le=150)
    cfg_scale: float = Field(7.0, ge=1.0, le=30.0)


class StoryRequest(_Language):
    prompt: str = Field(min_length=1, max_length=2000)
    genre: Genre = "drama"
    num_scenes: int = Field(6, ge=1, le=MAX_SCENES)
    seed: int = 0
    total_chunks: int = Field(1, ge=1, le=20)
    previous_character: list[Character] | None = None
    previous_sequence: list[Scene] | None = None

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, v: str) -> str:
        return stripped_prompt(v)


class PictureRequest(_Model):
    scene: SceneVisual
    characters: list[CharacterSheet] = Field(default_factory=list)  # those present, in order
    genre: Genre
    width: int = Field(ge=64, le=4096)
    height: int = Field(ge=64, le=4096)
    params: GenerationParams = Field(default_factory=GenerationParams)
    scene_index: int = 0
    # the portraits of the characters present, in their order, for providers that condition on them
    # (left out of the request, and so of its key, for those that draw from the sheets alone)
    references: list[ArtifactRef] = Field(default_factory=list, exclude_if=lambda v: not v)


class PortraitRequest(_Model):
    """One character's portrait sheet (the cast stage): a full figure and a face close-up on a
    plain background, from the visual traits alone, so editing narration never redraws it."""

    character: CharacterSheet
    genre: Genre
    width: int = Field(768, ge=64, le=4096)
    height: int = Field(512, ge=64, le=4096)
    params: GenerationParams = Field(default_factory=GenerationParams)  # the seed is the character's own
    source: ArtifactRef | None = Field(None, exclude_if=lambda v: v is None)  # a portrait the user brought


class SpeechLine(_Model):
    speaker: str  # "narrator" or a character id
    kind: Literal["narration", "dialogue"] = "narration"
    voice: Voice = Field(default_factory=Voice)
    text: str = Field(min_length=1)


class SpeechRequest(_Model):
    lines: list[SpeechLine] = Field(min_length=1)
    language: str = "en"
    scene_index: int = 0

    @field_validator("language")
    @classmethod
    def _tag(cls, v: str) -> str:
        from ..languages import normalize_tag

        return normalize_tag(v)


class ScoreCue(_Model):
    start: float = Field(ge=0)
    duration: float = Field(gt=0)
    mood: Mood = "calm"
    intensity: float = Field(0.5, ge=0, le=1)


class ScoreRequest(_Model):
    genre: Genre
    seed: int = 0
    cues: list[ScoreCue] = Field(min_length=1)
    duration: float = Field(gt=0)


class ClipRequest(_Model):
    """One scene's generated motion (the clip stage): an image-to-video model starts from the
    scene's picture and moves it as the motion prompt says. ``duration``, ``width``, ``height``
    and ``fps`` are what the film wants; a provider snaps them to its model's rules and says
    what it made in the result. The cut plays the clip and covers the rest of the scene the
    way the result's ``extend`` says."""

    scene_index: int = Field(0, ge=0)
    image: ArtifactRef  # the scene's picture: the clip's first frame
    prompt: str = Field(min_length=1, max_length=4000)  # the motion prompt: action, camera, atmosphere
    negative_prompt: str = ""
    duration: float = Field(gt=0)  # seconds of the scene the clip should cover
    width: int = Field(ge=64, le=8192)
    height: int = Field(ge=64, le=8192)
    fps: int = Field(30, ge=12, le=60)  # the film's frame rate (the clip's own may differ)
    seed: int = 0
    references: list[ArtifactRef] = Field(default_factory=list, exclude_if=lambda v: not v)  # the cast's portraits


class SubtitleCue(_Model):
    start: float
    end: float
    text: str  # may contain one line break
    scene_index: int = 0


class CutScene(_Model):
    picture: ArtifactRef
    layers: list[ArtifactRef] = Field(default_factory=list)
    clip: ArtifactRef | None = None
    clip_extend: Literal["hold", "kenburns"] | None = Field(None, exclude_if=lambda v: v is None)  # past the clip's end
    start: float = Field(ge=0)
    duration: float = Field(gt=0)
    speech: ArtifactRef
    speech_offset: float = Field(0, ge=0)  # seconds into the scene where its speech starts
    camera_move: CameraMove = "push_in"
    transition: Transition = "crossfade"  # into the next scene


# x264 settings chosen by measured quality (bench/cut.py --sweep, 1080p): superfast
# crf 22 gives SSIM 0.9951 on the sweep's 10 s in 3.1 s; veryfast crf 20, the
# usual pick by name, gives 0.9940 in 4.6 s (half the bitrate, but lower SSIM).
DEFAULT_PRESET = "superfast"
DEFAULT_CRF = 22


class CutRequest(_Language):
    title: str
    logline: str = ""
    credits: list[str] = Field(default_factory=list)
    aspect: Aspect = "16:9"
    resolution: Resolution = "1080p"
    fps: int = Field(30, ge=12, le=60)
    scenes: list[CutScene] = Field(min_length=1)
    title_duration: float = 3.5  # the title card overlays the first scene's opening
    credits_duration: float = 5.0  # credits roll over the last scene's tail
    score: ArtifactRef | None = None
    subtitles: list[SubtitleCue] = Field(default_factory=list)
    burn_subtitles: bool = True
    loudness_lufs: float = Field(-16.0, ge=-30, le=-8)
    codec: Literal["h264", "h265", "av1"] = "h264"
    crf: int = Field(DEFAULT_CRF, ge=0, le=51)
    preset: str = DEFAULT_PRESET
    # When given, the picture is these pre-encoded scene segments (the segment
    # stage), joined in order without re-encoding; the cut then only mixes the
    # sound, muxes the subtitles and writes the poster and preview.
    segments: list[ArtifactRef] = Field(default_factory=list)

    @property
    def duration(self) -> float:
        last = self.scenes[-1]
        return last.start + last.duration


class NextScene(_Model):
    """What a segment needs of the scene after it: its opening frame, for the transition."""

    picture: ArtifactRef
    layers: list[ArtifactRef] = Field(default_factory=list)
    clip: ArtifactRef | None = None
    camera_move: CameraMove = "push_in"


class SegmentRequest(_Language):
    """One scene's stretch of the film's picture, encoded on its own so that an
    edit re-encodes only the scenes it touches, and scenes encode in parallel.

    Times are seconds from the segment's start. The transition into the next
    scene plays over the last ``transition_duration`` seconds of this segment
    (this scene's silent tail) and shows the next scene at its opening framing,
    which does not depend on that scene's length: so a segment changes only when
    its own scene, or the next scene's picture, changes."""

    index: int = Field(ge=0)
    picture: ArtifactRef
    layers: list[ArtifactRef] = Field(default_factory=list)
    clip: ArtifactRef | None = None
    # how the scene goes on past the clip's end (ClipResult.extend); None when there is no clip
    clip_extend: Literal["hold", "kenburns"] | None = Field(None, exclude_if=lambda v: v is None)
    duration: float = Field(gt=0)
    camera_move: CameraMove = "push_in"
    subtitles: list[SubtitleCue] = Field(default_factory=list)  # relative to the segment
    title: str | None = None  # first segment: the title card over its opening
    logline: str = ""
    title_duration: float = 0.0
    credits: list[str] = Field(default_factory=list)  # last segment: credits over its tail
    credits_duration: float = 0.0
    next: NextScene | None = None
    transition: Transition = "cut"
    transition_duration: float = Field(0.8, ge=0, le=3)
    fade_in: bool = False  # the film's first frames come up from black
    width: int = Field(ge=64, le=8192)
    height: int = Field(ge=64, le=8192)
    fps: int = Field(30, ge=12, le=60)
    burn_subtitles: bool = True
    codec: Literal["h264", "h265", "av1"] = "h264"
    crf: int = Field(DEFAULT_CRF, ge=0, le=51)
    preset: str = DEFAULT_PRESET
