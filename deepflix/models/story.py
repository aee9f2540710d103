"""The story: what the story stage writes and what a person may edit."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import MAX_SCENES, ArtifactRef, CameraMove, Genre, Mood, Setting, Shot, TimeOfDay, Transition, Weather, _Language, _Model


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
