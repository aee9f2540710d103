"""Checks on each scene's words against its structured fields: the time of day, the
weather, the setting (what the illustrator draws) and indoors against outdoors.

Markers are literal phrases; a marker after a negation ("not a cloud") or in a simile
("news arrives like a storm") says nothing about the sky and is skipped."""

from __future__ import annotations

import re

from ..models import Scene, Story
from .findings import Finding

_NO_SKY = ("space", "underwater")
_OVERCAST = {"cloudy", "rain", "fog", "snow", "storm"}
# (pattern, the times of day it allows)
TIME_MARKERS: tuple[tuple[str, set[str]], ...] = (
    (r"\bfirst stars?\b", {"dusk", "night"}),
    (r"\blast stars?\b", {"dawn", "night"}),
    ((r"\b(stars|starlight|starry|starlit|moonlight|moonlit|the moon|midnight|long after dark|small hours|"
      r"night has fallen|deep in the night)\b"), {"night"}),
    (r"\b(midday|noon|midmorning|afternoon|full light of day|broad daylight)\b", {"day"}),
    (r"\b(first light|before dawn|sunrise|daybreak|early morning|at dawn)\b", {"dawn"}),
    (r"\b(dusk|sunset|nightfall|evening comes|last of the daylight|sun slides down)\b", {"dusk"}),
    (r"\b(sunlight|sunshine|sunlit|the sun is high|sunbaked)\b", {"dawn", "day", "dusk"}),
    (r"(?<!every )(?<!each )(?<!last )(?<!next )\bmorning\b", {"dawn", "day"}),
    (r"(?<!every )(?<!each )(?<!last )(?<!next )\bevening\b", {"dusk", "night"}),
)
# (pattern, the weathers it allows)
WEATHER_MARKERS: tuple[tuple[str, set[str]], ...] = (
    (r"\b(rain|rains|raining|rainfall|raindrops|drizzle|downpour)\b(?!-slick|-wet)", {"rain", "storm"}),
    # lying snow ("snow lies in long drifts") falls in no particular weather
    (r"\b(snow|snows|snowing|snowfall|snowflakes|sleet|blizzard)\b(?! ?bank| lies| lay| drifts| covers| crust)",
     {"snow"}),
    (r"\b(fog|foggy|mist|misty)\b", {"fog"}),
    (r"\b(storm|storms|stormy|thunder|lightning|gale)\b(?! of)", {"storm"}),
    (r"\b(gusts?|hard wind|the wind (?:is blowing|worries|howls|tears|whips))\b", {"wind", "storm", "snow"}),
    (r"\b(clear sky|still and clear|clean and wide|cloudless|not a cloud|blue sky|not a breath of wind)\b",
     {"clear"}),
    (r"\b(low cloud|heavy clouds|overcast|colour of old pewter|grey sky)\b", _OVERCAST),
    (r"\b(stars|starlight|starry|starlit|moonlight|moonlit|sunshine|sunlit)\b", {"clear", "wind"}),
)
# words that put a scene indoors, and words that put it under the sky
INDOOR_SPOT = re.compile(r"\b(room|rooms|stair|stairs|stairwell|staircase|kitchen|cellar|attic|parlour|study|"
                         r"hallway|corridor|inside|indoors|bedroom|basement|office)\b")
INDOOR_TEXT = re.compile(r"\b((?:bottom|top) stair|(?:up|down) in the [\w ]*?room|inside the [\w ]+|stair of|stair rings|"
                         r"stairs? creaks?|in the (?:lamp room|kitchen|cellar|attic|parlour|stairwell))\b")
OUTDOOR_TEXT = re.compile(r"\b(under the open sky|on the (?:beach|shore|sand|dunes|cliff path)|"
                          r"(?:rain|snow) (?:on|in) (?:her|his|their) (?:face|hair)|the wind (?:tugs|pulls) at)\b")
