"""Turn whatever an LLM answered into a valid ``Story``, or say exactly why not.

``parse_reply`` finds the JSON (``jsonfix``); ``repair_story`` coerces it:
near-miss field names ("dialog", "sequence", "visual_description"), wrong
types ("8s", "high", a list for a string), enum words we do not use ("beach"
-> coast, "scary" -> eerie, "sci fi" -> sci-fi), characters named instead of
referenced by id, and missing optional fields. Too many scenes are trimmed
(keeping the ending). What cannot be repaired raises ``RepairError`` with a
short, precise list of problems, which the LLM providers send back to the
model for a bounded retry.
"""

from __future__ import annotations

import random
import re
from typing import Any, get_args

from pydantic import ValidationError

from ..models import (
    MOODS,
    SETTINGS,
    CameraMove,
    Character,
    Scene,
    Shot,
    Story,
    StoryRequest,
    TimeOfDay,
    Transition,
    Weather,
    slug,
)
from .coerce import (
    _CHAR_ALIASES,
    _INTENSITY_WORDS,
    _SCENE_ALIASES,
    _STORY_ALIASES,
    _WRAPPERS,
    _alias,
    _key,
    _number,
    _text,
    nearest,
)
from .jsonfix import JSONFixError, loads
from .planning import lexicon as lx
from .planning.cast import appearance_from_text, assign_voices, narrator_voice


class RepairError(ValueError):
    """The reply cannot be made into a story; the message lists what to fix."""


def parse_reply(reply: Any) -> Any:
    """The JSON value in a reply (text, or an already-parsed tool input)."""
    if isinstance(reply, (dict, list)):
        return reply
    try:
        return loads(str(reply))
    except JSONFixError as exc:
        raise RepairError(str(exc)) from exc


def _unwrap(data: Any) -> dict[str, Any]:
    for _ in range(4):
        if isinstance(data, str):
            data = parse_reply(data)
        if isinstance(data, list):
            data = {"scenes": data}
        if not isinstance(data, dict):
            raise RepairError(f"expected a JSON object for the story, got {type(data).__name__}")
        keys = {_key(k): k for k in data}
        inner = next((keys[w] for w in _WRAPPERS if w in keys and isinstance(data[keys[w]], (dict, str))), None)
        if inner is not None and not ({"scenes", "sequence", "sequences", "characters"} & set(keys)):
            data = data[inner]
            continue
        return data
    return data  # type: ignore[return-value]


def _characters(raw: Any, problems: list[str]) -> list[dict[str, Any]]:
    if isinstance(raw, dict):
        raw = [raw] if any(_key(k) in ("name", "base_traits", "id") for k in raw) else [
            {"name": k, **(v if isinstance(v, dict) else {"base_traits": _text(v)})} for k, v in raw.items()]
    if not isinstance(raw, list):
        return []
    out: list[dict[str, Any]] = []
    for i, c in enumerate(raw):
        if isinstance(c, str):
            c = {"name": c}
        if not isinstance(c, dict):
            problems.append(f"characters[{i}] is not an object")
            continue
        a = _alias(c, _CHAR_ALIASES)
        name = _text(a.get("name")) or _text(a.get("id")) or f"Character {i + 1}"
        cid = slug(_text(a.get("id")) or name.split()[0], 24).replace("-", "_") or f"c{i + 1}"
        taken = {o["id"] for o in out}
        base, k = cid, 2
        while cid in taken:
            cid, k = f"{base}_{k}", k + 1
        role = _text(a.get("role")) or "supporting"
        out.append({
            "id": cid, "name": name[:120], "role": role[:120],
            "base_traits": _text(a.get("base_traits")) or f"the {role}",
            "facial_features": _text(a.get("facial_features")),
            "clothing": _text(a.get("clothing")),
            "distinctive_features": _text(a.get("distinctive_features")),
        })
    return out


def _resolver(chars: list[Character]) -> Any:
    """A function mapping an LLM's reference ('Maren', 'maren_holt', 'The Keeper') to an id, or None."""
    table: dict[str, str] = {}
    for c in chars:
        for k in (c.id, c.name, c.name.split()[0], c.name.split()[-1], c.role, f"the {c.role}"):
            table.setdefault(_key(k), c.id)

    def resolve(ref: Any) -> str | None:
        if isinstance(ref, dict):
            ref = ref.get("id") or ref.get("name") or ref.get("character")
        k = _key(_text(ref))
        if not k:
            return None
        if k in table:
            return table[k]
        hits = [cid for key, cid in table.items() if key and (key in k or k in key)]
        return hits[0] if len(set(hits)) == 1 else None

    return resolve


