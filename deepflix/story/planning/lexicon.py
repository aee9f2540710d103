"""Word lists the story stage reads prompts and LLM replies with.

Plain data, no logic: which nouns are places (and which of the model's
``Setting`` values each belongs to), which are people or creatures, which words
are verbs, and the synonyms an LLM uses for our enum values. The planner uses
them to find a prompt's subjects and places; ``repair`` uses them to map
"beach" to ``coast`` and "scary" to ``eerie``.
"""

from __future__ import annotations


def _expand(table: dict[str, str]) -> dict[str, str]:
    """'word1 word2': setting  ->  one entry per word (keeps the tables short)."""
    out: dict[str, str] = {}
    for words, value in table.items():
        for w in words.split():
            out[w.replace("_", " ")] = value
    return out


# noun -> Setting. Multi-word keys use "_" for the space.
PLACE_SETTING: dict[str, str] = _expand(
    {
        "lighthouse lighthouses beacon": "lighthouse",
        "sea seas ocean oceans beach beaches shore shores coast coastline harbor harbour bay cove cliff cliffs "
        "port pier docks dock seaside island islands lagoon tide lake river boat ship yacht sailboat": "coast",
        "underwater reef reefs seabed seafloor abyss trench shipwreck wreck atlantis submarine kelp": "underwater",
        "space spaceship starship spacecraft station orbit asteroid galaxy rocket colony starbase cosmos nebula "
        "satellite": "space",
        "planet planets moon mars": "desert",  # a planet's surface draws best as a desert
        "city cities metropolis downtown skyscraper skyscrapers rooftop rooftops subway paris london tokyo "
        "berlin rome chicago venice neighborhood neighbourhood suburb suburbs": "city",
        "alley alleys street streets boulevard avenue nightclub neon casino": "night_street",
        "forest forests woods wood jungle grove glade swamp thicket woodland": "forest",
        "desert deserts dune dunes sahara oasis canyon wasteland badlands": "desert",
        "mountain mountains peak peaks summit glacier hill hills cave caves volcano cliffside ridge valley "
        "everest alps": "mountains",
        "village villages town towns hamlet market square": "village",
        "field fields meadow meadows farm farms prairie countryside garden gardens orchard vineyard ranch "
        "barn wheat": "field",
        "house houses home mansion castle library bookstore bookshop shop store museum hospital school "
        "office apartment flat attic cellar basement bar diner cafe restaurant hotel church theater theatre "
        "train lab laboratory kitchen bakery palace tower motel prison factory warehouse garage studio "
        "bedroom room cabin inn tavern pub classroom courtroom precinct observatory workshop": "interior",
    }
)

# a place's occupant: the protagonist when the prompt names a place but no person
PLACE_OCCUPANT: dict[str, str] = {
    "lighthouse": "lighthouse keeper", "bookstore": "bookseller", "bookshop": "bookseller",
    "library": "librarian", "shop": "shopkeeper", "store": "shopkeeper", "bakery": "baker",
    "ship": "captain", "boat": "skipper", "station": "engineer", "spaceship": "pilot", "starship": "pilot",
    "castle": "young queen", "palace": "young prince", "farm": "farmer", "school": "teacher",
    "hospital": "night nurse", "bar": "bartender", "diner": "waitress", "cafe": "barista",
    "restaurant": "cook", "hotel": "night porter", "museum": "curator", "church": "caretaker",
    "theater": "stagehand", "theatre": "stagehand", "house": "new owner", "mansion": "housekeeper",
    "observatory": "astronomer", "lab": "scientist", "laboratory": "scientist", "prison": "guard",
    "garden": "gardener", "inn": "innkeeper", "tavern": "innkeeper", "village": "young blacksmith",
    "forest": "woodcutter", "mountain": "climber", "desert": "guide", "island": "castaway",
    "city": "courier", "planet": "explorer", "moon": "astronaut", "colony": "engineer",
}

