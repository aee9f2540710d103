"""Turn the planner's templates into sentences a narrator would say.

Templates name people by slot ({hero}, {ally}, {rival}, {extra}) and let this
module decide how to say it, the way a writer does: the first time a character
appears in the film they are introduced ("the lighthouse keeper Maren Holt"),
after that a scene opens with either their role ("the keeper") or their first
name, and later mentions in the same scene use the name. Pronouns follow each
character's gender. Places, the prompt's objects and the scene's time and
weather are plain slots. Sentences are capitalised after filling, so a
template may start with any slot.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

from .lexicon import VERB_FORMS, third_person

_PRONOUNS = {
    "f": {"he": "she", "him": "her", "his": "her", "himself": "herself"},
    "m": {"he": "he", "him": "him", "his": "his", "himself": "himself"},
}
_SLOT = re.compile(r"\{([A-Za-z_]+)\}")


@dataclass
class Person:
    slot: str  # hero | ally | rival | extra
    first: str
    full: str
    role: str  # short: "the keeper"
    title: str  # long: "the lighthouse keeper"
    gender: str  # f | m


def slots_in(template: str) -> set[str]:
    return {m.lower() for m in _SLOT.findall(template)}


class Realizer:
    """Fills templates for one story, remembering who has been introduced."""

    def __init__(self, people: dict[str, Person], fixed: dict[str, str]) -> None:
        self.people = people
        self.fixed = dict(fixed)  # obj, place, premise_predicate, ...
        self.introduced: set[str] = set()
        self.scene: dict[str, Any] = {}
        self._uses: dict[str, int] = {}
        self.mentioned: set[str] = set()  # people already named in the current scene
        self.prefer_role = True

    def begin_scene(self, scene_slots: dict[str, Any], prefer_role: bool) -> None:
        self.scene = scene_slots
        self._uses = {}
        self.mentioned = set()
        self.prefer_role = prefer_role

    def mark_introduced(self, slots: set[str]) -> None:
        """People the audience already met (a chunk continuing earlier scenes)."""
        self.introduced |= slots

    def _person(self, slot: str, dialogue: bool) -> str:
        p = self.people[slot]
        if dialogue:
            return p.first
        if slot not in self.introduced:
            self.introduced.add(slot)
            self.mentioned.add(slot)
            if len(p.title.split()) > 3 or p.title.lower() == p.full.lower():  # "Silas Crane, the man in the black coat,"
                return p.full if p.title.lower() == p.full.lower() else f"{p.full}, {p.title},"
            return f"{p.title} {p.full}"
        if slot not in self.mentioned:
            self.mentioned.add(slot)
            # the hero opens a scene by role when asked (so the prompt's own noun keeps
            # coming back); the others by role now and then, mostly by name
            if slot == "hero" and self.prefer_role:
                return p.role
            return p.first
        return p.first

    def value(self, name: str, dialogue: bool = False) -> str:
        if name in self.people:
            return self._person(name, dialogue)
        if "_" in name:
            prefix, rest = name.split("_", 1)
            who = {"a": "ally", "r": "rival", "x": "extra", "hero": "hero", "ally": "ally", "rival": "rival",
                   "extra": "extra"}.get(prefix)
            if who in self.people:
                p = self.people[who]
                if rest in _PRONOUNS["m"]:
                    return _PRONOUNS.get(p.gender, _PRONOUNS["m"])[rest]
                if rest == "name":
                    if who not in self.introduced and not dialogue:  # a first mention: the whole name
                        self.introduced.add(who)
                        self.mentioned.add(who)
                        return p.full
                    return p.first
                if rest == "fullname":
                    return p.full
                if rest == "role":
                    return p.role
                if rest == "title":
                    return p.title
        if name in _PRONOUNS["m"]:
            return _PRONOUNS.get(self.people["hero"].gender, _PRONOUNS["m"])[name]
        if name == "premise":
            return f"{self._person('hero', dialogue)} {self.fixed['predicate']}"
        if name in self.scene:
            v = self.scene[name]
            if isinstance(v, list):  # several phrasings: each use takes the next ("at dusk", then "as evening comes on")
                self._uses[name] = self._uses.get(name, -1) + 1
                return v[self._uses[name] % len(v)]
            return v
        if name in self.fixed:
            return self.fixed[name]
        raise KeyError(name)

    def fill(self, template: str, dialogue: bool = False) -> str:
        def sub(m: re.Match[str]) -> str:
            key = m.group(1)
            text = self.value(key.lower(), dialogue)
            return text[:1].upper() + text[1:] if key[:1].isupper() else text

        return tidy(_SLOT.sub(sub, template))

    def can_fill(self, template: str) -> bool:
        """True when every slot has a value (a template about an ally needs an ally)."""
        for name in slots_in(template):
            try:
                probe = Realizer(self.people, self.fixed)
                probe.scene = self.scene
                probe.value(name)
            except KeyError:
                return False
        return True


def tidy(text: str) -> str:
    """Capitalise sentences, collapse spaces, fix 'a'/'an' before the next word."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r",([.;:!?,])", r"\1", text)  # an appositive's comma before the sentence ends

    def article(m: re.Match[str]) -> str:
        a, word = m.group(1), m.group(2)
        w = word.lower()
        vowel = w[:1] in "aeiou" and not w.startswith(("uni", "use", "usu", "one", "eu", "ur"))
        vowel = vowel or w.startswith(("hour", "honest", "heir", "honour"))
        return (a[0] + ("n" if vowel else "")) + " " + word

    text = re.sub(r"\b([Aa]n?) ([A-Za-z][\w-]*)", article, text)
    return re.sub(r"(^[\"'“]?|[.!?][\"'”]?\s+[\"'“]?)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def title_case(text: str) -> str:
    small = {"a", "an", "the", "of", "at", "in", "on", "for", "and", "to", "by", "over", "from", "with"}
    words = text.split()
    out = [w.lower() if (i and w.lower() in small) else (w[:1].upper() + w[1:]) for i, w in enumerate(words)]
    return " ".join(out)


def format_fields(template: str, values: dict[str, Any]) -> str:
    """str.format for data templates where some slots may be missing (left empty)."""
    names = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    return template.format(**{n: values.get(n, "") for n in names})


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;: ")
    return cut if len(cut) > limit // 2 else text[:limit]


def third(word: str) -> str:
    """'set' -> 'sets': the hero alone does what the prompt's pair did."""
    base = VERB_FORMS.get(word.lower())
    return third_person(base) if base and base == word.lower() and base not in ("is", "has") else word
