"""Characters: names, looks and voices that stay the same in every scene.

Every visual trait is chosen once, as structured values (``Appearance``), and
the text traits (base_traits, facial_features, clothing, distinctive_features)
are written from those same values, so the words and the picture agree.
Colours, hair and voices are drawn without replacement, so no two people in a
film look or sound alike. ``appearance_from_text`` and ``assign_voices`` do
the reverse for characters an LLM wrote in words only.
"""

from __future__ import annotations

import random
import re
from typing import Any

from ...creatures import ANIMALS, METALS
from ...models import Appearance, Character, Voice, slug
from ...words import load
from . import lexicon as lx
from .family import choose_age
from .prose import Person, format_fields, tidy
from .roles import Role

_KIN = frozenset(["sister", "brother", "twin", "cousin", "mother", "father", "daughter", "son"])
_ROBOT = frozenset(["robot", "android", "cyborg", "ai"])
# no name that is also a word the narration uses ("Moss muffles every footstep")
_CREATURE_NAMES = ["Pip", "Bramble", "Juniper", "Biscuit", "Ember", "Rascal", "Scout", "Clover", "Sable", "Thistle"]
_ROBOT_NAMES = ["Atlas", "Pixel", "Cobalt", "Echo", "Unit Nine", "Tinker", "Vesper", "Ferro"]


def _phrase(text: str) -> str:
    """tidy()'s articles and spacing, without the capital letter."""
    t = tidy(text)
    return t[:1].lower() + t[1:]


def _pick(rng: random.Random, pool: list[Any], used: set[Any], key: Any = lambda x: x) -> Any:
    fresh = [x for x in pool if key(x) not in used]
    choice = rng.choice(fresh or pool)
    used.add(key(choice))
    return choice


def _age_group(words: str) -> str:
    groups = load("common")["age_roles"]
    toks = set(words.lower().split())
    for group in ("teen", "child", "old"):  # a "teenage son" is a teenager
        if toks & set(groups[group].split()):
            return group
    return "adult"


def voice_distance(a: Voice, b: Voice) -> float:
    return abs(a.pitch_semitones - b.pitch_semitones) / 1.5 + abs(a.formant - b.formant) / 0.06


def narrator_voice(genre: str) -> Voice:
    pitch, formant, speed = load(genre)["narrator"]
    return Voice(pitch_semitones=pitch, formant=formant, speed=speed)


def _voice(group: str, rng: random.Random, taken: list[Voice]) -> Voice:
    """A voice from the group's palette, at least clearly apart from every voice taken."""
    options = [Voice(pitch_semitones=p, formant=f, speed=s) for p, f, s in load("common")["voices"][group]]
    rng.shuffle(options)
    for v in options:
        if all(voice_distance(v, t) >= 1.0 for t in taken):
            return v
    # all palette voices clash: shift the best one until it stands apart
    v = max(options, key=lambda o: min(voice_distance(o, t) for t in taken))
    step = 1.5 if v.pitch_semitones >= 0 else -1.5
    while any(voice_distance(v, t) < 1.0 for t in taken) and abs(v.pitch_semitones + step) <= 12:
        v = v.model_copy(update={"pitch_semitones": v.pitch_semitones + step})
    return v