# people and creatures. Value: "f", "m" or "" (either); a leading "*" marks a creature
# (one-word name, no surname).
PERSON: dict[str, str] = {
    **{w: "" for w in ["keeper", "detective", "kid", "child", "robot", "android", "cyborg", "knight", "astronaut", "pilot", "captain", "sailor", "soldier", "thief", "spy", "doctor", "nurse", "teacher", "student", "chef", "cook", "baker", "farmer", "scientist", "inventor", "engineer", "musician", "painter", "artist", "writer", "poet", "novelist", "librarian", "bookseller", "orphan", "stranger", "pirate", "sheriff", "cop", "officer", "lawyer", "journalist", "reporter", "photographer", "dancer", "singer", "clown", "mayor", "hunter", "explorer", "archaeologist", "climber", "hiker", "traveler", "traveller", "tourist", "janitor", "mechanic", "driver", "courier", "boxer", "twin", "twins", "teenager", "teen", "student", "professor", "hacker", "agent", "assassin", "guard", "ranger", "healer", "mage", "sorcerer", "apprentice", "squire", "bard", "blacksmith", "merchant", "villager", "shepherd", "smuggler", "gambler", "bartender", "waiter", "waitress", "barista", "gardener", "curator", "caretaker", "housekeeper", "porter", "stagehand", "astronomer", "castaway", "guide", "woodcutter", "shopkeeper", "innkeeper", "skipper", "diver", "fisher", "firefighter", "paramedic", "surgeon", "veteran", "refugee", "prisoner", "convict", "heir", "heiress", "ghost", "spirit", "alien", "vampire", "werewolf", "zombie", "monster", "creature", "elf", "dwarf", "giant", "troll", "goblin", "fairy", "genie", "mermaid", "dragon", "witch", "wizard", "friend", "friends", "neighbor", "neighbour", "family", "couple", "lover", "lovers", "ai"]},
    **{w: "f" for w in ["girl", "woman", "lady", "queen", "princess", "mother", "mom", "mum", "grandmother", "grandma", "sister", "daughter", "widow", "nun", "witch", "mermaid", "heiress", "waitress", "actress", "bride", "aunt", "niece", "wife", "girlfriend", "duchess", "empress", "fiancée"]},
    **{w: "m" for w in ["boy", "man", "gentleman", "king", "prince", "father", "dad", "grandfather", "grandpa", "brother", "son", "widower", "priest", "monk", "wizard", "fisherman", "cowboy", "groom", "uncle", "nephew", "husband", "boyfriend", "duke", "emperor", "butler", "fiancé", "widower"]},
    **{w: "*" for w in ["cat", "dog", "fox", "wolf", "bear", "owl", "crow", "raven", "mouse", "rabbit", "horse", "deer", "bird", "whale", "dolphin", "octopus", "turtle", "penguin", "dragon", "unicorn"]},
}

# -er/-or/-ist words that are not people (the suffix rule would say they are)
NOT_PERSON: frozenset[str] = frozenset(
    ["letter", "water", "river", "tower", "paper", "computer", "number", "summer", "winter", "silver", "corner", "chamber", "thunder", "danger", "border", "shelter", "power", "flower", "mirror", "weather", "monster", "feather", "ladder", "mother", "father", "brother", "sister", "daughter", "order", "dinner", "answer", "matter", "hammer", "anchor", "door", "floor", "color", "colour", "harbor", "harbour", "mirror", "error", "actor", "mayor", "doctor", "tractor", "motor", "elevator", "meteor", "radiator", "generator", "corridor", "behavior", "future", "murder", "sugar", "wonder", "silence", "shadow"]
) - {"mother", "father", "brother", "sister", "daughter", "actor", "mayor", "doctor", "monster"}

DETERMINERS: frozenset[str] = frozenset(
    ["a", "an", "the", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "some", "any", "every", "each", "this", "that", "these", "those", "my", "our", "your", "his", "her", "their", "its", "several", "many", "few", "no", "another"]
)
NUMBERS: dict[str, int] = {"two": 2, "three": 3, "four": 4, "five": 5, "both": 2, "twin": 2, "twins": 2}
PREPOSITIONS: frozenset[str] = frozenset(
    ["in", "on", "at", "of", "to", "from", "into", "onto", "inside", "outside", "under", "over", "above", "below", "beneath", "across", "through", "with", "without", "by", "for", "about", "after", "before", "during", "near", "beyond", "behind", "between", "among", "against", "along", "around", "toward", "towards", "upon", "within", "off", "past", "like", "until", "aboard"]
)
CONJUNCTIONS: frozenset[str] = frozenset(["and", "or", "but", "so", "yet", "while", "when", "where", "because", "although", "if", "as", "than"])
RELATIVES: frozenset[str] = frozenset(["who", "whom", "whose", "which", "that"])
PRONOUNS: frozenset[str] = frozenset(
    ["i", "me", "you", "he", "him", "she", "her", "it", "we", "us", "they", "them", "himself", "herself", "itself", "themselves", "someone", "something", "everyone", "everything", "nobody", "nothing"]
)

