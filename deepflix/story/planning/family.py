"""Families that add up: a relation in the cast says whose it is ("her estranged father"),
and ages fit the relations (a parent a generation older than their child, a teenage son
13 to 19). The ages are read and judged with the checker's own rules (``quality.ages``)."""

from __future__ import annotations

import re

from ...quality.ages import GENERATION, KIN, kin_of, parse_age, role_span, typical
from ...words import load
from .roles import Role

Span = tuple[float, float]


def relate(roles: list[Role], group_of) -> None:  # type: ignore[no-untyped-def]
    """A genre's kin role ("the estranged father") becomes the hero's ("her estranged father");
    one that no age of the hero could fit (a retired hero's grandmother) becomes a friend."""
    hero = roles[0]
    his = "her" if hero.gender == "f" else "his"
    for r in roles[1:]:
        if kin_of(r.title) and r.title.startswith("the "):
            r.title = f"{his} {r.title[4:]}"
    for r in sorted(roles[1:], key=lambda r: -(_gen(r) or 0)):
        lo, hi = hero_span(roles, group_of)
        if lo <= hi:
            break
        if _gen(r):
            r.title, r.head = "the family friend", "friend"


def _gen(role: Role) -> int | None:
    kin = kin_of(role.title)
    return KIN[kin] if kin and re.match(r"^(her|his|their) ", role.title) else None


def phrase_age(phrase: str) -> float:
    span = parse_age(phrase.replace("{his}", "his"))
    assert span is not None, phrase
    return typical(span)


def group_range(group: str) -> Span:
    ages = [phrase_age(p) for p in load("common")["ages"][group]]
    return min(ages), max(ages)


def _own(role: Role, group: str) -> Span:
    lo, hi = group_range(group)
    want = role_span(role.title)
    return (max(lo, want[0]), min(hi, want[1])) if want else (lo, hi)


def hero_span(roles: list[Role], group_of) -> Span:  # type: ignore[no-untyped-def]
    """The hero's ages that leave room for every relation: old enough for a son, young enough
    for a living grandmother."""
    lo, hi = 0.0, 120.0
    for r in roles[1:]:
        g = _gen(r)
        if not g:
            continue
        rlo, rhi = _own(r, group_of(r.title))
        if g < 0:
            lo = max(lo, rlo + GENERATION * -g)
        else:
            hi = min(hi, rhi - GENERATION * g)
    want = role_span(roles[0].title)
    if want:
        lo, hi = max(lo, want[0]), min(hi, want[1])
    return lo, hi


def span_for(role: Role, hero_age: float) -> Span | None:
    """The ages a relation of the hero may have, given the hero's."""
    g = _gen(role)
    want = role_span(role.title)
    lo, hi = (float(want[0]), float(want[1])) if want else (0.0, 120.0)
    if g is None:
        return (lo, hi) if want else None
    if g > 0:
        lo = max(lo, hero_age + GENERATION * g)
    elif g < 0:
        hi = min(hi, hero_age - GENERATION * -g)
    elif re.search(r"\b(older|elder|big)\b", role.title):
        lo, hi = max(lo, hero_age + 2), min(hi, hero_age + 20)
    elif re.search(r"\b(younger|little|baby)\b", role.title):
        lo, hi = max(lo, hero_age - 20), min(hi, hero_age - 2)
    else:
        return (lo, hi) if want else None
    return lo, hi


def choose_age(group: str, span: Span | None, rng) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(group, age phrase): the role's own group when it fits the span, else the nearest that does."""
    ages = load("common")["ages"]
    if span is None:
        return group, rng.choice(ages[group])
    lo, hi = span
    own = [p for p in ages[group] if lo <= phrase_age(p) <= hi]
    if own:
        return group, rng.choice(own)
    fits = [(g, p) for g in ages for p in ages[g] if lo <= phrase_age(p) <= hi]
    if fits:
        return rng.choice(fits)
    # nothing fits (an impossible family): the closest phrase
    return min(((g, p) for g in ages for p in ages[g]),
               key=lambda gp: max(lo - phrase_age(gp[1]), phrase_age(gp[1]) - hi))