# locative phrases that name a kind of place, and the settings where it can be
PLACE_WORDS: tuple[tuple[str, set[str]], ...] = (
    (r"\b(?:on|along|across) the (?:beach|shore|shingle|tide pools?)\b", {"coast", "lighthouse"}),
    (r"\b(?:across|over) the dunes\b", {"desert", "coast"}),
    (r"\b(?:among|through|between) the trees\b", {"forest", "field", "village", "mountains"}),
    (r"\b(?:aboard|on the deck of) the (?:ship|station)\b", {"space", "coast", "underwater"}),
    (r"\b(?:down|along|across) the (?:street|alley)\b", {"city", "night_street", "village"}),
)
# before a marker: a negation, a simile, a thing made of it ("a map drawn in starlight"), or a time
# still to come ("by morning it is on every front page")
_NEGATION = re.compile(r"\b(not|no|never|without|nor|like|as if|as though|hardly|the way)\b[\w ,'-]{0,24}$|"
                       r"\b(drawn|written|woven|made|spun) (in|of|from) $|\b(by|until|till|before|since) (the )?$|"
                       r"\b(blown|drifted|drifting|lying|packed) $")


def _markers(text: str, table: tuple[tuple[str, set[str]], ...]) -> list[tuple[str, set[str]]]:
    low = text.lower()
    found = []
    for pattern, allowed in table:
        for m in re.finditer(pattern, low):
            lead = low[max(0, m.start() - 30):m.start()]
            lead = re.split(r"[.;!?]", lead)[-1]
            if not (m.group(0).startswith("not ") or not _NEGATION.search(lead)):
                continue
            found.append((m.group(0), allowed))
    return found


def _clauses(text: str) -> list[str]:
    return re.split(r"(?<=[.!?;])\s+", text)


def allowed(text: str, table: tuple[tuple[str, set[str]], ...]) -> tuple[set[str] | None, list[str]]:
    """The times (or weathers) every marker in the text allows, and the markers; None: no marker."""
    found = _markers(text, table)
    if not found:
        return None, []
    return set.intersection(*(a for _, a in found)), [w for w, _ in found]


def place_findings(text: str, setting: str, spot: str = "") -> list[str]:
    """Why the words cannot be in this setting: indoors drawn outdoors, or a place of another kind."""
    out = []
    low = text.lower()
    if setting not in ("interior", *_NO_SKY):
        m = INDOOR_SPOT.search(spot.lower()) or INDOOR_TEXT.search(low)
        if m:
            out.append(f"'{m.group(0)}' is indoors, but the setting '{setting}' is drawn outdoors")
    if setting == "interior":
        m = OUTDOOR_TEXT.search(low)
        if m:
            out.append(f"'{m.group(0)}' is outdoors, but the scene is drawn indoors")
    for pattern, settings in PLACE_WORDS:
        m = re.search(pattern, low)
        if m and setting not in settings:
            out.append(f"'{m.group(0)}' in the narration, but the setting is {setting}")
    return out


def check_scene(i: int, sc: Scene) -> list[Finding]:
    out: list[Finding] = []
    text = sc.narration
    if sc.setting != "space":
        for word, ok in _markers(text, TIME_MARKERS):
            if sc.time_of_day not in ok:
                out.append(Finding("time", f"'{word}' in the narration, but the scene is at {sc.time_of_day}",
                                   scene=i))
    for word, ok in _markers(text, WEATHER_MARKERS):
        if sc.setting == "space" and word in ("stars", "starlight", "starry", "starlit"):
            continue  # space always has stars
        if sc.weather not in ok:
            out.append(Finding("weather", f"'{word}' in the narration, but the weather is {sc.weather}"
                                          + (" (there is no sky here)" if sc.setting in _NO_SKY else ""), scene=i))
    for message in place_findings(text, sc.setting, sc.location.split(",")[0]):
        out.append(Finding("indoor" if "indoors" in message or "outdoors" in message else "place", message, scene=i))
    return out


def check_scenes(story: Story) -> list[Finding]:
    return [f for i, sc in enumerate(story.scenes, 1) for f in check_scene(i, sc)]
