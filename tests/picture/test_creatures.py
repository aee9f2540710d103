"""Animals and robots in the cast are drawn as such (ears and a muzzle, or a beak; a metal
head with a visor and glowing eyes), and their sheets say fur or plating, not skin and hair."""

from __future__ import annotations

import numpy as np
import pytest

from deepflix.creatures import ANIMALS, METALS, kind_of
from deepflix.models import CharacterSheet, StoryRequest
from deepflix.picture.illustration import raster as R
from deepflix.picture.illustration.appearance import COLOURS, appearance_for, build_for
from deepflix.picture.illustration.figures import FigureLight, Placement, draw_figure
from deepflix.picture.illustration.palette import make_look
from deepflix.story.planner import plan_story

CLOTHES = "a navy coat and blue jeans, with a red scarf"


def sheet(traits: str, cid: str = "c") -> CharacterSheet:
    return CharacterSheet(id=cid, name=cid.title(), base_traits=traits, facial_features="green eyes",
                          clothing=CLOTHES, distinctive_features="")


def drawn(s: CharacterSheet) -> np.ndarray:
    layer = R.new_layer(400, 700)
    pl = Placement(0, 200.0, feet=680.0, fh=560.0)
    draw_figure(layer, appearance_for(s), build_for(s), pl, FigureLight(make_look("day", "clear", "coast", "drama",
                                                                                   "calm", ""), 1.0))
    return layer


def top_row(layer: np.ndarray) -> int:
    return int(np.flatnonzero((layer[..., 3] > 128).any(axis=1))[0])


def glowing_eyes(layer: np.ndarray) -> int:
    b, g, r = (layer[..., i].astype(int) for i in range(3))
    return int(((b > 200) & (g > 180) & (r < 170) & (layer[..., 3] > 200)).sum())


@pytest.mark.parametrize(("traits", "want"), [
    ("a tall, broad-shouldered fox with russet fur", ("animal", "fox")),
    ("a slight robot with brass plating", ("robot", "robot")),
    ("an old grey wolf", ("animal", "wolf")),
    ("a wiry woman, the fox hunter", ("person", "")),
    ("a man who builds robots", ("person", "")),
    ("a heavyset woman in her late thirties with brown skin", ("person", "")),
])
def test_kind_is_read_from_the_sheets_noun(traits: str, want: tuple[str, str]) -> None:
    assert kind_of(traits) == want


def test_fox_and_robot_are_not_drawn_as_people() -> None:
    person = drawn(sheet("a slim woman with fair skin and short dark hair"))
    fox = drawn(sheet("a slim fox with russet fur"))
    robot = drawn(sheet("a slim robot with chrome plating"))
    owl = drawn(sheet("a slim owl with tawny feathers"))
    # ears and an antenna rise above a person's head; a bird's round head does not
    assert top_row(fox) < top_row(person) - 15
    assert top_row(robot) < top_row(person) - 15
    assert abs(top_row(owl) - top_row(person)) < 15
    # the robot's eyes glow; nobody else's do
    assert glowing_eyes(robot) > 50
    assert glowing_eyes(person) == glowing_eyes(fox) == glowing_eyes(owl) == 0
    # the fox's head is its fur: russet, where the person's face is skin
    head = (slice(top_row(person) + 8, top_row(person) + 18), slice(192, 208))  # the brow
    fur = np.median(fox[head][..., :3].reshape(-1, 3), axis=0)[::-1]  # BGR -> RGB
    assert fur[0] > fur[1] + 40 > fur[2] + 40, fur  # red over green over blue
    # and a fox has a tail beside its legs, where a person has nothing
    side = (slice(380, 470), slice(40, 120))
    assert (fox[side][..., 3] > 128).sum() > 300 and (person[side][..., 3] > 128).sum() == 0


def test_words_pick_the_fur_or_metal_colour() -> None:
    assert appearance_for(sheet("a small fox with silver fur")).skin == COLOURS["silver"]
    assert appearance_for(sheet("a small fox")).skin == ANIMALS["fox"][1]
    robot = appearance_for(sheet("a tall robot with copper plating and long hair"))
    assert robot.skin == dict(METALS)["copper"] and robot.hair_style == "bald"


@pytest.mark.parametrize(("prompt", "noun", "covering"), [
    ("A young fox who dreams of flying", "fox", "fur"),
    ("A robot learns to paint the sea", "robot", "plating"),
])
def test_the_planner_casts_them_with_fur_or_plating(prompt: str, noun: str, covering: str) -> None:
    story = plan_story(StoryRequest(prompt=prompt, num_scenes=3, seed=7))  # type: ignore[arg-type]
    hero = next(c for c in story.characters if noun in c.base_traits)
    assert covering in hero.base_traits and "skin" not in hero.base_traits, hero.base_traits
    assert hero.appearance is not None and hero.appearance.hair_style == "bald"
    if noun == "fox":
        assert hero.appearance.skin == ANIMALS["fox"][1]
    else:
        assert hero.appearance.skin in dict(METALS).values()
    assert build_for(hero.sheet()).kind == ("animal" if noun == "fox" else "robot")


def test_no_animal_or_robot_is_written_with_a_beard() -> None:
    for seed in range(40):
        for prompt, noun in (("A young fox who dreams of flying", "fox"), ("An old bear guards the forest", "bear"),
                             ("A robot learns to paint the sea", "robot")):
            story = plan_story(StoryRequest(prompt=prompt, num_scenes=2, seed=seed))  # type: ignore[arg-type]
            for c in story.characters:
                if noun in c.base_traits:
                    assert "beard" not in f"{c.clothing} {c.facial_features}", c.clothing
                    assert c.appearance is not None and c.appearance.accessory != "beard"
