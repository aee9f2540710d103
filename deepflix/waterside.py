"""Which water a shore place is on (the sea, a lake or river, or ice), and what
weather can be seen there.

The story model has one ``coast`` setting for every shore. The planner writes a
lake's shore without tides and gulls, and a frozen one with ice and snow; the
illustrator draws calm water with a far shore, or ice. Both read the place's
name with this, and both ask ``shown_weather`` what falls there, so the words
and the picture agree.
"""

from __future__ import annotations

import re
from typing import Literal

Water = Literal["sea", "lake", "ice"]

LAKE_WORDS = frozenset(["lake", "lakes", "pond", "ponds", "river", "rivers", "loch", "lagoon", "reservoir", "mere",
                        "canal", "stream", "creek", "riverbank", "lakeside", "lakeshore", "tarn", "fjord"])
ICE_WORDS = frozenset(["frozen", "ice", "icy", "iced", "icebound", "ice-bound", "glacial", "frost-bound"])


def water_of(place: str) -> Water:
    """'the frozen lake' -> ice; 'the old river' -> lake; 'the harbour' -> sea."""
    words = set(re.findall(r"[a-z][a-z-]*", place.lower()))
    if words & ICE_WORDS:
        return "ice"
    return "lake" if words & LAKE_WORDS else "sea"


def shown_weather(setting: str, weather: str, water: str = "") -> str:
    """The weather a scene shows: none in space (no sky), under water only murk (fog),
    over ice snow where it would rain."""
    if setting == "space" or (setting == "underwater" and weather != "fog"):
        return "clear"
    if water == "ice" and weather in ("rain", "storm"):
        return "snow"
    return weather
