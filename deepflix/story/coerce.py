"""The field-level repairs of an LLM's story (split from repair.py, which repairs the whole):
near-miss field names, the wrappers a reply hides its story in, text out of lists and
numbers, numbers out of words, and the nearest allowed word."""

from __future__ import annotations

import difflib
import re
from typing import Any


def _key(k: Any) -> str:
    k = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", str(k))  # camelCase -> camel_case
    return re.sub(r"[^a-z0-9]+", "_", k.lower()).strip("_")


_STORY_ALIASES = {
    "title": ("name", "film_title", "movie_title", "story_title"),
    "logline": ("summary", "synopsis", "tagline", "premise", "description", "log_line"),
    "characters": ("character", "cast", "character_list", "previous_character", "main_characters"),
    "scenes": ("sequence", "sequences", "scene_list", "shots", "previous_sequence", "story_sequence", "scene"),
}


_CHAR_ALIASES = {
    "id": ("character_id", "slug", "key"),
    "name": ("character_name", "full_name"),
    "role": ("archetype", "function", "occupation", "part"),
    "base_traits": ("traits", "basetraits", "physical_description", "description", "look", "appearance_description",
                    "body", "physique", "personality"),
    "facial_features": ("face", "facial", "facial_feature", "facial_description"),
    "clothing": ("clothes", "outfit", "costume", "wardrobe", "attire", "dress"),
    "distinctive_features": ("distinctive", "distinguishing_features", "unique_features", "features", "marks",
                             "distinctive_feature", "accessories"),
}


_SCENE_ALIASES = {
    "scene_description": ("description", "visual_description", "visual", "image_prompt", "prompt", "image",
                          "visuals", "scene_visual", "shot_description"),
    "atmosphere": ("ambience", "ambiance", "tone", "feel", "mood_description", "vibe"),
    "setting": ("location_type", "environment", "place", "setting_type"),
    "location": ("place_name", "where", "location_name", "location_description"),
    "time_of_day": ("time", "timeofday", "tod", "daytime"),
    "weather": ("weather_condition", "conditions", "sky"),
    "shot": ("camera", "camera_shot", "shot_type", "framing", "camera_angle", "angle"),
    "camera_move": ("camera_movement", "movement", "move", "camera_motion"),
    "transition": ("transition_out", "transition_to_next", "cut"),
    "characters": ("characters_present", "cast", "present", "character_ids", "people", "characters_in_scene"),
    "narration": ("narrator", "voiceover", "voice_over", "narration_text", "text", "narrative", "story", "script",
                  "voice"),
    "dialogue": ("dialog", "dialogues", "lines", "conversation", "dialogue_lines", "speech"),
    "music": ("music_cue", "soundtrack", "score", "bgm", "background_music", "cue"),
    "duration": ("length", "seconds", "duration_seconds", "time_seconds", "duration_s", "runtime"),
}


_WRAPPERS = ("story", "result", "data", "output", "response", "film", "movie", "screenplay", "input", "arguments",
             "parameters", "json")


def _alias(d: dict[str, Any], table: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """Keys normalised (snake_case) and renamed to ours; the first spelling found wins."""
    norm = {_key(k): v for k, v in d.items()}
    out: dict[str, Any] = {}
    for ours, alts in table.items():
        for k in (ours, *alts):
            if k in norm and norm[k] not in (None, "", [], {}):
                out[ours] = norm[k]
                break
    for k, v in norm.items():  # keep the rest for the caller to pick from (mood, gender...)
        out.setdefault("_" + k, v)
    return out


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, (list, tuple)):
        parts = [_text(x) for x in v if _text(x)]
        sentences = all(p[-1] in ".!?\"'" for p in parts)
        return (" " if sentences else ", ").join(parts).strip()  # sentences run on; phrases get commas
    if isinstance(v, dict):
        return ", ".join(_text(x) for x in v.values() if _text(x))
    return str(v)


def nearest(value: Any, allowed: tuple[str, ...], synonyms: dict[str, str], default: str | None) -> str | None:
    """Map an LLM's word onto an allowed value: exact, synonym, a known word inside it, then spelling."""
    if value is None:
        return default
    text = _text(value).lower().strip().replace("-", " ").replace("_", " ")
    text = re.sub(r"\s+", " ", text)
    for cand in (text, text.replace(" ", "_"), text.replace(" ", "-"), text.replace(" ", "")):
        if cand in allowed:
            return cand
        if cand in synonyms and synonyms[cand] in allowed:
            return synonyms[cand]
    words = re.findall(r"[a-z']+", text)
    for n in (3, 2, 1):  # "a sunny beach at noon": look for known phrases, longest first
        for i in range(len(words) - n + 1):
            phrase = " ".join(words[i:i + n])
            for cand in (phrase, phrase.replace(" ", "_"), phrase.replace(" ", "-")):
                if cand in allowed:
                    return cand
                if cand in synonyms and synonyms[cand] in allowed:
                    return synonyms[cand]
    close = difflib.get_close_matches(text, allowed, n=1, cutoff=0.75)
    return close[0] if close else default


def _number(v: Any, words: dict[str, float] | None = None) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    t = _text(v).lower()
    if words and t in words:
        return words[t]
    m = re.match(r"^\s*(\d+):(\d{1,2})\s*$", t)  # "0:08"
    if m:
        return int(m.group(1)) * 60 + int(m.group(2))
    m = re.search(r"-?\d+(?:\.\d+)?", t)
    if not m:
        return None
    x = float(m.group())
    if "%" in t:
        x /= 100
    elif re.search(r"\bmin", t):
        x *= 60
    return x


_INTENSITY_WORDS = {"very low": 0.1, "low": 0.25, "soft": 0.25, "quiet": 0.2, "medium": 0.5, "moderate": 0.5,
                    "mid": 0.5, "high": 0.8, "strong": 0.8, "loud": 0.85, "very high": 0.95, "max": 1.0, "peak": 1.0}