def make_character(role: Role, genre: str, rng: random.Random, used: dict[str, set[Any]], voices: list[Voice],
                   ages: tuple[float, float] | None = None, owner: str = "") -> tuple[Character, Person]:
    """One character for a role. ``ages``: the ages the family allows (story.family); ``owner``:
    whose relation the role is ("Maya" for "her sister"), said in the traits."""
    g, c = load(genre), load("common")
    gender = role.gender or rng.choice("fm")
    pron = {"f": {"he": "she", "his": "her"}, "m": {"he": "he", "his": "his"}}[gender]
    if role.given_name:
        first, full = role.given_name, role.given_name
    elif role.creature or role.robot:
        pool = _ROBOT_NAMES if role.robot else _CREATURE_NAMES
        first = full = _pick(rng, [n for n in pool if n[0] not in used["initial"]] or pool, used["first"])
    else:
        names = [n for n in g["names"][gender] if n[0] not in used["initial"]] or g["names"][gender]
        first = _pick(rng, names, used["first"])
        full = f"{first} {_pick(rng, g['names']['last'], used['last'])}"
    used["initial"].add(first[0])
    age = _age_group(role.title)
    if ages is not None:
        age, age_phrase = choose_age(age, ages, rng)
    colours = c["colours"]
    skin_name, skin = _pick(rng, c["skin"], used["skin"], key=lambda x: x[0])
    hair_name, hair = _pick(rng, c["hair"]["old" if age == "old" else "young"], used["hair"], key=lambda x: x[0])
    styles = ["short", "long", "bun", "curly", "ponytail"] if gender == "f" else ["short", "short", "curly", "bald",
                                                                              "long", "ponytail"]
    style = _pick(rng, styles, used["style"])
    build = rng.choice(["slim", "average", "broad"])
    height = {"child": 0.85, "teen": 0.95}.get(age, rng.choice([0.92, 1.0, 1.0, 1.08]))

    def fits(item: str) -> bool:  # "f:pencil skirt" is for women only, "m:..." for men
        return item[:2] not in ("f:", "m:") or item[0] == gender

    def dyeable(colour: str, garment: str) -> bool:  # no "denim blue denim jacket"
        return not set(colour.split()) & set(garment.split())

    top = rng.choice([t for t in g["tops"] if fits(t)]).split(":")[-1]
    bottom = rng.choice([b for b in g["bottoms"] if fits(b)]).split(":")[-1]
    top_col = _pick(rng, [x for x in g["colours"] if dyeable(x, top)], used["colour"])
    bottom_col = _pick(rng, [x for x in g["colours"] if x != top_col and dyeable(x, bottom)], set())
    accent_col = _pick(rng, g["accents"], used["accent"])
    accessories = [a for a in g["accessories"] if a[1] != "beard" or (gender == "m" and age != "child")]
    acc_text, accessory = _pick(rng, accessories + [["", "none"]], used["accessory"], key=lambda x: x[1])
    distinct = _pick(rng, g["distinctive"], used["distinct"])
    eye, face = rng.choice(c["eyes"]), _pick(rng, c["faces"], used["face"])

    noun = {"f": "woman", "m": "man"}[gender]
    if age == "child":
        noun = {"f": "girl", "m": "boy"}[gender]
    elif age == "teen":
        noun = {"f": "young woman", "m": "young man"}[gender]
    age_text = format_fields(age_phrase if ages is not None else rng.choice(c["ages"][age]), {"his": pron["his"]})
    build_word = rng.choice(c["builds"][build])
    tall = {0.92: "short", 1.08: "tall"}.get(height, "")
    adjectives = ", ".join(w for w in (tall, build_word) if w)
    hair_text = "a shaved head" if style == "bald" else f"{hair_name} hair {c['hair_style'][style]}"
    role_words = re.sub(r"^(the|her|his|their) ", "", role.title)
    whose = f"{owner}'s" if owner and re.match(r"^(her|his|their) ", role.title) else "the"
    lead = f"a {adjectives} " if adjectives else "a "
    if role.robot:  # plating, not skin; lamps for eyes; no hair (creatures.py: the picture reads the same)
        metal_name, skin = METALS[rng.randrange(len(METALS))]
        base = f"{lead}{role.head} with {metal_name} plating"
        facial = "round lamp eyes behind a dark visor, an antenna on the crown"
    elif role.creature:
        fur_name, skin, head_shape = ANIMALS.get(role.head, ("tawny", "#a8743f", "pointed"))
        birdlike = head_shape == "beak"
        base = f"{lead}{role.head} with {fur_name} {'feathers' if birdlike else 'fur'}"
        facial = f"{eye} eyes, {'a short beak' if birdlike else 'a soft muzzle'}"
    else:
        if age in ("child", "teen"):  # "a wiry twelve-year-old girl"
            base = f"{lead}{age_text} {noun} with {skin_name} skin, {whose} {role_words}"
        else:
            base = f"{lead}{noun} {age_text} with {skin_name} skin, {whose} {role_words}"
        facial = f"{eye} eyes, {face}, {hair_text}" + (f", and a {hair_name} beard" if accessory == "beard" else "")
    if role.robot or role.creature:  # no hair to draw, and no beard (in the words or the picture)
        style = "bald"
        if accessory == "beard":
            acc_text, accessory = "", "none"
    clothing = f"a {top_col} {top} and {bottom_col} {bottom}"
    if acc_text and accessory != "beard":
        clothing += f", with {acc_text}"
    distinct_text = format_fields(distinct, {"accent": accent_col, **pron})
    group = "creature" if role.creature or role.robot else ("child" if age == "child" else gender)
    voice = _voice(group, rng, voices)
    voices.append(voice)
    char = Character(
        id=slug(first, 24).replace("-", "_") or role.slot,
        name=full,
        role=role_words,
        base_traits=_phrase(base),
        facial_features=_phrase(facial),
        clothing=_phrase(clothing),
        distinctive_features=_phrase(distinct_text),
        appearance=Appearance(
            skin=skin, hair=hair, hair_style=style, build=build, height=height, top=colours[top_col],
            bottom=colours[bottom_col], accessory=accessory, accent=colours[accent_col],
        ),
        voice=voice,
    )
    short_role = role.title if not role.title.startswith("the ") else f"the {role.head}"
    person = Person(slot=role.slot, first=first, full=full, role=short_role, title=role.title, gender=gender)
    return char, person


def look(char: Character) -> str:
    """The few words a scene description uses for a character, the same in every scene."""
    base = char.base_traits.split(" with ")[0]
    base = re.sub(r" in (his|her) \w+( \w+)?$", "", base)
    top = char.clothing.split(" and ")[0]
    return f"{base} in {top}"


