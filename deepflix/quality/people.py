"""Checks on the cast: ages against roles, relationships that say whose, dialogue
speakers who are in the scene, and names used before the audience has met them."""

from __future__ import annotations

import re

from ..models import Character, Story
from .ages import GENERATION, KIN, KIN_GENDER, kin_of, parse_age, role_span, typical
from .findings import Finding

_FEMALE = re.compile(r"\b(woman|girl|lady|she|her|queen|princess|mother|daughter|sister|wife|grandmother|widow)\b")
_MALE = re.compile(r"\b(man|boy|gentleman|he|his|king|prince|father|son|brother|husband|grandfather|widower)\b")
_KIN_RE = "|".join(sorted(KIN, key=len, reverse=True))


def gender_of(ch: Character) -> str:
    """'f', 'm' or '' from the sheet's own words (the role alone is not enough: it is what is checked)."""
    words = f"{ch.base_traits} {ch.facial_features}".lower()
    words = re.sub(rf"\b(the|her|his|their) ([\w-]+ )?({_KIN_RE})\b", " ", words)  # "the teenage son" is the role
    f, m = bool(_FEMALE.search(words)), bool(_MALE.search(words))
    return "f" if f and not m else "m" if m and not f else ""


def first_name(ch: Character) -> str:
    return ch.name.split()[0]


def age_of(ch: Character) -> tuple[int, int] | None:
    # the role's own age words ("the teenage son") are what is checked, not evidence
    traits = re.sub(rf",? (the|her|his|their|[A-Z]\w+'s) [^,]*\b({_KIN_RE})\b.*$", "", ch.base_traits)
    return parse_age(traits)


def _explicit_owner(ch: Character, story: Story) -> tuple[Character | None, str]:
    lead = story.characters[0]
    for text in (ch.role, ch.base_traits):
        for c in story.characters:
            for name in dict.fromkeys((c.name, first_name(c))):
                n = re.escape(name)
                if re.search(rf"\b{n}'s (?:[\w-]+ ){{0,2}}?(?:{_KIN_RE})\b|\b(?:{_KIN_RE}) of {n}\b", text):
                    return c, name
        m = re.search(rf"\b(her|his|their) (?:[\w-]+ ){{0,2}}?(?:{_KIN_RE})\b", text, re.IGNORECASE)
        if m and ch is not lead:
            return lead, m.group(1).lower()
    return None, ""


def owner_of(ch: Character, story: Story) -> tuple[Character | None, str]:
    """Whose relation a kin role is: ("Nadia's father", "father of Nadia", "her father" = the lead's),
    or, when the role says no more than "the mother", the one who is this person's own relation
    the other way round ("her missing son" of this mother). Returns (owner or None, the word used)."""
    owner, word = _explicit_owner(ch, story)
    if owner is not None:
        return owner, word
    kin = kin_of(ch.role) or kin_of(ch.base_traits)
    for other in story.characters:
        okin = kin_of(other.role) or kin_of(other.base_traits)
        if other is not ch and okin and KIN[okin] == -KIN[kin or ""] and _explicit_owner(other, story)[0] is ch:
            return other, ""
    return None, ""


def check_cast(story: Story) -> list[Finding]:
    out: list[Finding] = []
    for ch in story.characters:
        age = age_of(ch)
        want = role_span(ch.role)
        if age and want and (age[1] < want[0] or age[0] > want[1]):
            out.append(Finding("age", f"{ch.name} is '{ch.role}' ({want[0]}-{want[1]}) but "
                                      f"{age[0]}-{age[1]} by the traits '{ch.base_traits}'", character=ch.id))
        kin = kin_of(ch.role) or kin_of(ch.base_traits)
        if kin is None:
            continue
        gender = gender_of(ch)
        if KIN_GENDER.get(kin) and gender and gender != KIN_GENDER[kin]:
            out.append(Finding("relationship", f"{ch.name} is a {kin} but described as "
                                               f"{'a woman' if gender == 'f' else 'a man'}", character=ch.id))
        owner, word = owner_of(ch, story)
        if owner is None:
            out.append(Finding("relationship", f"{ch.name} is '{ch.role}' but the story never says whose {kin}",
                               character=ch.id))
            continue
        og = gender_of(owner)
        if word in ("her", "his") and og and og != ("f" if word == "her" else "m"):
            out.append(Finding("relationship", f"{ch.name} is '{word} {kin}', but {owner.name} is "
                                               f"{'a woman' if og == 'f' else 'a man'}", character=ch.id))
        gen = KIN[kin]
        oage = age_of(owner)
        if gen and age and oage:
            gap = typical(age) - typical(oage)  # > 0: older than the owner
            need = GENERATION * abs(gen)
            if (gen > 0 and gap < need) or (gen < 0 and -gap < need):
                out.append(Finding("age", f"{ch.name} ({age[0]}-{age[1]}) is {owner.name}'s {kin}, but "
                                          f"{owner.name} is {oage[0]}-{oage[1]}: a {kin} is at least {need} years "
                                          f"{'older' if gen > 0 else 'younger'}", character=ch.id))
    return out


