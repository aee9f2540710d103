"""Read a prompt the way a story editor would: who is it about, what do they
do, to what, and where.

"A lighthouse keeper finds a message in a bottle" gives the protagonist
*the lighthouse keeper* (key word "keeper"), the predicate *finds a message in
a bottle*, the object *the message* (and *the bottle*), and the place *the
lighthouse*. No NLP model: a small tagger over the word lists in ``lexicon``,
tuned for one-line premises. Anything it cannot read falls back to the genre's
defaults, so every prompt yields a story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import lexicon as lx

# nouns too abstract to be "the thing the story is about"
_ABSTRACT = frozenset(
    ["love", "time", "way", "life", "world", "everything", "nothing", "trouble", "lot", "kind", "sort", "day", "night", "morning", "year", "years", "moment", "chance", "help", "end", "beginning", "truth", "past", "future", "someone", "something", "himself", "herself", "themselves", "itself", "place", "reason", "name", "people", "own", "age", "lives", "home", "loss", "hope", "fear", "grief", "friendship", "memory"]
)
_PARTICLES = frozenset(["out", "up", "off", "away", "back", "down", "over", "around"])
_PARTICIPLES = frozenset(["lost", "found", "left", "stuck", "caught", "born", "hidden", "forgotten", "frozen", "broken", "stolen", "taken", "kept", "held", "trapped"])
_MODALS = frozenset(["can", "could", "must", "will", "would", "should", "may", "might", "cannot"])
# a group as subject: the story follows one member of it
_GROUP_MEMBER = {"crew": "crew chief", "team": "team captain", "gang": "gang leader", "band": "band leader",
                 "family": "family's eldest", "class": "class clown", "village": "village elder"}
_COPULA = frozenset(["is", "are", "was", "were", "seems", "seem", "becomes", "become", "feels", "feel", "looks", "look", "gets", "get"])
# capitalised first words that are nouns, not names ("Rain falls on the city")
_NOT_NAME = frozenset(["rain", "snow", "fire", "wind", "storm", "night", "time", "death", "love", "war", "winter", "summer", "spring", "autumn", "darkness", "light", "silence", "music", "magic", "water", "smoke", "fog", "everyone", "nobody", "someone"])
_PLURAL_KEEP = frozenset(["glass", "boss", "princess", "actress", "witness", "mattress", "compass", "class", "bus", "gas", "chess"])
_IRREGULAR_PLURAL = {"men": "man", "women": "woman", "children": "child", "people": "person", "wolves": "wolf",
                     "thieves": "thief", "elves": "elf", "dwarves": "dwarf", "mice": "mouse", "geese": "goose"}
# a person met through one of these verbs is the story's opposition, not a friend
_HOSTILE = frozenset(["hunt", "chase", "track", "face", "confront", "defeat", "battle", "fight", "stop", "escape", "flee", "betray", "trap", "rob", "pursue", "attack", "kidnap", "challenge", "haunt"])
_PREP_FOR = {"at": "lighthouse bookstore bookshop shop store library school hospital museum bar diner cafe "
             "restaurant hotel church theater theatre observatory bakery inn tavern pub precinct motel office "
             "studio workshop", "on": "island moon planet mars farm coast beach shore pier ship boat "
             "train ridge mountain cliff cliffs", "aboard": "station spaceship starship spacecraft submarine yacht"}
_PREP = {w: p for p, ws in _PREP_FOR.items() for w in ws.split()}


@dataclass
class Phrase:
    head: str  # the head noun, singular, lower case unless a proper noun: "keeper"
    words: list[str]  # modifiers + head as written (lower case unless proper): ["lighthouse", "keeper"]
    kind: str  # person | place | thing
    plural: bool = False
    proper: bool = False
    tail: str = ""  # a prepositional tail kept with the object: "in a bottle"
    key: str = ""  # the prompt's own word for it when the head differs ("crew" for "crew chief")
    det: str = ""  # the word before it: "a", "the", "his", "two"

    @property
    def text(self) -> str:
        """People by their singular head ('the kid'), things as written ('the screens')."""
        return " ".join(self.words[:-1] + [self.head if self.kind == "person" else self.words[-1]])

    def definite(self, full: bool = False) -> str:
        """'the lighthouse keeper'; 'Paris'; with full=True the tail too ('the message in the bottle')."""
        base = self.text if self.proper else f"the {self.text}"
        if full and self.tail:
            base += " " + re.sub(r"\b(a|an)\b", "the", self.tail)
        return base


@dataclass
class Premise:
    prompt: str
    subject: Phrase | None = None  # the grammatical subject, whatever it is
    protagonist: Phrase | None = None  # a person (None: the genre's default role)
    companion: Phrase | None = None  # "a boy and his dog" -> dog; "two sisters" -> the second sister
    other: Phrase | None = None  # a person in the predicate ("hunts a jewel thief")
    other_hostile: bool = False
    objects: list[Phrase] = field(default_factory=list)  # things, in order
    places: list[Phrase] = field(default_factory=list)  # places, in order
    predicate: str | None = None  # "finds a message in a bottle", verb made present tense
    given_name: str | None = None  # "Maya finds..." -> "Maya"
    gender: str = ""  # "f" | "m" | "" from the prompt's words

    @property
    def key(self) -> str:
        """The word a reader would look for in the narration: the subject's head."""
        if self.given_name:
            return self.given_name
        return (self.subject.key or self.subject.head) if self.subject else ""


