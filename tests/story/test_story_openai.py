"""openai/chat through the real `openai` SDK against a local Chat Completions server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from story_fakes import Canned, chat_completion, llm_story, openai_error

from deepflix.errors import (
    NeedsKeyError,
    ProviderBadOutput,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
)
from deepflix.models import StoryRequest
from deepflix.provider import StageContext
from deepflix.runner import run_stage
from deepflix.storage import LocalStore
from deepflix.story import openai_compat
from deepflix.story.openai_compat import OpenAIChatStoryProvider

REQ = StoryRequest(prompt="Two kids build a robot in their garage", genre="comedy", num_scenes=5, seed=11)


@pytest.fixture
def chat(fake_server: Any, settings_env: Any) -> OpenAIChatStoryProvider:
    openai_compat._working_mode.clear()  # each test starts from the best format
    settings_env(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=fake_server.url + "/v1", OPENAI_MODEL="llama-test")
    return OpenAIChatStoryProvider({"timeout": 5})


def ctx(tmp_path: Path) -> StageContext:
    return StageContext(out_dir=tmp_path)


def good(n: int = 5) -> str:
    return json.dumps(llm_story("Two kids build a robot in their garage", "comedy", n))


def test_json_schema_reply_becomes_a_story(chat: OpenAIChatStoryProvider, fake_server: Any, tmp_path: Path) -> None:
    fake_server.push(Canned(body=chat_completion(good())))
    story = chat.generate(REQ, ctx(tmp_path))
    assert len(story.scenes) == 5 and story.genre == "comedy"
    (seen,) = fake_server.seen
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == "Bearer sk-test"
    body = seen.body
    assert body["model"] == "llama-test" and body["seed"] == 11
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["properties"]["scenes"]["items"]["additionalProperties"] is False
    assert body["messages"][0]["role"] == "system" and "JSON" in body["messages"][0]["content"]


def test_server_without_json_schema_falls_back_and_remembers(chat: OpenAIChatStoryProvider, fake_server: Any,
                                                             tmp_path: Path) -> None:
    fake_server.push(
        Canned(400, openai_error("response_format json_schema is not supported", "response_format")),
        Canned(400, openai_error("Unrecognized response_format type: json_object", "response_format")),
        Canned(body=chat_completion("Sure! ```json\n" + good() + "\n```")),
        Canned(body=chat_completion(good())),
    )
    assert len(chat.generate(REQ, ctx(tmp_path)).scenes) == 5
    kinds = [s.body.get("response_format", {}).get("type", "plain") for s in fake_server.seen]
    assert kinds == ["json_schema", "json_object", "plain"]
    chat.generate(REQ.model_copy(update={"seed": 12}), ctx(tmp_path))  # the plain mode is remembered
    assert "response_format" not in fake_server.seen[-1].body and len(fake_server.seen) == 4


def test_local_server_needs_no_key(fake_server: Any, settings_env: Any, tmp_path: Path) -> None:
    openai_compat._working_mode.clear()
    settings_env(OPENAI_BASE_URL=fake_server.url + "/v1")  # Ollama / llama.cpp style: no key at all
    fake_server.push(Canned(body=chat_completion(good())))
    assert len(OpenAIChatStoryProvider().generate(REQ, ctx(tmp_path)).scenes) == 5
    assert fake_server.seen[0].headers["authorization"] == "Bearer not-needed"


def test_no_key_and_no_server_names_both_settings(settings_env: Any, tmp_path: Path) -> None:
    settings_env()
    with pytest.raises(NeedsKeyError) as info:
        OpenAIChatStoryProvider().generate(REQ, ctx(tmp_path))
    assert "OPENAI_API_KEY" in str(info.value) and "OPENAI_BASE_URL" in str(info.value)


def test_malformed_reply_is_retried_with_the_error(chat: OpenAIChatStoryProvider, fake_server: Any,
                                                   tmp_path: Path) -> None:
    data = json.loads(good())
    del data["scenes"][2]["narration"]
    data["scenes"][2]["dialogue"] = []
    fake_server.push(Canned(body=chat_completion(json.dumps(data))), Canned(body=chat_completion(good())))
    assert len(chat.generate(REQ, ctx(tmp_path)).scenes) == 5
    msgs = fake_server.seen[1].body["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert "scenes[2] has no narration" in msgs[3]["content"]


def test_truncated_reply_is_told_it_was_cut_off(chat: OpenAIChatStoryProvider, fake_server: Any,
                                                tmp_path: Path) -> None:
    text = good()
    fake_server.push(Canned(body=chat_completion(text[: len(text) // 3], finish="length")),
                     Canned(body=chat_completion(text)))
    assert len(chat.generate(REQ, ctx(tmp_path)).scenes) == 5
    assert "cut off" in fake_server.seen[1].body["messages"][-1]["content"]


def test_last_attempt_accepts_a_shorter_story(chat: OpenAIChatStoryProvider, fake_server: Any,
                                              tmp_path: Path) -> None:
    short = json.loads(good())
    short["scenes"] = short["scenes"][:3]
    fake_server.push(*[Canned(body=chat_completion(json.dumps(short)))] * 3)
    story = chat.generate(REQ, ctx(tmp_path))
    assert len(story.scenes) == 3  # better a three-scene film than none


def test_refusals_end_in_bad_output(chat: OpenAIChatStoryProvider, fake_server: Any, tmp_path: Path) -> None:
    fake_server.push(*[Canned(body=chat_completion("I can't help with that."))] * 3)
    with pytest.raises(ProviderBadOutput, match="no JSON object"):
        chat.generate(REQ, ctx(tmp_path))


def test_429_then_success_through_the_runner(chat: OpenAIChatStoryProvider, fake_server: Any, tmp_path: Path) -> None:
    fake_server.push(
        Canned(429, openai_error("Rate limit reached", kind="rate_limit_exceeded"), {"retry-after-ms": "1500"}),
        Canned(body=chat_completion(good())),
    )
    slept: list[float] = []
    out = run_stage("story", REQ, store=LocalStore(tmp_path / "s"), provider=chat, sleep=slept.append)
    assert slept == [1.5] and len(out.result.scenes) == 5
    assert len(fake_server.seen) == 2  # no SDK-level retries hidden under ours


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [(500, ProviderUnavailable, "500"), (502, ProviderUnavailable, "unavailable"), (401, NeedsKeyError, "OPENAI_API_KEY"),
     (404, ProviderError, "OPENAI_MODEL"), (504, ProviderTimeout, "timed out")],
)
def test_errors_map(chat: OpenAIChatStoryProvider, fake_server: Any, tmp_path: Path, status: int, error: type,
                    words: str) -> None:
    fake_server.push(Canned(status, openai_error("upstream says no")))
    with pytest.raises(error) as info:
        chat.generate(REQ, ctx(tmp_path))
    assert words in str(info.value) and "upstream says no" in str(info.value)


def test_html_error_page_is_handled(chat: OpenAIChatStoryProvider, fake_server: Any, tmp_path: Path) -> None:
    fake_server.push(Canned(502, "<html><body>Bad Gateway</body></html>"))
    with pytest.raises(ProviderUnavailable, match="502"):
        chat.generate(REQ, ctx(tmp_path))


def test_timeout(fake_server: Any, settings_env: Any, tmp_path: Path) -> None:
    settings_env(OPENAI_BASE_URL=fake_server.url + "/v1")
    fake_server.push(Canned(body=chat_completion(good()), delay=1.5))
    with pytest.raises(ProviderTimeout):
        OpenAIChatStoryProvider({"timeout": 0.3}).generate(REQ, ctx(tmp_path))


def test_model_is_part_of_the_cache_key(settings_env: Any) -> None:
    settings_env(OPENAI_MODEL="a")
    one = OpenAIChatStoryProvider().cache_identity()
    settings_env(OPENAI_MODEL="b")
    assert OpenAIChatStoryProvider().cache_identity() != one


def test_contradictions_get_one_repair_round(chat: OpenAIChatStoryProvider, fake_server: Any,
                                             tmp_path: Path) -> None:
    data = json.loads(good())
    data["scenes"][0]["time_of_day"] = "day"
    data["scenes"][0]["narration"] += " Above the garage the sky is full of stars."
    fake_server.push(Canned(body=chat_completion(json.dumps(data))), Canned(body=chat_completion(good())))
    story = chat.generate(REQ, ctx(tmp_path))
    assert "stars" not in story.scenes[0].narration
    msgs = fake_server.seen[1].body["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert "'stars' in the narration, but the scene is at day" in msgs[3]["content"]
