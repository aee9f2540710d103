"""Sweep the offline planner with the story consistency checker and print the numbers.

    python bench/story_consistency.py            # 1,000 stories: 25 prompts x 8 genres x seeds 0-2 at
                                                 # 6 scenes, and seed 7 at 3 and 10 scenes
Prints stories checked, contradictions by kind and seconds; exits 1 if any were found."""

from __future__ import annotations

import sys
import time

from deepflix.story.sweep import stories, summary, sweep


def main() -> int:
    total, found_all = 0, []
    t0 = time.perf_counter()
    for scenes, seeds in ((6, range(3)), (3, (7,)), (10, (7,))):
        t = time.perf_counter()
        n, found = sweep(stories(seeds=seeds, scenes=scenes))
        total += n
        found_all += found
        print(f"{scenes:>2} scenes: {n} stories, {len(found)} contradictions, {time.perf_counter() - t:.1f} s")
    print(f"total: {total} stories, {len(found_all)} contradictions {dict(summary(found_all))}, "
          f"{time.perf_counter() - t0:.1f} s")
    for story, f in found_all[:20]:
        print(f"  {story.prompt} / {story.genre} / seed {story.seed}: {f}")
    return 1 if found_all else 0


if __name__ == "__main__":
    sys.exit(main())