def _tokens(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'\-]*|\d+[A-Za-z]*|[,;:]", text)


# what people type before the premise itself: "Write me a short story about ...", "A film where ..."
_META = re.compile(
    r"^\s*(?:(?:please\s+)?(?:write|tell|make|create|generate|give|show)\s+(?:me\s+|us\s+)?)?"
    r"(?:(?:a|an|the)\s+)?(?:(?:short|little|quick|fun|dark|sad|scary|funny|\w+-\w+)\s+)?"
    r"(?:story|film|movie|tale|narrative|fable|short)\s+(?:about|of|where|in\s+which|that|featuring|with)\s+",
    re.IGNORECASE,
)


def singular(word: str) -> tuple[str, bool]:
    w = word.lower()
    if w in _IRREGULAR_PLURAL:
        return _IRREGULAR_PLURAL[w], True
    if w in lx.PERSON or w in lx.PLACE_SETTING and not w.endswith("s") or w in _PLURAL_KEEP or len(w) < 4:
        return w, False
    if w.endswith("ies"):
        return w[:-3] + "y", True
    if w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2], True
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1], True
    return w, False


def is_person(word: str) -> bool:
    w = word.lower()
    if w in lx.PERSON:
        return True
    return w not in lx.NOT_PERSON and w not in lx.PLACE_SETTING and len(w) > 4 and w.endswith(("er", "ist", "ian"))


def _is_name(tok: str) -> bool:
    w = tok.lower()
    known = (lx.PERSON, lx.PLACE_SETTING, lx.VERB_FORMS, lx.DETERMINERS, lx.PREPOSITIONS, lx.PRONOUNS, _NOT_NAME,
             _GROUP_MEMBER)
    return not any(w in table or singular(w)[0] in table for table in known) and not is_person(singular(w)[0])


