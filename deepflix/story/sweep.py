"""Many planner stories at once, checked: the evidence that the offline planner writes
consistent stories (bench/story_consistency.py and tests/quality)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from ..models import GENRES, Story, StoryRequest
from ..quality.consistency import check_story
from ..quality.findings import Finding

PROMPTS = (
    "A lighthouse keeper finds a message in a bottle",
    "A girl and her dog skate across the frozen lake",
    "Two sisters inherit a haunted bookshop",
    "A detective hunts a jewel thief through Paris",
    "An astronaut wakes alone on a drifting station",
    "A baker enters the village bake-off against her rival",
    "A young wizard loses his spellbook in the forest",
    "An old fisherman and his grandson chase a giant fish",
    "A robot learns to paint in an abandoned city",
    "A knight must cross the mountains before winter",
    "Two strangers meet on a night train to Vienna",
    "A father and his daughter drive across the desert",
    "A nurse hears voices in the empty hospital at night",
    "A journalist uncovers a secret at the harbour",
    "A boy finds a dragon egg in his grandmother's barn",
    "A retired magician plans one last show",
    "A pilot crash-lands on an alien planet",
    "A diver explores a sunken ship on the reef",
    "A mother searches for her missing son in the city",
    "A farmer's scarecrow comes to life",
    "The new teacher at the village school has a secret",
    "A thief steals a map to a lost temple",
    "A cat and a fox become unlikely friends",
    "Maya returns to the mountain hut where her brother vanished",
    "A chef opens a restaurant in Tokyo",
)


def stories(prompts: Iterable[str] = PROMPTS, genres: Iterable[str] = GENRES, seeds: Iterable[int] = (0,),
            scenes: int = 6) -> Iterator[Story]:
    from .planner import plan_story

    for prompt in prompts:
        for genre in genres:
            for seed in seeds:
                yield plan_story(StoryRequest(prompt=prompt, genre=genre, seed=seed, num_scenes=scenes))


def sweep(items: Iterable[Story]) -> tuple[int, list[tuple[Story, Finding]]]:
    """(stories checked, every finding with its story)."""
    n, found = 0, []
    for story in items:
        n += 1
        found += [(story, f) for f in check_story(story)]
    return n, found


def summary(found: list[tuple[Story, Finding]]) -> Counter[str]:
    return Counter(f.kind for _, f in found)
