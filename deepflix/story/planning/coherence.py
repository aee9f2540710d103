"""Keep a planned scene's words and its fields in agreement, with the checker's own
vocabulary (``quality.scenes``): a candidate narration whose words no time, weather or
setting could fit is marked down, and a chosen one that speaks of stars or an
afternoon moves the scene to the night or the day, so the picture shows what is said."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from ...quality.scenes import TIME_MARKERS, WEATHER_MARKERS, allowed, place_findings
from ...waterside import shown_weather

_TIMES = ("dawn", "day", "dusk", "night")
_NO_SKY = ("space", "underwater")


def penalty(text: str, body: str, setting: str, spot: str, water: str) -> float:
    """How badly a candidate contradicts itself or the place: 0 when it can be made to fit."""
    bad = len(place_findings(text, setting, spot))
    times, _ = allowed(body, TIME_MARKERS)
    weathers, _ = allowed(body, WEATHER_MARKERS)
    if setting == "space":
        times = None  # no time of day to disagree with
        if weathers is not None:
            weathers = weathers | {"clear"} if not weathers - {"clear", "wind"} else weathers
    bad += times == set()
    if weathers is not None:
        showable = {w for w in weathers if shown_weather(setting, w, water) == w}
        bad += not showable
    return 20.0 * bad


def settle(slots: dict[str, Any], body: str, setting: str, water: str, time: str, weather: str,
           common: dict[str, Any], rng: random.Random, fresh: Callable[[list[str]], str]) -> None:
    """Move the scene's time or weather to what the words say (``forced_time``, ``forced_weather``),
    and rewrite the time and weather slots so the opener agrees."""
    times, _ = allowed(body, TIME_MARKERS)
    if setting != "space" and times and time not in times:
        # the nearest time the words allow, going forward (a story's day moves on)
        new = min(times, key=lambda t: (_TIMES.index(t) - _TIMES.index(time)) % 4)
        daypart = common["daypart"][new]
        slots.update(forced_time=new, daypart=daypart, time=[fresh(common["time"][new]), f"that same {daypart}"])
    weathers, _ = allowed(body, WEATHER_MARKERS)
    current = slots.get("forced_weather", weather)
    if weathers and current not in weathers and setting not in _NO_SKY:
        options = sorted(w for w in weathers if shown_weather(setting, w, water) == w)
        if options:
            new_w = "clear" if "clear" in options else rng.choice(options)
            kind = "indoor" if setting == "interior" else "outdoor"
            slots.update(forced_weather=new_w, weather=fresh(common["weather"][kind][new_w]))