def person_from_character(char: Character, slot: str) -> Person:
    """A Person for the realizer from a Character the planner did not make (a chunk's cast)."""
    words = f" {char.base_traits} {char.facial_features} ".lower()
    if re.search(r"\b(woman|girl|she|her|lady|female|mother|sister|queen)\b", words):
        gender = "f"
    elif re.search(r"\b(man|boy|he|his|gentleman|male|father|brother|king)\b", words):
        gender = "m"
    else:
        gender = "f" if char.voice.pitch_semitones > 0 else "m"
    role = re.sub(r"^(the|a|an) ", "", char.role.strip().lower()) or "stranger"
    first = char.name.split()[0]
    return Person(slot=slot, first=first, full=char.name, role=f"the {role.split()[-1]}", title=f"the {role}",
                  gender=gender)


def assign_voices(chars: list[Character], narrator: Voice, rng: random.Random,
                  keep: frozenset[str] = frozenset()) -> list[Character]:
    """Give every character still on the default voice a distinct one (LLM-written casts).
    Characters whose id is in ``keep`` (a cast fixed by earlier chunks) are left exactly as they are."""
    taken = [narrator] + [ch.voice for ch in chars if ch.voice != Voice()]
    out = []
    for ch in chars:
        if ch.voice == Voice() and ch.id not in keep:
            gender = person_from_character(ch, "x").gender
            words = ch.base_traits.lower()
            group = "child" if re.search(r"\b(child|kid|boy|girl|\d+-year-old)\b", words) else gender
            v = _voice(group, rng, taken)
            taken.append(v)
            ch = ch.model_copy(update={"voice": v})
        out.append(ch)
    return out


def appearance_from_text(char: Character) -> Appearance:
    """Structured looks read from an LLM's words: colour names, hair, build, accessories."""
    c = load("common")
    colours: dict[str, str] = c["colours"]
    names = sorted(colours, key=len, reverse=True)

    def colour_in(text: str) -> str | None:
        low = text.lower()
        hits = [(low.find(n), n) for n in names if re.search(rf"\b{re.escape(n)}\b", low)]
        return colours[min(hits)[1]] if hits else None

    traits = f"{char.base_traits} {char.facial_features}".lower()
    hair_hex = None
    m = re.search(r"([\w-]+(?: [\w-]+)?) hair", traits)
    if m:
        for nm, hexv in c["hair"]["young"] + c["hair"]["old"]:
            if nm.split("-")[0] in m.group(1):
                hair_hex = hexv
        hair_hex = hair_hex or {"blond": "#c9a05a", "blonde": "#c9a05a", "red": "#b3471d", "grey": "#8a8a88",
                                "gray": "#8a8a88", "white": "#efefec", "brown": "#3b2417", "black": "#17171a"}.get(
            m.group(1).split()[-1])
    skin = next((hexv for nm, hexv in c["skin"] if re.search(rf"\b{nm}\b", traits)), None)
    style = next((s for s, w in (("bald", "bald"), ("bald", "shaved"), ("ponytail", "ponytail"), ("bun", "bun"),
                                 ("curly", "curl"), ("long", "long"), ("hooded", "hood")) if w in traits), "short")
    build = "slim" if re.search(r"\b(slim|thin|lean|slight|wiry|slender)\b", traits) else (
        "broad" if re.search(r"\b(broad|heavy|stocky|burly|muscular|big)\b", traits) else "average")
    height = 1.08 if "tall" in traits else (0.92 if re.search(r"\b(short|small|petite)\b", traits) else 1.0)
    if re.search(r"\b(child|kid|boy|girl)\b", traits):
        height = 0.85
    clothing = char.clothing.lower()
    parts = re.split(r"\band\b|,|\bover\b|\bwith\b", clothing)
    top = colour_in(parts[0]) if parts else None
    bottom = next((colour_in(p) for p in parts[1:] if colour_in(p)), None)
    acc_words = [("helmet", "helmet"), ("hat", "hat"), ("fedora", "hat"), ("cap", "hat"), ("scarf", "scarf"),
                 ("glasses", "glasses"), ("spectacles", "glasses"), ("cape", "cape"), ("cloak", "cape"),
                 ("coat", "coat"), ("beard", "beard")]
    text_all = f"{clothing} {traits} {char.distinctive_features.lower()}"
    accessory = next((a for w, a in acc_words if re.search(rf"\b{w}\b", text_all)), "none")
    accent = colour_in(char.distinctive_features) or colour_in(clothing.split(",")[-1])
    base = Appearance()
    seed = sum(map(ord, char.id))  # a stable, per-character fallback colour
    palette = list(colours.values())
    return Appearance(
        skin=skin or base.skin, hair=hair_hex or base.hair, hair_style=style, build=build, height=height,
        top=top or palette[seed % len(palette)], bottom=bottom or palette[(seed * 7 + 3) % len(palette)],
        accessory=accessory, accent=accent or palette[(seed * 13 + 5) % len(palette)],
    )


def is_creature(head: str) -> tuple[bool, bool]:
    return lx.PERSON.get(head) == "*", head in _ROBOT


def kin_title(head: str, hero_gender: str) -> str:
    his = "her" if hero_gender == "f" else "his"
    if head in _KIN:
        return f"{his} {head}"
    return f"{his} best friend" if head in ("kid", "child", "boy", "girl", "teenager", "teen") else f"{his} fellow {head}"