def _tag(tokens: list[str]) -> list[str]:
    tags: list[str] = []
    for i, tok in enumerate(tokens):
        w = tok.lower()
        nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
        prev = tags[-1] if tags else ""
        if w in ",;:":
            tags.append("PUNCT")
        elif prev in ("VERB", "INF") and w in _PARTICLES:
            tags.append("PRT")  # "set out", "turns up"
        elif (tokens[i - 1].lower() in _MODALS if i else False) or (
            i and tokens[i - 1].lower() == "to" and (w in lx.VERB_FORMS or nxt in lx.DETERMINERS)
        ):
            tags.append("INF")  # "can talk", "to find": a verb, never an object
        elif prev == "VERB" and tokens[i - 1].lower() in _COPULA and w not in lx.DETERMINERS:
            tags.append("ADJ")  # "is afraid": a predicate adjective, not an object
        elif prev == "NOUN" and (w.endswith("ed") or w in _PARTICIPLES) and nxt in lx.PREPOSITIONS and i + 2 < len(
            tokens
        ):
            tags.append("PART")  # "an astronaut stranded on Mars": a participle closes the subject
        elif w in lx.DETERMINERS or w in lx.NUMBERS and prev in ("", "PREP", "VERB", "CONJ"):
            tags.append("DET")
        elif w in lx.PREPOSITIONS:
            tags.append("PREP")
        elif w in lx.RELATIVES and prev == "NOUN":
            tags.append("REL")
        elif w in lx.CONJUNCTIONS:
            tags.append("CONJ")
        elif w in lx.PRONOUNS:
            tags.append("PRON")
        elif prev == "DET" or (i == 0 and tok[0].isupper() and w not in lx.VERB_FORMS):
            tags.append("NOUN")  # right after an article, or the first word: a noun (or adjective)
        elif w in lx.PERSON and not w.endswith("s") and prev == "NOUN":
            tags.append("NOUN")  # "the night guard": a person noun in base form is not the verb
        elif w in lx.VERB_FORMS and (
            prev in ("NOUN", "REL", "PRON", "VERB") or (w not in lx.PERSON and w not in lx.PLACE_SETTING)
        ) and not (prev == "NOUN" and nxt in ("and", ",") and w in lx.PERSON):
            tags.append("VERB")
        elif (
            prev == "NOUN" and w.endswith("s") and not w.endswith("ss") and len(w) > 3
            and (nxt in lx.DETERMINERS or nxt in lx.PREPOSITIONS or nxt in lx.PRONOUNS or nxt == "")
            and w not in lx.PERSON and w not in lx.PLACE_SETTING
        ):
            tags.append("VERB")  # "unearths a", "deciphers the": an unknown verb in third person
        elif w.endswith("ly") and len(w) > 4:
            tags.append("ADV")
        else:
            tags.append("NOUN")
    return tags


def _phrases(tokens: list[str], tags: list[str], start: int, stop: int) -> list[tuple[int, int, Phrase]]:
    """Maximal runs of NOUN-tagged words in [start, stop): (first, end, phrase)."""
    out: list[tuple[int, int, Phrase]] = []
    i = start
    while i < stop:
        if tags[i] != "NOUN":
            i += 1
            continue
        j = i
        while j < stop and tags[j] == "NOUN":
            j += 1
        words = [t if t[0].isupper() and k > 0 else t.lower() for k, t in zip(range(i, j), tokens[i:j])]
        words = [w.removesuffix("'s") for w in words]
        if i == 0 and j == 1 and tokens[0][0].isupper() and _is_name(tokens[0]) and j < len(tags) and (
            tags[j] in ("VERB", "PUNCT")
        ):
            words = [tokens[0]]  # "Maya discovers...": a name, not a noun at the start of a sentence
        raw = words[-1]
        proper = raw[0].isupper()
        head, plural = (raw, False) if proper else singular(raw)
        det = tokens[i - 1].lower() if i > 0 else ""
        plural = plural or lx.NUMBERS.get(det, 1) > 1
        if head in _GROUP_MEMBER and not proper and (i == 0 or tags[i - 1] == "DET"):
            member = _GROUP_MEMBER[head].split()
            out.append((i, j, Phrase(head=member[-1], words=words[:-1] + member, kind="person", key=head)))
            i = j
            continue
        if proper and (head.lower() in lx.PLACE_SETTING or det in ("in", "across", "to", "from", "near", "through")):
            kind = "place"  # "in Shanghai", "across Paris": a named place the lexicon does not know
        elif is_person(head) and not proper:
            kind = "person"
        elif head.lower() in lx.PLACE_SETTING:
            kind = "place"
        else:
            kind = "thing"
        out.append((i, j, Phrase(head=head, words=words, kind=kind, plural=plural, proper=proper, det=det)))
        i = j
    return out


