"""The story consistency checker: contradictions a viewer would notice.

``check_story`` runs every check and returns the findings, an empty list when the
story is clean. The checks live by subject: ``people`` (ages against roles,
relationships, speakers, introductions), ``scenes`` (time, weather, place, indoors)
and ``wardrobe`` (clothing words against what the illustrator draws)."""

from __future__ import annotations

from typing import Any

from ..models import Story
from .findings import Finding
from .people import (
    check_cast,
    check_introductions,
    check_relations_in_text,
    check_speakers,
)
from .scenes import check_scenes
from .wardrobe import check_wardrobe

CHECKS = (check_cast, check_relations_in_text, check_speakers, check_introductions, check_scenes, check_wardrobe)


def check_story(story: Story) -> list[Finding]:
    return [f for check in CHECKS for f in check(story)]


def story_warnings(story: Story) -> list[str]:
    """The findings as lines (qa.json's story check; film.json's ``warnings`` rows carry the same
    messages, see ``story_findings``): what an LLM's repair round left, or what a planner story has."""
    return [w["message"] for w in story_findings(story)]


def story_findings(story: Story) -> list[dict[str, Any]]:
    """The findings as film.json's ``warnings`` rows: ``{"stage": "story", "scene", "message"}``
    (``scene`` 0-based like the other stages' rows; None for the cast)."""
    return [{"stage": "story", "scene": f.scene - 1 if f.scene else None, "message": str(f)} for f in check_story(story)]