# base form -> past, for the verbs prompts use most; regular forms are derived
IRREGULAR_PAST: dict[str, str] = {
    "find": "found", "meet": "met", "fall": "fell", "get": "got", "go": "went", "see": "saw", "take": "took",
    "make": "made", "build": "built", "steal": "stole", "lose": "lost", "win": "won", "hide": "hid",
    "fight": "fought", "seek": "sought", "catch": "caught", "bring": "brought", "buy": "bought",
    "run": "ran", "sink": "sank", "set": "set", "break": "broke", "wake": "woke", "write": "wrote", "ride": "rode",
    "fly": "flew", "begin": "began", "come": "came", "become": "became", "hear": "heard", "keep": "kept",
    "leave": "left", "tell": "told", "think": "thought", "teach": "taught", "know": "knew", "hold": "held",
    "dig": "dug", "swim": "swam", "sell": "sold", "feel": "felt", "grow": "grew", "forget": "forgot",
    "inherit": "inherited", "is": "was", "has": "had", "drive": "drove", "give": "gave", "read": "read",
}
VERBS: frozenset[str] = frozenset(
    list(IRREGULAR_PAST)
    + ["discover", "uncover", "explore", "investigate", "hunt", "chase", "track", "follow", "search", "rescue", "save", "protect", "guard", "escape", "flee", "travel", "journey", "return", "learn", "try", "want", "need", "decide", "dream", "wish", "fall", "love", "befriend", "help", "adopt", "inherit", "receive", "open", "unlock", "solve", "stop", "face", "confront", "defeat", "battle", "challenge", "join", "lead", "plan", "plot", "try", "attempt", "wander", "drift", "crash", "land", "awaken", "wake", "must", "can", "will", "should", "could", "would", "may", "might", "is", "are", "was", "were", "has", "have", "had", "does", "do", "did", "becomes", "start", "starts", "stumble", "investigate", "deliver", "carry", "answer", "hear", "listen", "notice", "realize", "realise", "wander", "return", "refuse", "accept", "restore", "repair", "invent", "create", "paint", "sing", "dance", "cook", "bake", "design", "survive", "hunt", "attack", "haunt", "protect", "discover", "summon", "kidnap", "rob", "betray", "marry", "chase", "trap", "remember", "forget", "visit", "move", "sail", "climb", "cross", "enter", "leave", "pursue", "race", "compete", "struggle", "fight", "argue", "risk", "search", "seek", "spend", "lose", "keep", "bring", "send", "turn", "get", "set", "head", "embark", "pass", "grow", "wash", "drift", "collide", "swap", "switch", "shrink", "awake", "arrive", "discover",
       # ways of getting about ("a girl and her dog skate across the lake"): unknown, the parser read the
       # verb as part of the noun phrase and lost the companion
       "walk", "skate", "ski", "hike", "stroll", "trek", "paddle", "sled", "venture", "roam", "hurry", "rush",
       "sneak", "wade", "glide", "crawl", "tiptoe", "march", "jog",
       # "a father and his daughter drive across the desert" lost the daughter the same way
       "share", "fix", "play", "look", "wait", "work"]
)


def third_person(base: str) -> str:
    if base in ("must", "can", "will", "should", "could", "would", "may", "might"):
        return base
    if base.endswith(("s", "sh", "ch", "x", "z", "o")):
        return base + "es"
    if base.endswith("y") and len(base) > 2 and base[-2] not in "aeiou":
        return base[:-1] + "ies"
    return base + "s"


def verb_forms(base: str) -> set[str]:
    """base, 3rd person, past and -ing forms of a verb."""
    third = third_person(base)
    if base.endswith("e"):
        past, ing = base + "d", base[:-1] + "ing"
    elif base.endswith("y") and len(base) > 2 and base[-2] not in "aeiou":
        past, ing = base[:-1] + "ied", base + "ing"
    else:
        past, ing = base + "ed", base + "ing"
    return {base, third, IRREGULAR_PAST.get(base, past), ing}


VERB_FORMS: dict[str, str] = {form: base for base in VERBS for form in verb_forms(base)}
VERB_FORMS.update({"is": "is", "are": "is", "was": "is", "were": "is", "has": "has", "have": "has", "had": "has"})

