"""The checker's findings as an LLM repair round: what is wrong with the scenes just
written, in words a model can act on (story/llm.py sends it back once)."""

from __future__ import annotations

from ..models import Scene, Story
from .consistency import check_story
from .findings import Finding


def findings_for(part: Story, previous: list[Scene], cast_fixed: bool = False) -> list[Finding]:
    """The findings in ``part``'s own scenes, read after the scenes already written (a later chunk);
    with ``cast_fixed`` (a cast earlier chunks made) none about the cast, which the model cannot change."""
    whole = part.model_copy(update={"scenes": [*previous, *part.scenes]}) if previous else part
    return [f for f in check_story(whole)
            if (f.scene is None and not cast_fixed) or (f.scene is not None and f.scene > len(previous))]


def feedback(found: list[Finding]) -> str:
    lines = "\n".join(f"- {f}" for f in found[:20])
    return ("That story contradicts itself in ways a viewer would notice:\n" + lines +
            "\nSend the complete story again with these fixed (change the words or the scene's fields), "
            "and keep everything else.")
