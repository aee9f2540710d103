"""The planner's narration: each scene's sentences chosen from the genre's templates
(fresh ones first, the people it must introduce, the prompt's subject said), scored
and settled with the scene's weather and place, and its short exchanges of dialogue.

A mixin of ``planner.Plan`` (split from planner.py): its methods read the plan's
state (rng, realizer, the genre's and the common templates, what was used).
"""

from __future__ import annotations

import re

from . import coherence
from .prose import slots_in, tidy
from .world import Location

_PEOPLE = ("hero", "ally", "rival", "extra")
_PREFIX = {"hero": "hero", "ally": "a", "rival": "r", "extra": "x"}  # {a_he}, {r_his}, {x_him}
_INTRODUCING = ("inciting", "rising", "midpoint", "crisis")
# words in a scene's narration that settle its weather ("walks home in the rain"); metaphors
# ("news arrives like a storm") must not, so only literal phrases are listed
_SAID_WEATHER = (("in the rain", "rain"), ("umbrella", "rain"), ("soaked from the rain", "rain"),
                 ("snow up to", "snow"), ("sandstorm", "wind"), ("toward the storm", "storm"))


def _sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?:\s|$)", text))


class Narration:
    """Plan's narrating half; Plan sets every attribute these methods read."""

    def _fresh(self, phrases: list[str]) -> str:
        """A phrase this film has not used yet, while there are any (no "rain drums" twice)."""
        unused = [p for p in phrases if p not in self.used_phrases]
        choice = self.rng.choice(unused or phrases)
        self.used_phrases.add(choice)
        return choice

    def _pool(self, beat: str) -> list[str]:
        pool = list(self.g["beats"][beat])
        if beat == "rising":
            pool += self.c["rising"]
        return pool

    def _pick(self, pool: list[str], require: str | None = None) -> str | None:
        fresh = [t for t in pool if t not in self.used_templates and self.realizer.can_fill(t)]
        usable = fresh or [t for t in pool if self.realizer.can_fill(t)]
        if require:  # a template that brings this person in, when there is one
            usable = [t for t in usable if require in slots_in(t)] or usable
        return self.rng.choice(usable) if usable else None

    def _candidate(self, i: int, beats: list[str], loc: Location, new_place: bool, require: str | None) -> list[str]:
        """Opener (when the place changes, or now and then), the beat's sentences, maybe a reflection."""
        openers = self.c["openers"][loc.bank]
        parts: list[str] = []
        if new_place or self.rng.random() < 0.3:
            opener = self._pick(openers)
            if opener:
                parts.append(opener)
        for beat in beats:
            t = self._pick(self._pool(beat), require if beat in _INTRODUCING else None)
            if t:
                parts.append(t)
                if beat == "inciting" and not self.obj_from_prompt and self.prem.predicate and "{premise}" in t:
                    # the prompt named no object, so the story's own one needs an entrance
                    parts.append(f"And then there is {self.obj_indef}, which {{hero_name}} cannot stop thinking about.")
        n_sent = sum(_sentences(p) or 1 for p in parts)
        musing = beats[-1] in ("rising", "midpoint", "crisis")  # the narrator muses once the story is moving
        if musing and ((n_sent < 3 and self.rng.random() < 0.55) or n_sent < 2):
            r = self._pick(self.g["reflections"])
            if r:
                parts.append(r)
        if sum(_sentences(p) or 1 for p in parts) < 2 and not (parts and parts[0] in openers):
            opener = self._pick(openers)  # never a one-sentence scene: set the place first
            if opener:
                parts.insert(0, opener)
        while sum(_sentences(p) or 1 for p in parts) > 4 and len(parts) > 1:
            parts.pop(0 if parts[0] in openers else -1)
        return parts

    def _narrate(self, i: int, beats: list[str], loc: Location, new_place: bool, slots: dict[str, str],
                 wants_key: bool) -> tuple[str, set[str]]:
        best: tuple[float, list[str], bool] | None = None
        require = self._must_introduce(i)
        for k in range(6):
            prefer_role = (i % 2 == 0) if k < 3 else i % 2 != 0
            self.realizer.begin_scene(slots, prefer_role)  # can_fill() needs this scene's slots
            parts = self._candidate(i, beats, loc, new_place, require)
            introduced = set(self.realizer.introduced)
            filled = [self.realizer.fill(p) for p in parts]
            text = " ".join(filled)
            body = " ".join(t for p, t in zip(parts, filled) if p not in self.c["openers"][loc.bank])
            met = self.realizer.introduced - introduced
            self.realizer.introduced = introduced  # a trial: undo its introductions
            score = 5.0 * (require in met) if require else 0.0
            score -= 10 * (text in self.used_text)
            score -= 3 * sum(p in self.used_templates for p in parts)
            score += 4 * (bool(self.key) and self.key in text.lower() and wants_key)
            score += 1 * (self.obj.split()[-1] in text)
            score -= 2 * (not 2 <= _sentences(text) <= 4)
            score -= 0.02 * max(0, len(text.split()) - 60)
            score -= coherence.penalty(text, body, loc.setting, slots["spot"], loc.water)
            if best is None or score > best[0]:
                best = (score, parts, prefer_role)
        assert best is not None
        _, parts, prefer_role = best
        said = " ".join(p for p in parts if p not in self.c["openers"][loc.bank]).lower()
        for word, kind in _SAID_WEATHER:
            if word in said and loc.setting not in ("space", "underwater"):
                # the story says it rains: so does the sky in the picture and the opener
                slots["forced_weather"] = kind
                bank = "indoor" if loc.setting == "interior" else "outdoor"
                slots["weather"] = self.rng.choice(self.c["weather"][bank][kind])
                break
        self.realizer.begin_scene(slots, prefer_role)
        introduced = set(self.realizer.introduced)
        body = " ".join(self.realizer.fill(p) for p in parts if p not in self.c["openers"][loc.bank])
        self.realizer.introduced = introduced  # a trial: undo its introductions
        coherence.settle(slots, body, loc.setting, loc.water, slots["tod"],
                         slots.get("forced_weather", slots["sky"]), self.c, self.rng, self._fresh)
        self.realizer.begin_scene(slots, prefer_role)
        introduced = set(self.realizer.introduced)
        text = " ".join(self.realizer.fill(p) for p in parts)
        if wants_key and self.key and self.key not in text.lower():
            anchor = self._pick(self.c["anchors"][self._key_kind()])  # say the prompt's subject
            if anchor:
                if sum(_sentences(p) or 1 for p in parts) >= 4 and parts[-1] in self.g["reflections"]:
                    parts.pop()
                parts.append(anchor)
                self.realizer.introduced = introduced
                self.realizer.begin_scene(slots, prefer_role)
                text = " ".join(self.realizer.fill(p) for p in parts)
        if text in self.used_text:  # never two scenes with the same words
            text += " " + self.realizer.fill(self.rng.choice(self.g["reflections"]))
        self.used_templates.update(parts)
        self.used_text.add(text)
        people = set().union(*(slots_in(p) for p in parts)) if parts else set()
        named = {p for p in _PEOPLE if any(s == p or s.startswith((_PREFIX[p] + "_", p + "_")) for s in people)}
        return tidy(text), named

    def _must_introduce(self, i: int) -> str | None:
        """The ally and the rival should be met before the climax: when the scenes that can still
        introduce them run short, ask for a template that does."""
        # a love story meets its love first; a prompt's own second person comes first too
        order = ("ally", "rival") if self.genre == "romance" or self.prem.other or self.prem.companion else (
            "rival", "ally")
        pending = [p for p in order if p in self.people and p not in self.realizer.introduced]
        if not pending or i == 0:
            return None
        left = sum(1 for b in self.plan[i:] if b[0] in _INTRODUCING)
        return pending[0] if left <= len(pending) + 1 else None

    def _key_kind(self) -> str:
        if self.key in self.obj.lower():
            return "thing"
        if self.key in self.world[0].name.lower():
            return "place"
        return "person"

    def _dialogue(self, beat: str) -> list[tuple[str, str]]:
        """One short exchange (a line, or a line and its answer) in about half the scenes."""
        met = self.realizer.introduced | {"hero"}  # a voice the audience can put a name to
        exchanges = [ex for ex in self.g["dialogue"].get(beat, []) if all(who in met for who, _ in ex)
                     and all(self._slot_person(s) in met | {None} for _, t in ex for s in slots_in(t))]
        fresh = [ex for ex in exchanges if ex[0][1] not in self.used_templates
                 and all(self.realizer.can_fill(t) for _, t in ex)]
        if not fresh or self.rng.random() > 0.6:
            return []
        chosen = self.rng.choice(fresh)
        self.used_templates.update(t for _, t in chosen)
        return [(who, self.realizer.fill(t, dialogue=True)) for who, t in chosen]

    @staticmethod
    def _slot_person(slot: str) -> str | None:
        """The person a slot names ("a_name" -> ally), or None for a place or thing."""
        return next((p for p in _PEOPLE if slot == p or slot.startswith((_PREFIX[p] + "_", p + "_"))), None)
