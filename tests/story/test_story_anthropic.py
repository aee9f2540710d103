"""anthropic/claude through the real `anthropic` SDK against a local Messages API server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from story_fakes import Canned, anthropic_error, anthropic_message, llm_story

from deepflix.errors import (
    NeedsKeyError,
    ProviderBadOutput,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
)
from deepflix.models import Story, StoryRequest
from deepflix.provider import StageContext
from deepflix.runner import run_stage
from deepflix.storage import LocalStore
from deepflix.story.anthropic import AnthropicStoryProvider

REQ = StoryRequest(prompt="A lighthouse keeper finds a message in a bottle", genre="noir", num_scenes=6, seed=3)


@pytest.fixture
def claude(fake_server: Any, settings_env: Any) -> AnthropicStoryProvider:
    settings_env(ANTHROPIC_API_KEY="sk-ant-test", ANTHROPIC_BASE_URL=fake_server.url, ANTHROPIC_MODEL="claude-test-1")
    return AnthropicStoryProvider({"timeout": 5})


def ctx(tmp_path: Path) -> StageContext:
    return StageContext(out_dir=tmp_path)


def test_tool_use_reply_becomes_a_story(claude: AnthropicStoryProvider, fake_server: Any, tmp_path: Path) -> None:
    fake_server.push(Canned(body=anthropic_message(llm_story())))
    story = claude.generate(REQ, ctx(tmp_path))
    assert isinstance(story, Story) and len(story.scenes) == 6
    assert story.genre == "noir" and story.seed == 3
    # we fill what the model does not write: distinct voices and structured looks
    assert all(c.appearance is not None for c in story.characters)
    assert len({(c.voice.pitch_semitones, c.voice.formant) for c in story.characters}) == len(story.characters)
    (seen,) = fake_server.seen
    assert seen.path == "/v1/messages"
    # the key travels as x-api-key (older SDKs) or a bearer token (this one)
    assert "sk-ant-test" in (seen.headers.get("x-api-key", "") + seen.headers.get("authorization", ""))
    body = seen.body
    assert body["model"] == "claude-test-1"
    assert body["tool_choice"] == {"type": "tool", "name": "write_story"}
    schema = body["tools"][0]["input_schema"]
    assert schema["required"] == ["title", "logline", "characters", "scenes"]
    assert "lighthouse keeper" in body["messages"][0]["content"]


def test_bad_tool_input_is_fed_back_then_fixed(claude: AnthropicStoryProvider, fake_server: Any, tmp_path: Path) -> None:
    broken = llm_story()
    broken["scenes"] = broken["scenes"][:2]  # too few scenes: the model is told exactly that
    fake_server.push(Canned(body=anthropic_message(broken)), Canned(body=anthropic_message(llm_story())))
    story = claude.generate(REQ, ctx(tmp_path))
    assert len(story.scenes) == 6
    assert len(fake_server.seen) == 2
    retry = fake_server.seen[1].body["messages"]
    assert [m["role"] for m in retry] == ["user", "assistant", "user"]
    assert retry[1]["content"][0]["type"] == "tool_use"
    result = retry[2]["content"][0]
    assert result["type"] == "tool_result" and result["is_error"] is True and result["tool_use_id"] == "toolu_01"
    assert "expected 6 scenes, got 2" in result["content"]


def test_text_reply_with_json_in_prose_is_repaired(claude: AnthropicStoryProvider, fake_server: Any,
                                                   tmp_path: Path) -> None:
    text = "Here is the story you asked for:\n```json\n" + json.dumps(llm_story()) + "\n```\nEnjoy!"
    fake_server.push(Canned(body=anthropic_message(text=text, stop="end_turn")))
    assert len(claude.generate(REQ, ctx(tmp_path)).scenes) == 6


def test_garbage_three_times_is_a_clear_bad_output(claude: AnthropicStoryProvider, fake_server: Any,
                                                    tmp_path: Path) -> None:
    fake_server.push(*[Canned(body=anthropic_message(text="I'd rather write a poem.", stop="end_turn"))] * 3)
    with pytest.raises(ProviderBadOutput) as info:
        claude.generate(REQ, ctx(tmp_path))
    assert "3 attempts" in str(info.value) and "no JSON object" in str(info.value)
    assert len(fake_server.seen) == 3
    assert fake_server.seen[2].body["messages"][-1]["content"].startswith("That reply could not be used")


def test_429_carries_retry_after(claude: AnthropicStoryProvider, fake_server: Any, tmp_path: Path) -> None:
    fake_server.push(Canned(429, anthropic_error("rate_limit_error", "slow down"), {"retry-after": "7"}))
    with pytest.raises(ProviderUnavailable) as info:
        claude.generate(REQ, ctx(tmp_path))
    assert info.value.retry_after == 7.0 and "429" in str(info.value) and "slow down" in str(info.value)
    assert len(fake_server.seen) == 1  # the SDK itself did not retry (max_retries=0)


def test_runner_retries_after_429_honouring_retry_after(claude: AnthropicStoryProvider, fake_server: Any,
                                                        tmp_path: Path) -> None:
    fake_server.push(
        Canned(429, anthropic_error("rate_limit_error", "busy"), {"retry-after": "2"}),
        Canned(529, anthropic_error("overloaded_error", "overloaded")),
        Canned(body=anthropic_message(llm_story())),
    )
    slept: list[float] = []
    out = run_stage("story", REQ, store=LocalStore(tmp_path / "store"), provider=claude, retries=3,
                    sleep=slept.append)
    assert len(out.result.scenes) == 6 and out.attempts == 3
    assert slept == [2.0, 1.0]  # Retry-After first, then the runner's own backoff


@pytest.mark.parametrize(
    ("status", "kind", "error", "words"),
    [
        (500, "api_error", ProviderUnavailable, "500"),
        (503, "api_error", ProviderUnavailable, "unavailable"),
        (401, "authentication_error", NeedsKeyError, "ANTHROPIC_API_KEY"),
        (404, "not_found_error", ProviderError, "ANTHROPIC_MODEL"),
        (400, "invalid_request_error", ProviderError, "rejected the request"),
    ],
)
def test_status_codes_map_to_our_errors(claude: AnthropicStoryProvider, fake_server: Any, tmp_path: Path,
                                        status: int, kind: str, error: type, words: str) -> None:
    fake_server.push(Canned(status, anthropic_error(kind, "it went wrong")))
    with pytest.raises(error) as info:
        claude.generate(REQ, ctx(tmp_path))
    assert words in str(info.value) and "it went wrong" in str(info.value)
    assert type(info.value).transient == (status >= 500)


def test_timeout_is_a_provider_timeout(fake_server: Any, settings_env: Any, tmp_path: Path) -> None:
    settings_env(ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=fake_server.url)
    fake_server.push(Canned(body=anthropic_message(llm_story()), delay=1.5))
    with pytest.raises(ProviderTimeout):
        AnthropicStoryProvider({"timeout": 0.3}).generate(REQ, ctx(tmp_path))


def test_connection_refused_is_unavailable(settings_env: Any, tmp_path: Path) -> None:
    settings_env(ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL="http://127.0.0.1:9")
    with pytest.raises(ProviderUnavailable) as info:
        AnthropicStoryProvider({"timeout": 2}).generate(REQ, ctx(tmp_path))
    assert "127.0.0.1:9" in str(info.value)


def test_missing_key_names_the_setting(settings_env: Any, fake_server: Any, tmp_path: Path) -> None:
    settings_env(ANTHROPIC_BASE_URL=fake_server.url)
    with pytest.raises(NeedsKeyError, match="ANTHROPIC_API_KEY"):
        AnthropicStoryProvider().generate(REQ, ctx(tmp_path))
    assert fake_server.seen == []


def test_long_film_is_written_in_chunks_with_the_same_cast(claude: AnthropicStoryProvider, fake_server: Any,
                                                           tmp_path: Path) -> None:
    req = REQ.model_copy(update={"num_scenes": 12})
    whole = llm_story(n=12)
    for k in range(3):
        part = dict(whole, scenes=whole["scenes"][4 * k:4 * k + 4])
        fake_server.push(Canned(body=anthropic_message(part)))
    story = AnthropicStoryProvider({"scenes_per_call": 4}).generate(req, ctx(tmp_path))
    assert len(story.scenes) == 12 and len(fake_server.seen) == 3
    assert [s.narration for s in story.scenes] == [s["narration"] for s in whole["scenes"]]
    second = fake_server.seen[1].body["messages"][0]["content"]
    assert "Write scenes 5 to 8 of 12" in second
    assert "The characters are fixed" in second and whole["characters"][0]["name"] in second
    assert whole["scenes"][3]["narration"] in second  # the story so far goes along


def test_seed_chunk_api_writes_only_the_next_chunk(claude: AnthropicStoryProvider, fake_server: Any,
                                                   tmp_path: Path) -> None:
    whole = llm_story(n=8)
    first = Story.model_validate({**whole, "genre": "noir", "scenes": whole["scenes"][:4]})
    fake_server.push(Canned(body=anthropic_message(dict(whole, scenes=whole["scenes"][4:]))))
    req = REQ.model_copy(update={"num_scenes": 8, "total_chunks": 2, "previous_character": first.characters,
                                 "previous_sequence": first.scenes})
    chunk = claude.generate(req, ctx(tmp_path))
    assert len(chunk.scenes) == 4
    assert [c.id for c in chunk.characters] == [c.id for c in first.characters]
    assert chunk.characters[0] == first.characters[0]  # reused exactly
    assert "Write scenes 5 to 8 of 8" in fake_server.seen[0].body["messages"][0]["content"]
