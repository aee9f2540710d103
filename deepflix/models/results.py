"""What each stage returns: the names of its files inside its artifact, and what it measured."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import _Model


class PortraitResult(_Model):
    image: str  # the sheet: full figure and face
    face: str  # the face close-up alone (what identity-conditioning models take)
    width: int
    height: int
    user: bool = False  # the user's own picture


class PictureResult(_Model):
    image: str  # file name in this artifact
    width: int
    height: int
    layers: list[str] = Field(default_factory=list)  # RGBA back-to-front, for parallax
    clip: str | None = None  # a video clip, when an image-to-video provider made one
    figure_boxes: dict[str, list[int]] = Field(default_factory=dict)  # character id -> x,y,w,h


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


class PictureStretches(_Model):
    """A segment's black and frozen stretches, [start, end] seconds, found on its frames as
    they were encoded (cut/ffmpeg/detect.py)."""

    black: list[list[float]]
    frozen: list[list[float]]
    measured_by: str  # the detectors' settings: stretches found with others are measured again


class SegmentResult(_Model):
    video: str  # video-only MP4, one closed GOP, concatenable with its siblings
    frames: int
    duration: float
    width: int
    height: int
    stretches: PictureStretches | None = None  # None: not measured at its encode (the QA decodes it)


class CutResult(_Model):
    video: str
    srt: str
    vtt: str
    poster: str
    preview: str | None = None
    duration: float
    width: int
    height: int