# LLM words for our enum values (repair maps near misses through these first)
SETTING_SYNONYMS: dict[str, str] = {
    **PLACE_SETTING,
    "street": "night_street", "night street": "night_street", "nightstreet": "night_street",
    "indoors": "interior", "indoor": "interior", "inside": "interior", "room": "interior",
    "outer space": "space", "spacestation": "space", "space station": "space", "sky": "mountains",
    "ocean floor": "underwater", "under water": "underwater", "sea floor": "underwater",
    "town": "village", "rural": "field", "plains": "field", "woodland": "forest", "urban": "city",
}
MOOD_SYNONYMS: dict[str, str] = {
    "scary": "eerie", "creepy": "eerie", "spooky": "eerie", "haunting": "eerie", "uncanny": "eerie",
    "horror": "eerie", "fear": "eerie", "frightening": "eerie", "suspense": "tense", "suspenseful": "tense",
    "anxious": "tense", "urgent": "tense", "action": "epic", "thrilling": "tense", "exciting": "epic",
    "happy": "joyful", "cheerful": "joyful", "upbeat": "joyful", "fun": "playful", "funny": "playful",
    "comic": "playful", "whimsical": "playful", "quirky": "playful", "lighthearted": "playful",
    "melancholy": "sad", "melancholic": "sad", "somber": "sad", "sombre": "sad", "tragic": "sad",
    "grief": "sad", "wistful": "sad", "bittersweet": "sad", "ominous": "dark", "menacing": "dark",
    "gloomy": "dark", "grim": "dark", "brooding": "dark", "noir": "dark", "mystery": "mysterious",
    "enigmatic": "mysterious", "curious": "mysterious", "peaceful": "calm", "serene": "calm",
    "quiet": "calm", "tranquil": "calm", "gentle": "calm", "love": "romantic", "tender": "romantic",
    "warm": "romantic", "intimate": "romantic", "heroic": "epic", "grand": "epic", "majestic": "epic",
    "dramatic": "epic", "intense": "tense", "victorious": "triumphant", "victory": "triumphant",
    "uplifting": "hopeful", "optimistic": "hopeful", "inspiring": "hopeful", "hope": "hopeful",
    "neutral": "calm", "reflective": "calm", "nostalgic": "sad", "adventurous": "epic",
}
GENRE_SYNONYMS: dict[str, str] = {
    "scifi": "sci-fi", "sci fi": "sci-fi", "science fiction": "sci-fi", "sf": "sci-fi", "space opera": "sci-fi",
    "film noir": "noir", "neo-noir": "noir", "crime": "noir", "detective": "noir", "mystery": "noir",
    "thriller": "noir", "fairy tale": "fantasy", "fairytale": "fantasy", "myth": "fantasy",
    "scary": "horror", "ghost story": "horror", "gothic": "horror", "humor": "comedy", "humour": "comedy",
    "funny": "comedy", "rom-com": "romance", "romcom": "romance", "love story": "romance", "love": "romance",
    "action": "adventure", "quest": "adventure", "western": "adventure", "family": "drama",
    "melodrama": "drama", "tragedy": "drama", "coming of age": "drama",
}
TIME_SYNONYMS: dict[str, str] = {
    "morning": "day", "early morning": "dawn", "sunrise": "dawn", "daybreak": "dawn", "first light": "dawn",
    "noon": "day", "midday": "day", "afternoon": "day", "daytime": "day", "daylight": "day",
    "evening": "dusk", "sunset": "dusk", "twilight": "dusk", "golden hour": "dusk", "nightfall": "dusk",
    "midnight": "night", "late night": "night", "nighttime": "night", "night time": "night",
}
WEATHER_SYNONYMS: dict[str, str] = {
    "sunny": "clear", "sun": "clear", "fine": "clear", "calm": "clear", "none": "clear", "n/a": "clear",
    "overcast": "cloudy", "grey": "cloudy", "gray": "cloudy", "clouds": "cloudy", "rainy": "rain",
    "drizzle": "rain", "showers": "rain", "downpour": "rain", "raining": "rain", "mist": "fog",
    "misty": "fog", "foggy": "fog", "haze": "fog", "hazy": "fog", "thunderstorm": "storm", "stormy": "storm",
    "thunder": "storm", "lightning": "storm", "hurricane": "storm", "gale": "storm", "windy": "wind",
    "breezy": "wind", "blustery": "wind", "snowy": "snow", "snowing": "snow", "blizzard": "snow",
    "sleet": "snow", "frost": "snow",
}
SHOT_SYNONYMS: dict[str, str] = {
    "close-up": "close", "closeup": "close", "close up": "close", "extreme close-up": "close", "cu": "close",
    "medium shot": "medium", "mid": "medium", "mid shot": "medium", "two shot": "medium", "ms": "medium",
    "long": "wide", "long shot": "wide", "establishing": "wide", "establishing shot": "wide",
    "extreme wide": "wide", "full shot": "wide", "ws": "wide", "wide shot": "wide",
    "birds eye": "aerial", "bird's eye": "aerial", "birds-eye": "aerial", "drone": "aerial",
    "overhead": "aerial", "top down": "aerial", "over the shoulder": "over_the_shoulder",
    "over-the-shoulder": "over_the_shoulder", "ots": "over_the_shoulder",
}
