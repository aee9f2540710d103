"""Characters who are not people: animals and robots.

The story's cast names them ("a slim fox with russet fur", "a tall robot with
brass plating") and the illustrator draws them (ears and a muzzle, or a beak; a
boxy metal head with a visor and an antenna). Both read these tables, so the
words and the picture agree.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["person", "animal", "robot"]

ROBOT_WORDS = frozenset(["robot", "android", "cyborg", "automaton", "droid", "golem"])
_PEOPLE = frozenset(["woman", "man", "girl", "boy", "child", "kid", "lady", "gentleman", "person", "teenager", "baby",
                     "mother", "father", "grandmother", "grandfather", "wife", "husband"])

# animal -> (the fur's word, its colour, the head's shape: ears "pointed" | "round" | "long" | "none", or "beak")
ANIMALS: dict[str, tuple[str, str, str]] = {
    "fox": ("russet", "#c4622d", "pointed"), "cat": ("ginger", "#cf8a3e", "pointed"),
    "kitten": ("ginger", "#cf8a3e", "pointed"), "dog": ("tawny", "#a8743f", "pointed"),
    "puppy": ("tawny", "#a8743f", "pointed"), "wolf": ("grey", "#85878a", "pointed"),
    "bear": ("brown", "#6b4429", "round"), "mouse": ("grey", "#9a928a", "round"), "rat": ("grey", "#7f7870", "round"),
    "rabbit": ("sandy", "#b8a28a", "long"), "bunny": ("sandy", "#b8a28a", "long"), "hare": ("sandy", "#a88c6c", "long"),
    "horse": ("chestnut", "#7a4a2a", "pointed"), "deer": ("fawn", "#a0683a", "pointed"),
    "unicorn": ("white", "#ece8f0", "pointed"), "dragon": ("green", "#4f7a3a", "pointed"),
    "badger": ("grey", "#6f6f72", "round"), "otter": ("brown", "#6b4a2e", "round"),
    "squirrel": ("red", "#a8552a", "pointed"), "raccoon": ("grey", "#7c7a78", "round"),
    "owl": ("tawny", "#8a6a48", "beak"), "crow": ("black", "#26272d", "beak"), "raven": ("black", "#22232a", "beak"),
    "bird": ("blue", "#5f84ad", "beak"), "penguin": ("black", "#26272d", "beak"), "duck": ("white", "#e6e2d6", "beak"),
    "whale": ("slate blue", "#4d6a8a", "none"), "dolphin": ("silver grey", "#8aa0b4", "none"),
    "octopus": ("coral", "#c2553f", "none"), "turtle": ("moss green", "#6f8a4a", "none"),
    "frog": ("green", "#5f8f3a", "none"),
}
METALS: list[tuple[str, str]] = [("brushed-steel", "#9aa4ae"), ("chrome", "#c4cad1"), ("brass", "#b08d57"),
                                 ("copper", "#b06a3b"), ("white enamel", "#e2e4e8"), ("gunmetal", "#5d6570")]
# a metal named in a sheet's words ("a robot with steel plating") -> its colour
METAL_WORDS = {name.split("-")[-1].split()[0]: colour for name, colour in METALS} | {"silver": "#c4cad1"}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def kind_of(base_traits: str) -> tuple[Kind, str]:
    """What a character is, from the first words of their sheet ("a small fox with ..."):
    ("animal", "fox"), ("robot", "robot"), or ("person", "")."""
    head = re.split(r" with | who | that |;", base_traits.lower() + " ")[0]
    words = _words(head)
    if _PEOPLE & set(words):  # "a woman in a fox-fur hat", "a man who builds robots"
        return "person", ""
    for w in reversed(words):  # the noun comes last: "a tall, broad-shouldered fox"
        if w in ROBOT_WORDS:
            return "robot", w
        if w in ANIMALS:
            return "animal", w
    return "person", ""