def check_relations_in_text(story: Story) -> list[Finding]:
    """'her sister Maya' in the narration must be the Maya whose role is a sister."""
    out: list[Finding] = []
    by_first = {first_name(c): c for c in story.characters}
    pattern = re.compile(rf"\b(?:her|his|their|[A-Z][\w-]*'s) (?:[a-z-]+ ){{0,2}}?({_KIN_RE}) ([A-Z][\w-]*)")
    for i, sc in enumerate(story.scenes, 1):
        for m in pattern.finditer(sc.narration):
            ch = by_first.get(m.group(2))
            if ch is None:
                continue
            own = kin_of(ch.role) or kin_of(ch.base_traits)
            same = own == m.group(1) or {own, m.group(1)} <= {"father", "dad"} or {own, m.group(1)} <= {
                "mother", "mum", "mom"}
            if not same:
                out.append(Finding("relationship", f"the narration calls {ch.name} a {m.group(1)}, but the role is "
                                                   f"'{ch.role}'", scene=i, character=ch.id))
    return out


def check_speakers(story: Story) -> list[Finding]:
    out = []
    for i, sc in enumerate(story.scenes, 1):
        for line in sc.dialogue:
            if line.speaker not in sc.characters:
                out.append(Finding("speaker", f"{story.character(line.speaker).name} speaks ('{line.text[:40]}') "
                                              f"but is not in the scene", scene=i, character=line.speaker))
    return out


def _introduces(text: str, pos: int, end: int, ch: Character) -> bool:
    """A first mention that says who they are: the full name, or the name with their role or
    an appositive beside it ('Maren, a lighthouse keeper', 'the keeper Maren')."""
    if " " in ch.name and text.startswith(ch.name, pos):
        return True
    after, before = text[end:end + 4], text[max(0, pos - 60):pos].lower()
    if re.match(r", (a|an|the|her|his|their|who)\b", text[end:end + 7]) or after.startswith(" the "):
        return True
    role_words = [w for w in re.findall(r"[a-z]+", ch.role.lower()) if len(w) > 2]
    return any(w in before.split()[-4:] for w in role_words)


def check_introductions(story: Story) -> list[Finding]:
    out: list[Finding] = []
    met: set[str] = set()
    names = [(ch, re.compile(rf"\b{re.escape(first_name(ch))}\b")) for ch in story.characters]
    for i, sc in enumerate(story.scenes, 1):
        text = sc.narration
        hits = sorted((m.start(), m.end(), ch) for ch, rx in names for m in rx.finditer(text))
        for pos, end, ch in hits:
            if ch.id in met:
                continue
            if not _introduces(text, pos, end, ch):
                out.append(Finding("introduction", f"{first_name(ch)} is named before being introduced "
                                                   f"(no full name or role at the first mention)", scene=i,
                                   character=ch.id))
            met.add(ch.id)
        for line in sc.dialogue:
            if line.speaker not in met:
                out.append(Finding("introduction", f"{story.character(line.speaker).name} speaks before the "
                                                   f"narration has introduced them", scene=i, character=line.speaker))
                met.add(line.speaker)
            for ch, rx in names:
                if ch.id not in met and ch.id != line.speaker and rx.search(line.text):
                    out.append(Finding("introduction", f"the dialogue names {first_name(ch)} before the story has "
                                                       f"introduced them", scene=i, character=ch.id))
                    met.add(ch.id)
    return out
