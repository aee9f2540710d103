"""The one data model that flows through every stage.

A ``Story`` is what the story stage writes and what a person may edit. Each later
stage takes a small request built from it (only the fields that stage depends
on, so that editing narration does not redraw pictures) and returns a result
whose files live in the artifact store. ``ArtifactRef`` points at such a file.

base.py holds the shared vocabulary, story.py the story, requests.py what each
stage is asked for, results.py what it returns; every name is importable from here.
"""

from __future__ import annotations

from .base import (
    GENRES,
    MAX_SCENES,
    MOODS,
    SAMPLERS,
    SETTINGS,
    ArtifactRef,
    Aspect,
    CameraMove,
    Genre,
    Mood,
    Resolution,
    Sampler,
    Setting,
    Shot,
    TimeOfDay,
    Transition,
    Weather,
    frame_size,
    slug,
    stripped_prompt,
)
from .requests import (
    DEFAULT_CRF,
    DEFAULT_PRESET,
    ClipRequest,
    CutRequest,
    CutScene,
    GenerationParams,
    NextScene,
    PictureRequest,
    PortraitRequest,
    ScoreCue,
    ScoreRequest,
    SegmentRequest,
    SpeechLine,
    SpeechRequest,
    StoryRequest,
    SubtitleCue,
)
from .results import (
    ClipResult,
    CutResult,
    PictureResult,
    PictureStretches,
    PortraitResult,
    ScoreResult,
    Segment,
    SegmentResult,
    SpeechResult,
    Word,
)
from .story import (
    Appearance,
    Character,
    CharacterSheet,
    DialogueLine,
    MusicCue,
    Scene,
    SceneVisual,
    Story,
    Voice,
)

__all__ = [
    "DEFAULT_CRF", "DEFAULT_PRESET", "GENRES", "MAX_SCENES", "MOODS", "SAMPLERS", "SETTINGS",
    "Appearance", "ArtifactRef", "Aspect", "CameraMove", "Character", "CharacterSheet", "ClipRequest", "ClipResult",
    "CutRequest", "CutResult", "CutScene", "DialogueLine", "GenerationParams", "Genre", "Mood", "MusicCue",
    "NextScene", "PictureRequest", "PictureResult", "PictureStretches", "PortraitRequest", "PortraitResult", "Resolution", "Sampler",
    "Scene", "SceneVisual", "ScoreCue", "ScoreRequest", "ScoreResult", "Segment", "SegmentRequest", "SegmentResult",
    "Setting", "Shot", "SpeechLine", "SpeechRequest", "SpeechResult", "Story", "StoryRequest", "SubtitleCue",
    "TimeOfDay", "Transition", "Voice", "Weather", "Word", "frame_size", "slug", "stripped_prompt",
]
