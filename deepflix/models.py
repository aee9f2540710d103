"""The one data model that flows through every stage.

A ``Story`` is what the story stage writes and what a person may edit. Each later
stage takes a small request built from it (only the fields that stage depends
on, so that editing narration does not redraw pictures) and returns a result
whose files live in the artifact store. ``ArtifactRef`` points at such a file.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, field_validator, model_serializer, model_validator

GENRES: tuple[str, ...] = ("noir", "sci-fi", "fantasy", "horror", "comedy", "romance", "adventure", "drama")
Genre = Literal["noir", "sci-fi", "fantasy", "horror", "comedy", "romance", "adventure", "drama"]

SETTINGS: tuple[str, ...] = (
    "city", "night_street", "forest", "coast", "desert", "mountains", "interior", "space",
    "village", "field", "lighthouse", "underwater",
)
Setting = Literal[
    "city", "night_street", "forest", "coast", "desert", "mountains", "interior", "space",
    "village", "field", "lighthouse", "underwater",
]
TimeOfDay = Literal["dawn", "day", "dusk", "night"]
Weather = Literal["clear", "cloudy", "rain", "fog", "snow", "storm", "wind"]
Shot = Literal["wide", "medium", "close", "over_the_shoulder", "aerial"]
CameraMove = Literal["push_in", "pull_out", "pan_left", "pan_right", "tilt_up", "tilt_down", "static"]
Transition = Literal["crossfade", "fade_black", "wipe_left", "slide_up", "circle_open", "cut"]
MOODS: tuple[str, ...] = (
    "calm", "tense", "mysterious", "joyful", "sad", "romantic", "epic", "dark", "hopeful",
    "playful", "eerie", "triumphant",
)
Mood = Literal[
    "calm", "tense", "mysterious", "joyful", "sad", "romantic", "epic", "dark", "hopeful",
    "playful", "eerie", "triumphant",
]
Aspect = Literal["16:9", "9:16", "1:1"]
Resolution = Literal["360p", "480p", "720p", "1080p", "2160p"]  # 360p/480p: previews and tests
SAMPLERS: tuple[str, ...] = (
    "euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms", "dpmpp_2m", "dpmpp_sde",
    "dpmpp_2m_sde", "ddim", "uni_pc", "pndm",
)
Sampler = Literal[
    "euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms", "dpmpp_2m", "dpmpp_sde",
    "dpmpp_2m_sde", "ddim", "uni_pc", "pndm",
]

MAX_SCENES = 60


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Language(_Model):
    """A film's language (BCP-47, see languages.py). English, the default, is left out of
    what the model writes, so every English request keeps the cache key it had before
    the field existed, and an English story.json reads as it did."""

    language: str = "en"

    @field_validator("language")
    @classmethod
    def _tag(cls, v: str) -> str:
        from .languages import normalize_tag

        return normalize_tag(v)

    @model_serializer(mode="wrap")
    def _omit_english(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data = handler(self)  # no return annotation: the JSON schema stays the fields' own
        if isinstance(data, dict) and data.get("language") == "en":
            del data["language"]
        return data


def slug(text: str, max_len: int = 48) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:max_len].rstrip("-") or "film"


# --------------------------------------------------------------------------- story


class Voice(_Model):
    """A voice, provider-independent. ``voice_id`` is the provider's voice (a Piper
    model path or name, an ElevenLabs voice id, an OpenAI voice); ``default`` means
    the provider's built-in one. The shifts make one model sound like several people."""

    voice_id: str = "default"
    pitch_semitones: float = Field(0.0, ge=-12, le=12)
    speed: float = Field(1.0, ge=0.5, le=2.0)
    formant: float = Field(1.0, ge=0.7, le=1.4)


class Appearance(_Model):
    """Structured look of a character, so every scene draws the same person.
    Colours are #rrggbb. Filled by the planner; derived from the text traits when absent."""

    skin: str = "#c68642"
    hair: str = "#2b1d14"
    hair_style: Literal["short", "long", "bun", "bald", "curly", "ponytail", "hooded"] = "short"
    build: Literal["slim", "average", "broad"] = "average"
    height: float = Field(1.0, ge=0.8, le=1.2)
    top: str = "#3a5f8a"
    bottom: str = "#2d2d2d"
    accessory: Literal["none", "hat", "scarf", "glasses", "cape", "coat", "helmet", "beard"] = "none"
    accent: str = "#d4a017"

    @field_validator("skin", "hair", "top", "bottom", "accent")
    @classmethod
    def _hex(cls, v: str) -> str:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", v):
            raise ValueError(f"colour must be #rrggbb, got {v!r}")
        return v.lower()


class CharacterSheet(_Model):
    """What a character looks like: all a picture provider may depend on."""

    id: str
    name: str
    base_traits: str
    facial_features: str
    clothing: str
    distinctive_features: str
    appearance: Appearance | None = None


class Character(CharacterSheet):
    role: str = "supporting"
    voice: Voice = Field(default_factory=Voice)
    # a portrait the user brought (an image in the store): the cast stage uses it instead of drawing one
    portrait: ArtifactRef | None = Field(None, exclude_if=lambda v: v is None)

    def sheet(self) -> CharacterSheet:
        return CharacterSheet(**self.model_dump(include=set(CharacterSheet.model_fields)))


