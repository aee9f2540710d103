"""`deepflix make --from-text FILE`: a prose chapter or short story, told by the
story provider in chunks. The text is cut at paragraph (then sentence) bounds
into at most 20 passages that fit a prompt; each passage is one call of the
seed's chunked story API (total_chunks, previous_character, previous_sequence),
so every chunk continues the cast and the scenes before it."""

from __future__ import annotations

import math
import re
from pathlib import Path

from ..errors import InvalidInput
from ..models import MAX_SCENES, Scene, Story, StoryRequest
from ..runner import run_stage
from ..storage import ArtifactStore

MAX_PROMPT = 1900  # StoryRequest.prompt takes 2000 characters; a margin for joins
MAX_CHUNKS = 20  # StoryRequest.total_chunks' bound


def read_text(path: Path) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidInput(f"text file not found: {path}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"text file {path} is not UTF-8 text") from exc
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text).strip()
    if not text:
        raise InvalidInput(f"text file {path} is empty: give it a chapter or a short story")
    return text


def passages(text: str, at_most: int) -> list[str]:
    """Paragraph-bounded passages of at most MAX_PROMPT characters, no more than
    ``at_most`` of them (short paragraphs are joined to fill each one evenly)."""
    units: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        while len(para) > MAX_PROMPT:  # one long paragraph: cut at the last sentence end that fits
            cut = max(para.rfind(". ", 0, MAX_PROMPT), para.rfind("? ", 0, MAX_PROMPT), para.rfind("! ", 0, MAX_PROMPT))
            cut = cut + 1 if cut > 0 else para.rfind(" ", 0, MAX_PROMPT)
            if cut <= 0:
                cut = MAX_PROMPT
            units.append(para[:cut].strip())
            para = para[cut:].strip()
        if para:
            units.append(para)
    if len(units) <= at_most:  # a passage a paragraph, when there are chunks enough
        return units
    total = sum(len(u) + 1 for u in units)
    target = min(MAX_PROMPT, max(total / at_most, 1))
    out: list[str] = []
    for u in units:
        if out and len(out[-1]) + 1 + len(u) <= MAX_PROMPT and (len(out[-1]) < target or len(out) >= at_most):
            out[-1] = f"{out[-1]}\n\n{u}"
        else:
            out.append(u)
    if len(out) > at_most:
        raise InvalidInput(f"the text is {len(text)} characters: too long for {at_most} chunks of "
                           f"{MAX_PROMPT}; shorten it or ask for more scenes (--scenes)")
    return out


def story_from_text(path: Path, *, genre: str, scenes: int, seed: int, store: ArtifactStore,
                    provider: str | None = None) -> Story:
    text = read_text(path)
    if not 1 <= scenes <= MAX_SCENES:
        raise InvalidInput(f"--scenes must be between 1 and {MAX_SCENES}; got {scenes}")
    chunks = passages(text, min(MAX_CHUNKS, scenes))
    k = len(chunks)
    per = math.ceil(scenes / k)
    n = min(scenes, per * k)  # every chunk writes ceil(n / k) scenes; the last may write fewer
    cast = None
    written: list[Scene] = []
    first: Story | None = None
    for chunk in chunks:
        if len(written) >= n:
            break
        req = StoryRequest(prompt=chunk, genre=genre, num_scenes=n, seed=seed, total_chunks=k,
                           previous_character=cast, previous_sequence=list(written))  # [] too: only chunk 1
        part: Story = run_stage("story", req, store=store, provider=provider).result
        first = first or part
        cast = part.characters
        written += part.scenes
    assert first is not None
    return Story.model_validate({**first.model_dump(), "prompt": chunks[0][:2000],
                                 "characters": [c.model_dump() for c in cast or []],
                                 "scenes": [s.model_dump() for s in written[:n]]})
