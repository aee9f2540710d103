"""The dramatic arc: which beat each scene plays, for any number of scenes.

Setup, the inciting incident, rising conflict (with a midpoint turn), a crisis,
the climax (a showdown leading into it when there is room), and the
resolution. Short films fold beats together: one scene plays setup, incident
and ending at once. The planner and the LLM prompts share this, so an LLM
writing scenes 9-16 of 24 is told where in the arc those scenes fall.
"""

from __future__ import annotations

BEATS = ("setup", "inciting", "rising", "midpoint", "crisis", "showdown", "climax", "resolution")

_SHORT: dict[int, list[list[str]]] = {
    1: [["inciting", "resolution"]],
    2: [["setup", "inciting"], ["climax", "resolution"]],
    3: [["setup", "inciting"], ["climax"], ["resolution"]],
    4: [["setup"], ["inciting"], ["climax"], ["resolution"]],
    5: [["setup"], ["inciting"], ["rising"], ["climax"], ["resolution"]],
    6: [["setup"], ["inciting"], ["rising"], ["crisis"], ["climax"], ["resolution"]],
}

DESCRIBE = {
    "setup": "setup: the everyday world, the protagonist and the place",
    "inciting": "inciting incident: the event of the prompt that starts the story",
    "rising": "rising conflict: complications, clues, allies and obstacles",
    "midpoint": "midpoint: a turn that changes what the protagonist thinks is going on",
    "crisis": "crisis: the lowest point, all seems lost",
    "showdown": "approach to the climax: the protagonist commits and goes to face it",
    "climax": "climax: the decisive confrontation",
    "resolution": "resolution: the aftermath and the new normal",
}

# music intensity by beat (rising climbs between its two values)
_INTENSITY = {"setup": 0.25, "inciting": 0.45, "midpoint": 0.7, "crisis": 0.4, "showdown": 0.8, "climax": 0.95,
              "resolution": 0.3}


def beats(n: int) -> list[list[str]]:
    """The beats of each of n scenes (n >= 1)."""
    if n in _SHORT:
        return [list(b) for b in _SHORT[n]]
    setup = max(1, round(n * 0.08))
    crisis = max(1, round(n * 0.06))
    showdown = max(0, round(n * 0.05))
    climax = max(1, round(n * 0.06))
    resolution = max(1, round(n * 0.06))
    rising = n - setup - 1 - 1 - crisis - showdown - climax - resolution  # minus inciting and midpoint
    first = rising // 2
    plan = (["setup"] * setup + ["inciting"] + ["rising"] * first + ["midpoint"] + ["rising"] * (rising - first)
            + ["crisis"] * crisis + ["showdown"] * showdown + ["climax"] * climax + ["resolution"] * resolution)
    return [[b] for b in plan]


def intensity(scene_beats: list[str], position: float) -> float:
    """0..1: the music follows the arc. position is the scene's place in the film (0..1)."""
    main = scene_beats[-1] if scene_beats[-1] in ("climax", "resolution") else scene_beats[0]
    if main == "rising":
        return round(0.45 + 0.3 * position, 2)
    return _INTENSITY[main]


def describe(n: int, start: int, count: int) -> list[str]:
    """'scene 9: rising conflict ...' for scenes start..start+count-1 of an n-scene film."""
    plan = beats(n)
    return [f"scene {i + 1}: " + " + ".join(DESCRIBE[b] for b in plan[i]) for i in range(start, min(n, start + count))]
