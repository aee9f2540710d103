"""A short story of four scenes for the clip films: two calm, two full of action."""

from __future__ import annotations

from typing import Any

from deepflix.models import Story


def four_scenes() -> Story:
    hero = {"id": "mara", "name": "Mara", "role": "lead", "base_traits": "a tall woman of thirty",
            "facial_features": "sharp eyes", "clothing": "a yellow raincoat", "distinctive_features": "a red scarf"}

    def scene(desc: str, narration: str, **kw: Any) -> dict[str, Any]:
        return {"scene_description": desc, "atmosphere": kw.pop("atmosphere", "quiet"), "setting": kw.pop("setting", "coast"),
                "narration": narration, "characters": ["mara"], **kw}

    return Story.model_validate({
        "title": "The Storm Road", "genre": "adventure", "seed": 11, "characters": [hero],
        "scenes": [
            scene("Mara stands by the lighthouse at dawn", "Mara waits.", time_of_day="dawn", transition="crossfade",
                  camera_move="push_in"),
            scene("Mara runs along the cliff and jumps the gap as waves crash", "She runs and jumps.",
                  weather="storm", transition="crossfade", music={"mood": "tense", "intensity": 0.9}),
            scene("Mara races the storm down the road, wind and rain rushing past", "She races home.",
                  weather="rain", setting="field", transition="crossfade", music={"mood": "epic", "intensity": 0.8}),
            scene("Mara sits by the fire", "She rests.", setting="interior", time_of_day="night"),
        ],
    })
