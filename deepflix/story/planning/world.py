"""Who and where: the cast roles and the locations a planned story uses.

The prompt decides first (its protagonist, companion and other people; its
places), the genre fills the gaps (a noir story needs someone to distrust and
someone to fear; a lighthouse story needs a harbour and a village nearby).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ...waterside import water_of
from ...words import load
from . import lexicon as lx
from .cast import is_creature, kin_title
from .premise import Premise, place_preposition
from .roles import Role


@dataclass
class Location:
    setting: str
    name: str  # "the lighthouse", "Paris"
    prep: str  # "at"
    spots: list[str]
    water: str = ""  # a shore's water: "sea", "lake" or "ice" (waterside.py)
    kind: str = ""  # an interior's kind (common.json interior_kinds): "lighthouse", "shop", ...

    @property
    def bank(self) -> str:
        """The key of this place's openers and spots: a lake's shore or ice has its own, and so
        has the inside of a lighthouse (its stair and lamp room are drawn indoors)."""
        if self.setting == "interior" and self.kind == "lighthouse":
            return "lighthouse_tower"
        return self.water if self.water in ("lake", "ice") else self.setting

    @property
    def at(self) -> str:
        return f"{self.prep} {self.name}"

    @property
    def to(self) -> str:
        return f"to {self.name}"


def _gender(head: str) -> str:
    g = lx.PERSON.get(head, "")
    return g if g in ("f", "m") else ""


def _genre_role(slot: str, role: str) -> Role:
    """'witch of the marsh' -> head 'witch' (the noun before any preposition), gender from it."""
    words = role.split()
    cut = next((i for i, w in enumerate(words) if w in lx.PREPOSITIONS), len(words))
    head = words[cut - 1] if cut else words[-1]
    return Role(slot, head, f"the {role}", _gender(head))


def cast_roles(prem: Premise, genre: str, rng: random.Random, size: int) -> list[Role]:
    g = load(genre)
    hero_gender = prem.gender or rng.choice("fm")
    if prem.protagonist is not None:
        p = prem.protagonist
        creature, robot = is_creature(p.head)
        head = f"{p.key} {p.head}" if p.key else p.head  # "crew chief": the prompt's word stays in the role
        hero = Role("hero", head, p.definite(), hero_gender, creature, robot, prem.given_name)
    else:
        occupant = next((lx.PLACE_OCCUPANT[pl.head.lower()] for pl in prem.places if pl.head.lower() in
                         lx.PLACE_OCCUPANT), None)
        title = occupant or g["default_role"]
        hero = Role("hero", title.split()[-1], f"the {title}", _gender(title.split()[-1]) or hero_gender,
                    given_name=prem.given_name)
    roles = [hero]
    ally: Role | None = None
    rival: Role | None = None
    extra: Role | None = None
    comp = prem.companion
    if comp is not None:
        creature, robot = is_creature(comp.head)
        his = "her" if hero.gender == "f" else "his"
        if comp is prem.protagonist:  # "two sisters": the story follows one, the other is her sister
            title = kin_title(comp.head, hero.gender)
        elif comp.det in ("his", "her", "their", "my", "our"):  # "a boy and his dog"
            title = f"{his} {comp.text}"
        else:
            title = comp.definite()
        ally = Role("ally", comp.head, title, _gender(comp.head), creature, robot)
    if prem.other is not None:
        o = prem.other
        creature, robot = is_creature(o.head)
        role = Role("rival" if prem.other_hostile else "ally", o.head, o.definite(), _gender(o.head), creature, robot)
        if prem.other_hostile:
            rival = role
        elif ally is None:
            ally = role
        else:
            extra = role
    if ally is None:
        ally = _genre_role("ally", rng.choice(g["ally_roles"]))
    if rival is None:
        rival = _genre_role("rival", rng.choice(g["rival_roles"]))
    if extra is None:
        extra = _genre_role("extra", rng.choice(g["extra_roles"]))
    extra.slot = "extra"
    if size <= 2:
        keep = ally if (comp is not None or (prem.other is not None and not prem.other_hostile)) else rival
        return roles + [keep]
    return roles + [ally, rival] + ([extra] if size >= 4 else [])


def _location(setting: str, name: str, prep: str) -> Location:
    c = load("common")
    water = water_of(name) if setting == "coast" else ""
    spots = c["spots"].get(water if water in ("lake", "ice") else setting, c["spots"]["interior"])
    kind = None
    if setting == "interior":  # a bookshop has a counter, a museum has halls
        words = set(name.lower().replace("'s", "").split())
        kind = next((k for k, ws in c["interior_kinds"].items() if words & set(ws.split())), None)
        spots = c["interior_spots"][kind] if kind else spots
    return Location(setting, name, prep, list(spots), water, kind or "")


def build_world(prem: Premise, genre: str, rng: random.Random) -> list[Location]:
    """Primary location first, then two or three others that belong near it."""
    g, c = load(genre), load("common")
    places = []
    for p in prem.places:
        setting = lx.PLACE_SETTING.get(p.head.lower(), "city" if p.proper else "interior")  # "Shanghai": a city
        name = p.definite()
        if not any(loc.name == name for loc in places):
            places.append(_location(setting, name, place_preposition(p.head, setting)))
    if not places:
        setting, name, prep = g["default_place"]
        places.append(_location(setting, name, prep))
    primary = places[0]
    related = c["related"].get(primary.bank, [])
    pool: list[tuple[int, Any]] = []
    for setting, name, prep in g["locations"]:
        pool.append((0 if setting in related else 1, (setting, name, prep)))
    for setting in related:
        for name, prep in c["locations"].get(setting, []):
            pool.append((0, (setting, name, prep)))
    rng.shuffle(pool)
    pool.sort(key=lambda x: x[0])  # stable: related settings first, shuffled within
    out = places[:3]
    for setting, name, prep in c.get("companions", {}).get(primary.setting, []):
        if len(out) < 4 and not any(loc.name == name for loc in out):
            out.append(_location(setting, name, prep))
    seen_settings = {loc.setting for loc in out}
    for _, (setting, name, prep) in pool:
        if len(out) >= 4:
            break
        if any(loc.name == name for loc in out) or (setting in seen_settings and len(out) < 3 and rng.random() < 0.6):
            continue
        out.append(_location(setting, name, prep))
        seen_settings.add(setting)
    return out
