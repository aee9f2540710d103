"""The built-in story planner: the offline default, a story from any prompt.

It reads the prompt (``prompt``), casts two to four characters (``cast``,
``world``), lays the scenes along a dramatic arc (``arc``) and writes each
scene's narration from the genre's phrase banks (``data/<genre>.json``)
through ``prose``, which introduces people, varies how they are named and
keeps the prompt's own nouns coming back. For each scene it writes several
candidate narrations and keeps the best: one that says something new, names
the prompt's subject when the film needs it, and reads as two to four
sentences.

Deterministic: every choice comes from ``random.Random`` seeded by a hash of
(prompt, genre, seed) for the cast and (prompt, genre, scenes, seed) for the
scenes, so a longer cut of the same film keeps its people.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections import defaultdict
from typing import Any

from pydantic import BaseModel

from ..errors import InvalidInput
from ..hookspecs import hookimpl
from ..models import Character, Scene, Story, StoryRequest
from ..provider import StageContext
from ..quality.ages import parse_age
from ..waterside import shown_weather
from ..words import load
from .base import StoryProvider
from .planning import arc, family
from .planning.cast import _age_group, look, make_character, narrator_voice, person_from_character
from .planning.narration import _PEOPLE, Narration
from .planning.premise import Premise, analyse
from .planning.prose import Person, Realizer, format_fields, tidy, title_case
from .planning.prose import clip as _clip
from .planning.prose import third as _third
from .planning.world import Location, build_world, cast_roles

_TIMES = ["dawn", "day", "dusk", "night"]
_LIGHT = {"dawn": "thin grey dawn light", "day": "even daylight", "dusk": "low amber light",
          "night": "pools of lamplight in deep darkness"}
_WEATHER_LIGHT = {"rain": ", wet reflections everywhere", "fog": ", soft diffused light", "storm": ", flashes of lightning",
                  "snow": ", everything muffled in white", "wind": ", everything moving", "cloudy": ", muted colours",
                  "clear": ""}


def _rng(*parts: Any) -> random.Random:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


class Plan(Narration):
    """One story being planned: its people, places and the phrases already used."""

    def __init__(self, request: StoryRequest) -> None:
        self.req = request
        self.genre = request.genre
        self.g, self.c = load(request.genre), load("common")
        self.prem: Premise = analyse(request.prompt)
        n = request.num_scenes
        cast_rng = _rng("cast", request.prompt, request.genre, request.seed)
        size = 2 if n <= 2 else (3 if n < 10 else 4)
        self.people: dict[str, Person] = {}
        self.characters: list[Character] = []
        if request.previous_character:
            for slot, ch in zip(_PEOPLE, request.previous_character):
                self.people[slot] = person_from_character(ch, slot)
            self.characters = list(request.previous_character)
        else:
            used: dict[str, set[Any]] = defaultdict(set)
            voices = [narrator_voice(request.genre)]
            roles = cast_roles(self.prem, request.genre, cast_rng, size)
            family.relate(roles, _age_group)  # "her estranged father", and ages that fit (a parent a generation older)
            hero_age = 0.0
            for k, role in enumerate(roles):
                span = family.hero_span(roles, _age_group) if k == 0 else family.span_for(role, hero_age)
                owner = self.people["hero"].first if k else ""
                ch, person = make_character(role, request.genre, cast_rng, used, voices, span, owner)
                if k == 0:
                    hero_age = family.phrase_age(ch.base_traits) if parse_age(ch.base_traits) else 35.0
                self.characters.append(ch)
                self.people[role.slot] = person
        self.ids = {slot: self.characters[i].id for i, slot in enumerate(self.people)}
        self.rng = _rng("scenes", request.prompt, request.genre, n, request.seed)
        self.world: list[Location] = build_world(self.prem, request.genre, _rng("world", request.prompt,
                                                                                 request.genre, request.seed))
        self.obj, self.obj_full, self.obj_from_prompt = self._object()
        self.fixed = {
            "obj": self.obj, "obj_full": self.obj_full, "place": self.world[0].name, "at_place": self.world[0].at,
            "to_place": self.world[0].to, "predicate": self._predicate(),
        }
        if len(self.prem.objects) > 1:
            self.fixed["obj2"] = self.prem.objects[1].definite()
        self.realizer = Realizer(self.people, self.fixed)
        self.used_templates: set[str] = set()
        self.used_text: set[str] = set()
        self.used_phrases: set[str] = set()
        self.key = self.prem.key.lower()

    # ------------------------------------------------------------------ premise
    def _object(self) -> tuple[str, str, bool]:
        if self.prem.objects:
            o = self.prem.objects[0]
            self.obj_indef = _clip(o.text if o.proper else f"a {o.text}", 80)
            return _clip(o.definite(), 60), _clip(o.definite(full=True), 90), True
        full, short = _rng("macguffin", self.req.prompt, self.req.seed).choice(self.g["macguffin"])
        self.obj_indef = full
        return short, re.sub(r"^(a|an) ", "the ", full), False

    def _predicate(self) -> str:
        if self.prem.predicate:
            pred = _clip(self.prem.predicate, 160)  # a rambling prompt still makes a sayable sentence
            if self.prem.companion is not None:  # "a boy and his dog set out": the hero leads, the verb agrees
                pred = re.sub(r"^(\w+)", lambda m: _third(m.group(1)), pred)
            return pred
        return "comes across " + self.obj_indef if not self.obj_from_prompt else \
            "comes face to face with " + self.obj_full

    # ------------------------------------------------------------------ scenes
    def scenes(self) -> list[Scene]:
        n = self.req.num_scenes
        plan = self.plan = arc.beats(n)
        time = _weighted(self.rng, self.g["start_time"])
        weather = _weighted(self.rng, self.g["weather"])
        loc = self.world[0]
        out: list[Scene] = []
        shots: list[str] = []
        need = math.ceil(n * 0.6)
        with_key = 0
        for i, beats in enumerate(plan):
            main = beats[-1] if beats[-1] in ("climax", "resolution") else beats[0]
            prev_loc = loc
            loc = self._location(i, main, loc)
            time, weather = self._time_weather(i, n, main, time, weather)
            spot = self.rng.choice(loc.spots)
            scene_slots = self._scene_slots(loc, spot, time, shown_weather(loc.setting, weather, loc.water), i)
            wants_key = with_key < need * (i + 1) / n + 0.01
            narration, people = self._narrate(i, beats, loc, loc is not prev_loc or i == 0, scene_slots, wants_key)
            time = scene_slots.get("forced_time", time)  # the words said when (coherence.settle)
            if self.key and self.key in narration.lower():
                with_key += 1
            dialogue = self._dialogue(main)
            weather = scene_slots.get("forced_weather", weather)
            sky = shown_weather(loc.setting, weather, loc.water)
            present = ["hero"] + [p for p in _PEOPLE[1:] if p in people or p in {d[0] for d in dialogue}]
            present = [p for p in present if p in self.people]
            shot = self._shot(i, n, main, bool(dialogue), shots)
            shots.append(shot)
            words = len(narration.split()) + sum(len(t.split()) for _, t in dialogue)
            mood = self.rng.choice(self.g["moods"][main])
            out.append(Scene.model_validate({
                "scene_description": self._describe(shot, loc, spot, time, sky, present, main, scene_slots),
                "atmosphere": f"{self.rng.choice(self.g['atmosphere'])}; {_LIGHT[time]}{_WEATHER_LIGHT[sky]}",
                "setting": loc.setting, "location": f"{spot}, {loc.name}" if spot not in loc.name else loc.name,
                "time_of_day": time, "weather": sky, "shot": shot, "characters": [self.ids[p] for p in present],
                "narration": narration, "duration": round(words / 2.5 + 2, 1),
                "dialogue": [{"speaker": self.ids[s], "text": t} for s, t in dialogue],
                "music": {"mood": mood, "intensity": arc.intensity(beats, i / max(1, n - 1))},
            }))
        return out

    def _location(self, i: int, beat: str, current: Location) -> Location:
        home = {"setup": 0.85, "inciting": 0.8, "resolution": 0.85, "climax": 0.7}.get(beat, 0.35)
        if i == 0 or len(self.world) == 1 or self.rng.random() < home:
            return self.world[0]
        if current is not self.world[0] and self.rng.random() < 0.3:
            return current  # stay a while
        return self.rng.choice([loc for loc in self.world[1:] if loc is not current] or self.world[1:])

    def _time_weather(self, i: int, n: int, beat: str, time: str, weather: str) -> tuple[str, str]:
        if i > 0 and self.rng.random() < 0.4:
            time = _TIMES[(_TIMES.index(time) + 1) % 4]
        if beat == "climax" and self.g.get("climax_time") and self.rng.random() < 0.7:
            time = self.g["climax_time"]
        if beat == "resolution" and i == n - 1 and self.g.get("end_time") and self.rng.random() < 0.7:
            time = self.g["end_time"]
        if i > 0 and self.rng.random() < 0.45:
            weather = _weighted(self.rng, self.g["weather"])
        if beat == "climax" and self.rng.random() < 0.6:
            weather = self.rng.choice(self.g["climax_weather"])
        if beat == "resolution" and self.rng.random() < 0.5:
            weather = "clear"
        return time, weather

    def _scene_slots(self, loc: Location, spot: str, time: str, weather: str, i: int) -> dict[str, Any]:
        kind = {"space": "space", "underwater": "underwater", "interior": "indoor"}.get(loc.setting, "outdoor")
        bank = self.c["weather"][kind]
        clauses = bank if isinstance(bank, list) else bank[weather]
        daypart = self.c["daypart"][time]
        slots: dict[str, Any] = {
            "loc": loc.name, "at_loc": loc.at, "to_loc": loc.to, "spot": spot, "tod": time, "sky": weather,
            # a second mention of the time in one scene points back instead of describing it again
            "time": [self._fresh(self.c["time"][time]), f"that same {daypart}"], "daypart": daypart,
            "weather": self._fresh(clauses),
        }
        if self.obj_full != self.obj and i % 3 == 1:
            slots["obj"] = self.obj_full  # now and then the whole phrase: "the message in the bottle"
        return slots

    def _shot(self, i: int, n: int, beat: str, talk: bool, shots: list[str]) -> str:
        if i == 0:
            return "aerial" if self.genre in ("adventure", "fantasy", "sci-fi") and self.rng.random() < 0.4 else "wide"
        if i == n - 1:
            return "wide"
        options = {"crisis": ["close", "close", "medium"], "climax": ["medium", "wide", "close"],
                   "midpoint": ["close", "medium"]}.get(beat, ["wide", "medium", "close", "medium"])
        if talk:
            options = ["over_the_shoulder", "medium", "close"]
        if len(shots) >= 2 and shots[-1] == shots[-2]:
            options = [o for o in options if o != shots[-1]] or ["medium"]
        return self.rng.choice(options)

    def _describe(self, shot: str, loc: Location, spot: str, time: str, weather: str, present: list[str],
                  beat: str, slots: dict[str, str]) -> str:
        where = loc.name if spot in loc.name else f"{spot} {loc.at}"
        sky = "" if loc.setting in ("space", "underwater") else f", {slots['weather']}"
        action = format_fields(self.rng.choice(self.c["actions"][beat]), {
            "obj": self.obj, "loc": loc.name, "spot": spot, "his": "her" if self.people["hero"].gender == "f" else "his",
            "rival": self.people["rival"].first if "rival" in self.people else "the enemy"})
        who = []
        for p in present:
            ch = self.characters[list(self.people).index(p)]
            who.append(f"{ch.name}, {look(ch)}" + (f", {action}" if p == "hero" else ""))
        text = f"{self.c['shot_words'][shot]} of {where}, {self.c['daypart'][time]}{sky}. " + "; ".join(who) + "."
        return tidy(text)

    # ------------------------------------------------------------------ story
    def title(self) -> str:
        hero = self.people["hero"]
        obj_word = title_case(self.obj.split()[-1])
        place = self.world[0]
        place_word = title_case(place.name.split()[-1])
        values = {"Obj": obj_word, "Place": place_word, "Name": hero.first, "Role": title_case(hero.role.split()[-1]),
                  "The_Place": title_case(place.name)}
        title = title_case(format_fields(_rng("title", self.req.prompt, self.req.seed).choice(self.g["titles"]), values))
        return _clip(title, 80)

    def logline(self) -> str:
        # a logline speaks of roles, not names: "When a lighthouse keeper finds..."
        people = {k: Person(p.slot, p.title, p.full, p.title, p.title, p.gender) for k, p in self.people.items()}
        r = Realizer(people, self.fixed)
        r.begin_scene({}, prefer_role=True)
        r.introduced = set(people)
        usable = [t for t in self.g["loglines"] if r.can_fill(t)] or ["{premise}."]
        return r.fill(self.rng.choice(usable))


def plan_story(request: StoryRequest) -> Story:
    plan = Plan(request)
    scenes = plan.scenes()
    if request.previous_sequence is not None:  # the seed's chunked API: only the next chunk
        start = len(request.previous_sequence)
        size = math.ceil(request.num_scenes / request.total_chunks)
        if start >= request.num_scenes:
            raise InvalidInput(
                f"previous_sequence already has {start} scenes of {request.num_scenes}: the story is complete"
            )
        scenes = scenes[start:start + size]
    return Story(
        title=plan.title(), logline=plan.logline(), genre=request.genre, prompt=request.prompt, seed=request.seed,
        narrator=narrator_voice(request.genre), characters=plan.characters, scenes=scenes,
    )


class PlannerStoryProvider(StoryProvider):
    """Offline, instant, deterministic: a genre-aware story from any prompt."""

    provider_id = "builtin/planner"
    version = "4"  # 2: animals and robots have fur or plating, not skin and hair; 3: no rain in space;
    # 4: consistent by the checker (quality.consistency): whose relation, ages, time, weather, indoors

    def check_inputs(self, request: BaseModel) -> None:
        assert isinstance(request, StoryRequest)
        if request.language != "en":  # its phrase books are English
            from ..languages import LLM_STORY_PROVIDERS, name

            raise InvalidInput(
                f"builtin/planner writes English only, and the film is in {name(request.language)} "
                f"({request.language}): use the story provider {' or '.join(LLM_STORY_PROVIDERS)}, or write the "
                f"story in that language and make it with --story story.json")

    def generate(self, request: StoryRequest, ctx: StageContext) -> Story:
        self.check_inputs(request)
        ctx.progress(0.0, "planning the story")
        story = plan_story(request)
        ctx.progress(1.0, story.title)
        return story


@hookimpl
def register_story_providers(register):  # type: ignore[no-untyped-def]
    register(PlannerStoryProvider)
