"""Issue 22: `deepflix make --from-text`: prose goes through the story provider in
chunks (the seed's total_chunks / previous_character / previous_sequence), each
chunk continuing the cast and scenes before it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deepflix.errors import InvalidInput
from deepflix.handoff.prose import MAX_PROMPT, passages, story_from_text
from deepflix.models import StoryRequest
from deepflix.runner import run_stage
from deepflix.storage import open_store

CHAPTER = """The keeper of the lighthouse was a woman named Maren. Every night she climbed the stairs and lit the lamp.

One autumn a storm came in from the west. The lamp failed, and a fishing boat was lost in the dark.

In the morning Maren walked the beach and found a bottle with a letter inside, from her brother.

She read it on the rocks while the gulls cried. He was coming home on the first ship of spring.
"""


def test_passages_keep_paragraphs_and_fit_a_prompt() -> None:
    assert passages(CHAPTER, 4) == [" ".join(p.split()) for p in CHAPTER.strip().split("\n\n")]
    assert len(passages(CHAPTER, 2)) == 2  # short paragraphs are joined to fill the chunks
    long = " ".join(f"Sentence number {i} goes on a while." for i in range(400))
    parts = passages(long, 20)
    assert all(len(p) <= MAX_PROMPT for p in parts) and all(p.endswith(".") for p in parts)
    assert " ".join(parts) == long
    with pytest.raises(InvalidInput, match="too long"):
        passages(long, 2)


def test_a_chapter_is_told_chunk_by_chunk(tmp_path: Path) -> None:
    (tmp_path / "chapter.txt").write_text(CHAPTER)
    store = open_store()
    story = story_from_text(tmp_path / "chapter.txt", genre="drama", scenes=4, seed=5, store=store)
    assert len(story.scenes) == 4
    cast = {c.id for c in story.characters}
    assert cast and all(set(s.characters) <= cast for s in story.scenes)
    # the chunks are the provider's own chunked calls: chunk 2 is what the provider writes given chunk 1
    chunks = passages(CHAPTER, 4)
    one = run_stage("story", StoryRequest(prompt=chunks[0], genre="drama", num_scenes=4, seed=5, total_chunks=4,
                                          previous_sequence=[]), store=store).result
    two = run_stage("story", StoryRequest(prompt=chunks[1], genre="drama", num_scenes=4, seed=5, total_chunks=4,
                                          previous_character=one.characters, previous_sequence=one.scenes),
                    store=store)
    assert two.cached  # made by story_from_text with exactly this request
    assert story.scenes[:2] == one.scenes + two.result.scenes
    assert story.title == one.title and story.prompt == chunks[0]


def test_empty_text_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("  \n\n")
    proc = subprocess.run([sys.executable, "-m", "deepflix", "make", "--from-text", str(tmp_path / "empty.txt"),
                           "--out", str(tmp_path / "film")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "is empty" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "film").exists()