class DialogueLine(_Model):
    speaker: str  # a character id
    text: str = Field(min_length=1, max_length=2000)


class MusicCue(_Model):
    mood: Mood = "calm"
    intensity: float = Field(0.5, ge=0.0, le=1.0)


class SceneVisual(_Model):
    """The part of a scene that a picture depends on."""

    scene_description: str
    atmosphere: str
    setting: Setting
    location: str = ""
    time_of_day: TimeOfDay = "day"
    weather: Weather = "clear"
    shot: Shot = "wide"
    characters: list[str] = Field(default_factory=list)


class Scene(SceneVisual):
    duration: float = Field(8.0, gt=0, le=600, description="seconds; planned, then the spoken length")
    camera_move: CameraMove | None = None
    transition: Transition | None = None  # into the next scene; chosen by the cut when absent
    narration: str = Field("", max_length=4000)
    dialogue: list[DialogueLine] = Field(default_factory=list)
    music: MusicCue = Field(default_factory=MusicCue)
    # "clip": the scene is generated motion (the clip stage) rather than a still with a camera move;
    # left out of what the model writes when still, so a story's (and its requests') keys stay as they were
    motion: Literal["still", "clip"] = Field("still", exclude_if=lambda v: v == "still")

    def visual(self) -> SceneVisual:
        return SceneVisual(**self.model_dump(include=set(SceneVisual.model_fields)))


class Story(_Language):
    title: str = Field(min_length=1, max_length=200)
    logline: str = ""
    genre: Genre
    prompt: str = ""
    seed: int = 0
    narrator: Voice = Field(default_factory=Voice)
    characters: list[Character] = Field(default_factory=list)
    scenes: list[Scene] = Field(min_length=1, max_length=MAX_SCENES)

    @model_validator(mode="after")
    def _references(self) -> Story:
        ids = [c.id for c in self.characters]
        if len(ids) != len(set(ids)):
            raise ValueError(f"character ids must be unique, got {ids}")
        known = set(ids)
        for i, s in enumerate(self.scenes):
            for cid in s.characters:
                if cid not in known:
                    raise ValueError(f"scene {i + 1} names unknown character {cid!r}; known: {sorted(known)}")
            for line in s.dialogue:
                if line.speaker not in known:
                    raise ValueError(f"scene {i + 1} dialogue speaker {line.speaker!r} is not a character")
            if not s.narration.strip() and not s.dialogue:
                raise ValueError(f"scene {i + 1} has neither narration nor dialogue")
        return self

    def character(self, cid: str) -> Character:
        for c in self.characters:
            if c.id == cid:
                return c
        raise KeyError(cid)


# --------------------------------------------------------------------------- requests


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
        if not v.strip():
            raise ValueError("prompt must not be empty")
        return v.strip()


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


class PortraitResult(_Model):
    image: str  # the sheet: full figure and face
    face: str  # the face close-up alone (what identity-conditioning models take)
    width: int
    height: int
    user: bool = False  # the user's own picture


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
        from .languages import normalize_tag

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


# --------------------------------------------------------------------------- results


class ArtifactRef(_Model):
    """A file in the artifact store: ``name`` inside the artifact ``key``."""

    key: str
    name: str


class PictureResult(_Model):
    image: str  # file name in this artifact
    width: int
    height: int
    layers: list[str] = Field(default_factory=list)  # RGBA back-to-front, for parallax
    clip: str | None = None  # a video clip, when an image-to-video provider made one
    figure_boxes: dict[str, list[int]] = Field(default_factory=dict)  # character id -> x,y,w,h


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


class ClipResult(_Model):
    video: str  # file name in this artifact (MP4/WebM as the model wrote it)
    width: int
    height: int
    fps: float  # the clip's own frame rate; the cut converts it to the film's
    frames: int
    duration: float  # seconds of motion made (may be less than asked: see ``extend``)
    extend: Literal["hold", "kenburns"] = "hold"  # how the cut covers the scene past the clip's end


class Word(_Model):
    start: float
    end: float
    text: str


class Segment(_Model):
    """One sentence or dialogue line, in seconds from the start of the scene's audio."""

    start: float
    end: float
    text: str
    speaker: str = "narrator"
    words: list[Word] = Field(default_factory=list)


class SpeechResult(_Model):
    audio: str  # mono WAV
    sample_rate: int
    duration: float
    segments: list[Segment]


class ScoreResult(_Model):
    audio: str  # stereo WAV
    sample_rate: int
    duration: float
    tempo: float = 0
    key: str = ""
    instruments: list[str] = Field(default_factory=list)


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


class SegmentResult(_Model):
    video: str  # video-only MP4, one closed GOP, concatenable with its siblings
    frames: int
    duration: float
    width: int
    height: int


class CutResult(_Model):
    video: str
    srt: str
    vtt: str
    poster: str
    preview: str | None = None
    duration: float
    width: int
    height: int


def frame_size(aspect: str, resolution: str) -> tuple[int, int]:
    """(width, height), both even. 1080p means the short side is 1080."""
    short = {"360p": 360, "480p": 480, "720p": 720, "1080p": 1080, "2160p": 2160}[resolution]
    long = short * 16 // 9 // 2 * 2  # even, as yuv420p needs
    if aspect == "16:9":
        return long, short
    if aspect == "9:16":
        return short, long
    return short, short