def _dialogue(raw: Any, resolve: Any, present: list[str]) -> tuple[list[dict[str, str]], list[str]]:
    """Lines as {speaker, text}; lines from unknown speakers come back separately (as text)."""
    items: list[Any]
    if isinstance(raw, str):
        items = [ln for ln in raw.splitlines() if ln.strip()]
    elif isinstance(raw, dict):
        items = [raw] if any(_key(k) in ("speaker", "text", "line") for k in raw) else [
            {"speaker": k, "text": v} for k, v in raw.items()]
    elif isinstance(raw, list):
        items = raw
    else:
        items = []
    lines: list[dict[str, str]] = []
    orphans: list[str] = []
    for it in items:
        if isinstance(it, str):
            m = re.match(r"^\s*([^:]{1,40}):\s*(.+)$", it)
            who, text = (m.group(1), m.group(2)) if m else (None, it)
        elif isinstance(it, dict):
            a = {_key(k): v for k, v in it.items()}
            who = next((a[k] for k in ("speaker", "character", "name", "who", "speaker_id", "character_id") if k in a),
                       None)
            text = next((a[k] for k in ("text", "line", "says", "dialogue", "content", "quote") if k in a), "")
        elif isinstance(it, (list, tuple)) and len(it) == 2:
            who, text = it
        else:
            continue
        text = _text(text).strip().strip('"').strip()
        if not text:
            continue
        cid = resolve(who)
        if cid is None:
            orphans.append(text)
            continue
        lines.append({"speaker": cid, "text": text[:2000]})
        if cid not in present:
            present.append(cid)
    return lines, orphans


def _scene(raw: Any, i: int, resolve: Any, prev: dict[str, Any] | None, problems: list[str],
           strict: bool) -> dict[str, Any] | None:
    if isinstance(raw, str):
        raw = {"narration": raw}
    if not isinstance(raw, dict):
        problems.append(f"scenes[{i}] is not an object")
        return None
    a = _alias(raw, _SCENE_ALIASES)
    narration = _text(a.get("narration"))
    desc = _text(a.get("scene_description"))
    location = _text(a.get("location"))
    setting = nearest(a.get("setting"), SETTINGS, lx.SETTING_SYNONYMS, None) or nearest(
        f"{location} {desc}", SETTINGS, lx.SETTING_SYNONYMS, None) or (prev or {}).get("setting") or "interior"
    present: list[str] = []
    for ref in a.get("characters") if isinstance(a.get("characters"), list) else re.split(
            r",|\band\b|;", _text(a.get("characters"))):
        cid = resolve(ref)
        if cid and cid not in present:
            present.append(cid)
    dialogue, orphans = _dialogue(a.get("dialogue"), resolve, present)
    if orphans and not narration:
        narration = " ".join(orphans)
    music_raw = a.get("music")
    music: dict[str, Any] = {}
    if isinstance(music_raw, dict):
        m = {_key(k): v for k, v in music_raw.items()}
        music["mood"] = nearest(m.get("mood") or m.get("style") or m.get("emotion"), MOODS, lx.MOOD_SYNONYMS, "calm")
        inten = _number(m.get("intensity", m.get("energy", m.get("level"))), _INTENSITY_WORDS)
    else:
        music["mood"] = nearest(music_raw or a.get("_mood"), MOODS, lx.MOOD_SYNONYMS, "calm")
        inten = _number(a.get("_intensity"), _INTENSITY_WORDS)
    if inten is not None:
        music["intensity"] = max(0.0, min(1.0, inten / (100 if inten > 10 else 10) if inten > 1 else inten))
    mood = music["mood"]
    if not narration and not dialogue:
        if strict:
            problems.append(f"scenes[{i}] has no narration (every scene needs 2-4 sentences of narration)")
            return None
        narration = desc or location or "And the story goes on."
    words = len(narration.split()) + sum(len(d["text"].split()) for d in dialogue)
    duration = _number(a.get("duration"))
    if duration is None or not 0 < duration <= 600:
        duration = round(words / 2.5 + 2, 1) if duration is None or duration <= 0 else 600.0
    scene = {
        "scene_description": desc or (narration.split(". ")[0] if narration else location) or "A scene.",
        "atmosphere": _text(a.get("atmosphere")) or mood,
        "setting": setting, "location": location[:300],
        "time_of_day": nearest(a.get("time_of_day"), get_args(TimeOfDay), lx.TIME_SYNONYMS, "day"),
        "weather": nearest(a.get("weather"), get_args(Weather), lx.WEATHER_SYNONYMS, "clear"),
        "shot": nearest(a.get("shot"), get_args(Shot), lx.SHOT_SYNONYMS, "wide"),
        "camera_move": nearest(a.get("camera_move"), get_args(CameraMove), {"zoom in": "push_in", "zoom out":
                               "pull_out", "dolly in": "push_in", "pan": "pan_right", "still": "static"}, None),
        "transition": nearest(a.get("transition"), get_args(Transition), {"fade": "fade_black", "dissolve":
                              "crossfade", "hard cut": "cut", "wipe": "wipe_left"}, None),
        "characters": present, "narration": narration[:4000], "dialogue": dialogue, "music": music,
        "duration": duration,
    }
    return scene


