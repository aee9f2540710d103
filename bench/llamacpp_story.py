"""How fast llamacpp/local writes a story on this CPU, and whether it validates.

    python bench/llamacpp_story.py MODEL.gguf [--scenes 2] [--threads 1] [--max-text 420] [--characters 4]

Prints, per model call (the first reply, then the checker's repair round when it finds
something): the prompt's tokens, the reply's tokens, seconds and tokens per second; then the
whole story's seconds and the checker's findings. Grammar-constrained, as the provider runs."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from deepflix.models import StoryRequest
from deepflix.provider import StageContext
from deepflix.quality.consistency import story_warnings
from deepflix.story.llamacpp import LlamaCppStoryProvider


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--scenes", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-text", type=int, default=420)
    ap.add_argument("--characters", type=int, default=4)
    ap.add_argument("--prompt", default="A lighthouse keeper finds a message in a bottle")
    a = ap.parse_args()
    p = LlamaCppStoryProvider({"model": a.model, "threads": a.threads, "max_text": a.max_text,
                               "max_characters": a.characters})
    generate = p._generate

    def timed(model: Any, messages: Any, grammar: str, seed: int, opts: Any) -> tuple[str, bool]:
        t = time.perf_counter()
        text, cut = generate(model, messages, grammar, seed, opts)
        secs = time.perf_counter() - t
        vocab = model.get_vocab()
        n_in = len(vocab.tokenize("".join(c for _, c in messages), add_special=False, parse_special=False))
        n_out = len(vocab.tokenize(text, add_special=False, parse_special=False))
        print(f"call: ~{n_in} prompt tokens, {n_out} reply tokens, {secs:.1f} s, {n_out / secs:.1f} tok/s"
              + (" (cut at max_tokens)" if cut else ""), flush=True)
        return text, cut

    p._generate = timed  # type: ignore[method-assign]
    t0 = time.perf_counter()
    story = p.generate(StoryRequest(prompt=a.prompt, num_scenes=a.scenes, seed=1), StageContext(out_dir=Path(".")))
    found = story_warnings(story)
    print(f"story: {len(story.scenes)} scenes, {len(story.characters)} characters, "
          f"{time.perf_counter() - t0:.1f} s, {len(found)} findings left")
    print(f"  {story.title!r}: {story.scenes[0].narration[:160]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