def _present(verb: str, plural: bool) -> str:
    """The verb in the present tense, agreeing with the subject ('found' -> 'finds')."""
    w = verb.lower()
    base = lx.VERB_FORMS.get(w)
    if base is None or w in ("must", "can", "will", "should", "could", "would", "may", "might"):
        return verb
    if w.endswith("ing") and base not in ("is", "has"):  # "two robots falling in love" -> "fall in love"
        return base if plural else lx.third_person(base)
    if base in ("is", "has"):
        return ("are" if plural else "is") if base == "is" else ("have" if plural else "has")
    return base if plural else lx.third_person(base)


def analyse(prompt: str) -> Premise:
    text = " ".join(prompt.split())
    stripped = _META.sub("", text, count=1)
    if stripped != text and stripped:
        text = stripped[0].upper() + stripped[1:]
    sentences = re.split(r"(?<=[.!?])\s+", text)
    first = sentences[0] if sentences else text
    prem = Premise(prompt=text)
    tokens = _tokens(first)
    if not tokens:
        return prem
    tags = _tag(tokens)
    verb_i = next((i for i, t in enumerate(tags) if t == "VERB" and i > 0), None)
    rel_i = next((i for i, t in enumerate(tags) if t in ("REL", "PART")), None)
    if verb_i is None and rel_i is not None and tags[rel_i] == "PART":
        verb_i, rel_i = rel_i, None  # "a ship lost at sea": the participle is all the predicate there is
    subj_end = min(x for x in (verb_i, rel_i, len(tokens)) if x is not None)
    # the subject stops at its first preposition: "the last bookstore in a city" -> bookstore
    first_prep = next((i for i in range(subj_end) if tags[i] in ("PREP", "PUNCT")), subj_end)
    all_runs = _phrases(tokens, tags, 0, len(tokens))
    subject_runs = [r for r in all_runs if r[1] <= first_prep]
    for sentence in sentences[1:3]:  # later sentences add places and things, never the subject
        more = _tokens(sentence)
        all_runs += [(len(tokens) + a, len(tokens) + b, p) for a, b, p in _phrases(more, _tag(more), 0, len(more))]

    if subject_runs:
        prem.subject = subject_runs[0][2]
        if prem.subject.proper and prem.subject.kind == "thing" and prem.subject.head.lower() not in lx.PLACE_SETTING:
            prem.given_name = prem.subject.head
            titles = [w for w in prem.subject.words[:-1] if is_person(w)]  # "Captain Reyes"
            prem.protagonist = Phrase(head=titles[-1], words=[titles[-1]], kind="person") if titles else None
            prem.subject = prem.protagonist
        elif prem.subject.kind == "person":
            prem.protagonist = prem.subject
            others = [p for _, _, p in subject_runs[1:] if p.kind == "person"]
            if others:
                prem.companion = others[0]
            elif prem.subject.plural:
                prem.companion = prem.subject
    pred_i = verb_i if verb_i is not None else (rel_i + 1 if rel_i is not None else None)
    copular = pred_i is not None and pred_i < len(tokens) and tokens[pred_i].lower() in _COPULA
    seen_subject = {id(p) for _, _, p in subject_runs}
    if prem.given_name:
        seen_subject |= {id(p) for _, _, p in all_runs if p.head == prem.given_name}
    for a, _, ph in all_runs:
        # modifiers that are places count too: "lighthouse keeper" -> the lighthouse
        for w in ph.words[:-1]:
            if w.lower() in lx.PLACE_SETTING and not any(p.head == w.lower() for p in prem.places):
                prem.places.append(Phrase(head=w.lower(), words=[w.lower()], kind="place"))
        if ph.kind == "place":
            if not any(p.head.lower() == ph.head.lower() for p in prem.places):
                prem.places.append(ph)
        elif ph.kind == "thing" and ph.head.lower() not in _ABSTRACT and (verb_i is not None or rel_i is not None
                                                                          or ph is (prem.subject or ph)) and not (
            copular and a > (verb_i if verb_i is not None else rel_i or 0)  # "is afraid of fire": no object
        ):
            if id(ph) in seen_subject and prem.subject is ph and prem.protagonist is None:
                prem.objects.insert(0, ph)
            elif id(ph) not in seen_subject:
                prem.objects.append(ph)
        elif ph.kind == "person" and id(ph) not in seen_subject and prem.other is None:
            prem.other = ph
    if prem.protagonist is None and prem.given_name is None and prem.other is not None and (
        prem.subject is None or prem.subject.head.lower() in _ABSTRACT
    ):  # "love and loss in Shanghai, with a jazz singer": the story follows the singer
        prem.protagonist = prem.subject = prem.other
        prem.other = None
    if prem.subject is not None and prem.subject.kind == "place" and prem.places and prem.places[0] is not prem.subject:
        prem.places.remove(prem.subject) if prem.subject in prem.places else None
        prem.places.insert(0, prem.subject)

    # the predicate, and the tail of the object phrase ("message" + "in a bottle")
    pred_start = verb_i if verb_i is not None else (rel_i + 1 if rel_i is not None else None)
    verb_base = ""
    if pred_start is not None and pred_start < len(tokens):
        plural = bool(prem.subject and prem.subject.plural) or prem.companion is not None
        words = tokens[pred_start:]
        if tags[pred_start] == "PART":
            words.insert(0, "are" if plural else "is")  # "a ship lost at sea" -> "is lost at sea"
        elif verb_i is not None:
            words[0] = _present(words[0], plural)
        pred = " ".join(words)
        prem.predicate = re.sub(r"\s+([,;:])", r"\1", pred).rstrip(",;: ")
        verb_base = lx.VERB_FORMS.get(tokens[pred_start].lower(), "")
        prem.other_hostile = verb_base in _HOSTILE
        for k, (a, b, ph) in enumerate(all_runs):
            if ph in prem.objects and a > pred_start and b < len(tokens) and tags[b] == "PREP" and tokens[b].lower() in (
                "in", "from", "of", "with", "under", "inside"
            ):
                nxt = next((r for r in all_runs[k + 1:] if r[0] > b), None)
                if nxt is not None:
                    ph.tail = " ".join(t.lower() if not t[0].isupper() else t for t in tokens[b:nxt[1]])
                break
    if prem.other is not None and prem.other.head in ("robot", "android", "machine", "golem") and verb_base in (
        "build", "make", "create", "invent", "repair", "assemble", "design", "fix", "find", "discover"
    ):
        prem.objects.insert(0, Phrase(head=prem.other.head, words=prem.other.words, kind="thing", det=prem.other.det))
        prem.other = None
    low = f" {first.lower()} "
    if prem.protagonist is not None:
        g = lx.PERSON.get(prem.protagonist.head, "")
        prem.gender = g if g in ("f", "m") else ""
    if not prem.gender and prem.protagonist is not None:
        if re.search(r"\b(she|her|herself)\b", low):
            prem.gender = "f"
        elif re.search(r"\b(he|his|him|himself)\b", low):
            prem.gender = "m"
    return prem


def place_preposition(head: str, setting: str) -> str:
    """'at the lighthouse', 'in the city', 'aboard the station'."""
    if head.lower() in _PREP:
        return _PREP[head.lower()]
    return {"coast": "on", "space": "out in", "underwater": "down in"}.get(setting, "in")
