"""Regression tests for the contradictions in issue 24's lighthouse film, written without the
checker so that they run (and fail) against the code before the fixes."""

from __future__ import annotations

import re

from deepflix.models import StoryRequest
from deepflix.picture.illustration.appearance import build_for
from deepflix.story.planner import plan_story

PROMPT = "A lighthouse keeper finds a message in a bottle"


def _age(text: str) -> int:
    words = {"ten": 10, "eleven": 11, "twelve": 12, "sixteen": 16, "seventeen": 17, "nineteen": 19}
    m = re.search(r"(\w+)-year-old", text)
    if m:
        return words[m.group(1)]
    decades = {"twenties": 25, "thirties": 35, "forties": 45, "fifties": 55, "sixties": 65, "seventies": 75}
    return next(v for k, v in decades.items() if k in text)


def test_the_lighthouse_family_adds_up() -> None:
    story = plan_story(StoryRequest(prompt=PROMPT, genre="drama"))
    hero, *others = story.characters
    for ch in others:
        if "son" in ch.role.split():
            assert "teenage" not in ch.base_traits or 13 <= _age(ch.base_traits) <= 19, ch.base_traits
            assert _age(hero.base_traits) - _age(ch.base_traits) >= 16, (hero.base_traits, ch.base_traits)
        if re.search(r"\b(father|mother|son|sister|brother)\b", ch.role):
            first = hero.name.split()[0]
            assert f"{first}'s" in ch.base_traits, ch.base_traits  # says whose


def test_lighthouse_stairs_and_lamp_room_are_drawn_indoors() -> None:
    for genre in ("drama", "noir", "fantasy", "sci-fi"):
        for seed in range(4):
            for sc in plan_story(StoryRequest(prompt=PROMPT, genre=genre, seed=seed)).scenes:
                inside = re.search(r"\b(stair|lamp room)\b", sc.location + " " + sc.narration.split(".")[0])
                if inside and "outside" not in sc.narration.split(".")[0].split(inside.group(0))[0]:
                    assert sc.setting == "interior", (sc.location, sc.narration)


def test_stars_only_in_a_night_sky() -> None:
    for genre in ("sci-fi", "fantasy"):
        for seed in range(6):
            for sc in plan_story(StoryRequest(prompt=PROMPT, genre=genre, seed=seed)).scenes:
                if re.search(r"\b(watches|turn slowly|come out)\b.*\bstars\b|\bstars\b.*\bturn slowly\b",
                             sc.narration):
                    assert sc.time_of_day == "night" and sc.weather in ("clear", "wind"), sc.narration


def test_a_baseball_cap_is_drawn_as_a_cap() -> None:
    story = plan_story(StoryRequest(prompt=PROMPT, genre="drama"))
    cap = next(c for c in story.characters if "baseball cap" in c.clothing)
    assert cap.appearance is not None and cap.appearance.accessory == "hat"
    assert build_for(cap.sheet()).hat == "cap"


def test_a_driving_pair_keeps_both_people() -> None:
    story = plan_story(StoryRequest(prompt="A father and his daughter drive across the desert", genre="drama"))
    assert any("daughter" in c.role for c in story.characters), [c.role for c in story.characters]


def test_hair_worn_long_is_drawn_long() -> None:
    from deepflix.models import CharacterSheet
    from deepflix.picture.illustration.appearance import derive

    sheet = CharacterSheet(id="lou", name="Lou Holt", base_traits="a tall man in his forties",
                           facial_features="blue eyes, dark brown hair worn long and loose",
                           clothing="a cream trench coat", distinctive_features="a scar")
    assert derive(sheet).hair_style == "long"
