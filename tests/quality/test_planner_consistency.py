"""Planner stories are consistent by the checker: 200 here (25 prompts x 8 genres, 6 scenes,
plus 10-scene casts of four); bench/story_consistency.py sweeps 1,000."""

from __future__ import annotations

from deepflix.story.sweep import PROMPTS, stories, sweep


def test_planner_stories_have_no_contradictions() -> None:
    n, found = sweep(stories(seeds=(0,), scenes=6))
    n2, found2 = sweep(stories(prompts=PROMPTS[::5], seeds=(3,), scenes=10))
    assert n + n2 == 200 + 40
    problems = [f"{s.prompt} / {s.genre} / {s.seed}: {f}" for s, f in found + found2]
    assert not problems, "\n".join(problems[:20])
