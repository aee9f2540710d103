"""The names ``deepflix make`` and older callers import, in one place.

The stages are declared in ``film/plan.py``; their pure request builders are
in ``film/requests.py``; the in-process runner is ``pipeline/film.py``. This
module only re-exports them.
"""

from __future__ import annotations

from ..film.options import FilmOptions
from ..film.requests import (
    CREDITS_SECONDS,
    MIN_SCENE,
    SCENE_LEAD,
    SCENE_TAIL,
    TITLE_SECONDS,
    TRANSITION_SECONDS,
    Layout,
    SceneSlot,
    credits,
    cut_request,
    layout,
    picture_request,
    score_request,
    segment_requests,
    speech_request,
    subtitle_cues,
    timed_story,
    timeline,
)
from .film import FilmResult, StageEvent, check_out_dir, load_story_file, make_film

__all__ = [
    "CREDITS_SECONDS", "MIN_SCENE", "SCENE_LEAD", "SCENE_TAIL", "TITLE_SECONDS", "TRANSITION_SECONDS",
    "FilmOptions", "FilmResult", "Layout", "SceneSlot", "StageEvent", "check_out_dir", "credits", "cut_request",
    "layout", "load_story_file", "make_film", "picture_request", "score_request", "segment_requests",
    "speech_request", "subtitle_cues", "timed_story", "timeline",
]