def _fmt_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:6]:
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        parts.append(f"{loc or 'story'}: {err['msg']}")
    return "; ".join(parts)


def repair_story(
    reply: Any,
    request: StoryRequest,
    *,
    expect: int,
    characters: list[Character] | None = None,
    strict: bool = True,
) -> Story:
    """A Story from an LLM reply, with ``expect`` scenes (trimmed when longer). ``characters``,
    when given, is the fixed cast (a later chunk): the reply's scenes must use it.
    ``strict=False`` (the last attempt) accepts a shorter story and fills empty scenes."""
    data = _unwrap(parse_reply(reply))
    a = _alias(data, _STORY_ALIASES)
    problems: list[str] = []
    new_chars = _characters(a.get("characters"), problems)
    if characters:
        known = {c.id for c in characters}
        names = {_key(c.name) for c in characters}
        extra = [c for c in new_chars if c["id"] not in known and _key(c["name"]) not in names]
        cast = list(characters) + [Character(**c) for c in extra]
    else:
        cast = [Character(**c) for c in new_chars]
    if not cast and strict:
        problems.append("characters: give 2-4 characters with id, name, role and the four trait fields")
    resolve = _resolver(cast)
    raw_scenes = a.get("scenes")
    if isinstance(raw_scenes, dict):  # {"scene_1": {...}, "scene_2": {...}}
        raw_scenes = list(raw_scenes.values())
    if not isinstance(raw_scenes, list) or not raw_scenes:
        raise RepairError(f"the reply has no scenes: give a 'scenes' array of {expect} scene objects")
    scenes: list[dict[str, Any]] = []
    for i, raw in enumerate(raw_scenes):
        sc = _scene(raw, i, resolve, scenes[-1] if scenes else None, problems, strict)
        if sc is not None:
            scenes.append(sc)
    if len(scenes) > expect:  # keep the opening and the ending
        scenes = scenes[:expect - 1] + scenes[-1:]
    if len(scenes) < expect and strict:
        problems.append(f"scenes: expected {expect} scenes, got {len(scenes)}; write all {expect}")
    if problems:
        raise RepairError("; ".join(problems[:8]))
    if not scenes:
        raise RepairError("the reply has no usable scenes")
    used = {cid for s in scenes for cid in s["characters"]} | {d["speaker"] for s in scenes for d in s["dialogue"]}
    cast = [c for c in cast if c.id in used or not characters or c in characters]
    rng = random.Random(f"{request.prompt}|{request.seed}")
    narrator = narrator_voice(request.genre)
    fixed = frozenset(c.id for c in characters or [])  # an earlier chunk's cast stays exactly as it was
    cast = assign_voices(cast, narrator, rng, keep=fixed)
    cast = [c if c.appearance or c.id in fixed else c.model_copy(update={"appearance": appearance_from_text(c)})
            for c in cast]
    title = _text(a.get("title")) or (request.prompt[:60].rstrip(" .") or "Untitled")
    try:
        return Story(
            title=title[:200], logline=_text(a.get("logline"))[:500], genre=request.genre, prompt=request.prompt,
            seed=request.seed, narrator=narrator, characters=cast, scenes=[Scene(**s) for s in scenes],
        )
    except ValidationError as exc:
        raise RepairError(_fmt_errors(exc)) from exc


__all__ = ["RepairError", "nearest", "parse_reply", "repair_story"]  # nearest: coerce.py's, as before
