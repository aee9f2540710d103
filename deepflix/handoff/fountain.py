"""`deepflix make --screenplay FILE.fountain`: a Fountain screenplay becomes the
Story directly, with no LLM. Parsed with Jouvence (a kept Fountain parser).

  scene heading   INT./EXT. PLACE - DAY|NIGHT|DAWN|DUSK -> setting, location, time of day
  action          the scene's description and its narration
  character cue   a character (given a look and a voice by the planner's casting)
  dialogue        that character's line (parentheticals are stage directions: dropped)
  transition      CUT TO: / DISSOLVE TO: / FADE OUT. -> the transition into the next scene
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..models import Character, DialogueLine, MusicCue, Scene, Story, slug
from ..story.planning import lexicon as lx
from ..story.planning.cast import make_character, narrator_voice
from ..story.planning.roles import Role
from ..words import load

_HEADING = re.compile(r"^\s*\.?(?P<ie>INT\.?/EXT\.?|I/E\.?|INT\.?|EXT\.?|EST\.?)?\s*(?P<place>.*?)"
                      r"(?:\s+-+\s*(?P<time>[A-Z' ]+?))?\s*(?:#.*#)?\s*$", re.IGNORECASE)
_TIMES = {"day": "day", "morning": "day", "noon": "day", "afternoon": "day", "night": "night", "midnight": "night",
          "dawn": "dawn", "sunrise": "dawn", "dusk": "dusk", "evening": "dusk", "sunset": "dusk", "twilight": "dusk"}
_MOODS = {"night": "mysterious", "dusk": "sad", "dawn": "hopeful", "day": "calm"}
_TRANSITIONS = (("dissolve", "crossfade"), ("fade", "fade_black"), ("wipe", "wipe_left"), ("cut", "cut"),
                ("smash", "cut"), ("match", "cut"))
_WEATHER = (("storm", "storm"), ("thunder", "storm"), ("rain", "rain"), ("drizzl", "rain"), ("fog", "fog"),
            ("mist", "fog"), ("snow", "snow"), ("wind", "wind"), ("gale", "wind"), ("cloud", "cloudy"))
_CUE_EXT = re.compile(r"\s*(\([^)]*\)|\^)\s*$")  # (V.O.), (O.S.), (CONT'D), ^ dual dialogue


def _fail(path: Path, msg: str) -> InvalidInput:
    return InvalidInput(f"screenplay {path}: {msg}")


def _setting(interior: bool, place: str) -> str:
    words = re.findall(r"[a-z]+", place.lower())
    hits = [lx.PLACE_SETTING[w] for w in words if w in lx.PLACE_SETTING]
    if interior:  # inside a ship or a lighthouse still draws as that place; any other room is an interior
        return next((h for h in hits if h in ("space", "underwater", "lighthouse")), "interior")
    return next((h for h in hits if h != "interior"), "field")


def _weather(action: str) -> str:
    """The first weather a sentence shows ("Rain hammers the glass"), not one it says is over."""
    for sentence in re.split(r"(?<=[.!?])\s+", action.lower()):
        if re.search(r"\b(gone|passed|over|cleared|no|without|stopped|ended)\b", sentence):
            continue
        for word, weather in _WEATHER:
            if re.search(rf"\b{word}", sentence):
                return weather
    return "clear"


def _cue_name(cue: str) -> str:
    name = cue.strip().lstrip("@")
    while _CUE_EXT.search(name):
        name = _CUE_EXT.sub("", name)
    return " ".join(w.capitalize() for w in name.split())


def parse(path: Path) -> dict[str, Any]:
    """The screenplay as plain data: title and scenes of heading, action, lines, transition."""
    from jouvence.document import (
        TYPE_ACTION,
        TYPE_CHARACTER,
        TYPE_DIALOG,
        TYPE_TRANSITION,
    )
    from jouvence.parser import JouvenceParser, JouvenceParserError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise _fail(path, "file not found") from exc
    except UnicodeDecodeError as exc:
        raise _fail(path, "is not UTF-8 text") from exc
    if "\x00" in text:
        raise _fail(path, "is not text (it holds NUL bytes)")
    if text.count("/*") != text.count("*/"):
        raise _fail(path, "a /* boneyard */ comment is not closed")
    try:
        doc = JouvenceParser().parseString(text)
    except JouvenceParserError as exc:
        raise _fail(path, f"line {exc.line_no}: {exc}") from exc
    scenes = []
    for sc in doc.scenes:
        if sc.header is None:
            if any(p.type in (TYPE_CHARACTER, TYPE_DIALOG) or (p.type == TYPE_ACTION and p.text.strip())
                   for p in sc.paragraphs):
                raise _fail(path, "text before the first scene heading: start each scene with a heading such as "
                                  "'INT. KITCHEN - NIGHT' or 'EXT. BEACH - DAY'")
            continue
        action, lines, trans, speaker = [], [], None, None
        for p in sc.paragraphs:
            t = (p.text or "").strip()
            if p.type == TYPE_ACTION and t:
                action.append(" ".join(t.split()))
            elif p.type == TYPE_CHARACTER:
                if speaker is not None:
                    raise _fail(path, f"scene '{sc.header}': character cue {speaker!r} has no line")
                speaker = _cue_name(t)
                if not speaker:
                    raise _fail(path, f"scene '{sc.header}': an empty character cue")
            elif p.type == TYPE_DIALOG:
                if speaker is None:
                    raise _fail(path, f"scene '{sc.header}': dialogue {t[:40]!r} has no character cue")
                lines.append((speaker, " ".join(t.split())))
                speaker = None
            elif p.type == TYPE_TRANSITION:
                low = t.lower()
                trans = next((v for k, v in _TRANSITIONS if k in low), "crossfade")
        if speaker is not None:
            raise _fail(path, f"scene '{sc.header}': character cue {speaker!r} has no line")
        m = _HEADING.match(sc.header)
        if m is None or not (m.group("place") or "").strip():
            raise _fail(path, f"scene heading {sc.header!r} names no place")
        if not action and not lines:
            raise _fail(path, f"scene '{sc.header}' has no action and no dialogue")
        scenes.append({"heading": sc.header.strip(), "ie": (m.group("ie") or "").upper(),
                       "place": m.group("place").strip(), "time": (m.group("time") or "").strip().lower(),
                       "action": action, "lines": lines, "transition": trans})
    if not scenes:
        raise _fail(path, "no scene headings: a scene starts with a line such as 'INT. KITCHEN - NIGHT'")
    title = (doc.title_values or {}).get("title") or Path(path).stem.replace("_", " ").replace("-", " ").title()
    return {"title": " ".join(str(title).split()).strip("_* ") or "Untitled", "scenes": scenes}


def _cast(names: list[str], genre: str, seed: int) -> list[Character]:
    """Looks and voices as the planner casts them (story/planning/cast.py), one per speaker."""

    rng = random.Random(f"{seed}:{'|'.join(names)}")
    used: dict[str, set[Any]] = defaultdict(set)
    voices = [narrator_voice(genre)]  # characters' voices stand apart from the narrator's
    female, male = set(load(genre)["names"]["f"]), set(load(genre)["names"]["m"])
    chars = []
    for k, name in enumerate(names):
        first = name.split()[0]
        gender = "f" if first in female else ("m" if first in male else "")
        slot = ("hero", "ally", "rival")[k] if k < 3 else "extra"
        title = ("the lead", "the second lead", "the third lead")[k] if k < 3 else "a supporting player"
        char, _ = make_character(Role(slot=slot, head="person", title=title, gender=gender, given_name=name),
                                 genre, rng, used, voices)
        chars.append(char.model_copy(update={"id": slug(name, 24).replace("-", "_") or f"c{k}"}))
    return chars


def story_from_screenplay(path: Path, genre: str = "drama", seed: int = 0) -> Story:
    play = parse(path)
    names: list[str] = []
    for sc in play["scenes"]:
        for who, _ in sc["lines"]:
            if who not in names:
                names.append(who)
    cast = _cast(names, genre, seed)
    ids = {n: c.id for n, c in zip(names, cast)}
    scenes, time = [], "day"
    for i, sc in enumerate(play["scenes"]):
        time = next((v for k, v in _TIMES.items() if k in sc["time"].split()), time)  # CONTINUOUS/LATER: as before
        action = " ".join(sc["action"])
        for n in names:  # a screenplay capitalises a character's first appearance; a narrator says the name
            action = re.sub(rf"\b{re.escape(n.upper())}\b", n, action)
        present = [ids[n] for n in names
                   if any(w == n for w, _ in sc["lines"]) or re.search(rf"\b{re.escape(n)}\b", action, re.IGNORECASE)]
        weather = _weather(action)
        place = sc["place"].title()
        desc = action or f"{', '.join(n for n in names if ids[n] in present)} at the {place.lower()}"
        scenes.append(Scene(
            scene_description=f"{place}, {time}: {desc}"[:1000],
            atmosphere=f"{'inside' if sc['ie'].startswith('INT') else 'outside'}, {time}",
            setting=_setting(sc["ie"].startswith("INT"), sc["place"]),
            location=place, time_of_day=time, weather=weather,
            shot="wide" if i == 0 or not sc["lines"] else "medium",
            characters=present, narration=action[:4000],
            dialogue=[DialogueLine(speaker=ids[w], text=t) for w, t in sc["lines"]],
            transition=sc["transition"], music=MusicCue(mood=_MOODS[time], intensity=0.5),
        ))
    try:
        return Story(title=play["title"][:200], logline=scenes[0].narration[:200], genre=genre,
                     prompt=f"screenplay {Path(path).name}", seed=seed, narrator=narrator_voice(genre),
                     characters=cast, scenes=scenes)
    except ValueError as exc:
        raise _fail(path, str(exc).splitlines()[-1]) from exc
