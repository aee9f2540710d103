"""Anthropic Claude (the seed's LLM service) through the official ``anthropic`` SDK.

Structured output by tool use: one tool, ``write_story``, whose input schema is
the story's JSON schema, and ``tool_choice`` forcing it, so the answer arrives
as a parsed ``tool_use`` block. A reply that still does not make a story is
answered with a ``tool_result`` marked ``is_error`` that says what to fix
(the bounded retry in ``llm``). Settings: ANTHROPIC_API_KEY, ANTHROPIC_MODEL,
ANTHROPIC_BASE_URL (a proxy, or the tests' local server).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from ..core import config
from ..errors import NeedsKeyError, ProviderError, ProviderTimeout, ProviderUnavailable
from ..hookspecs import Register, hookimpl
from ..lazy import lazy_module
from ..models import StoryRequest
from .llm import (
    TOOL_NAME,
    LLMStoryProvider,
    Reply,
    error_detail,
    retry_after,
    secret,
    story_schema,
)

# the `llm` extra, imported on first use; None without it (the provider still registers and says what to install)
anthropic = lazy_module('anthropic')


@contextmanager
def map_anthropic_exceptions(where: str, model: str, timeout: float) -> Iterator[None]:
    """SDK exceptions -> DeepFlix errors, at the boundary (``raise ... from exc``)."""
    try:
        yield
    except anthropic.APITimeoutError as exc:
        raise ProviderTimeout(f"Anthropic did not answer within {timeout:.0f}s ({where})") from exc
    except anthropic.APIConnectionError as exc:
        raise ProviderUnavailable(f"cannot reach Anthropic at {where}: {exc}") from exc
    except anthropic.APIStatusError as exc:
        status = exc.status_code
        detail = error_detail(exc.body, exc.message)
        wait = retry_after(exc.response.headers)
        if status == 401:
            raise NeedsKeyError(
                f"Anthropic rejected the API key (401: {detail}): set a valid ANTHROPIC_API_KEY"
            ) from exc
        if status == 403:
            raise ProviderError(f"Anthropic refused the request (403: {detail}); check the key's permissions") from exc
        if status == 404:
            raise ProviderError(f"Anthropic has no model {model!r} (404: {detail}); set ANTHROPIC_MODEL") from exc
        if status in (408, 504):
            raise ProviderTimeout(f"Anthropic timed out ({status}: {detail})", retry_after=wait) from exc
        if status == 429:
            raise ProviderUnavailable(f"Anthropic rate limit (429: {detail})", retry_after=wait) from exc
        if status >= 500:
            raise ProviderUnavailable(f"Anthropic is unavailable ({status}: {detail})", retry_after=wait) from exc
        raise ProviderError(f"Anthropic rejected the request ({status}: {detail})") from exc


class AnthropicStoryProvider(LLMStoryProvider):
    """Stories written by Claude; long films in chunks that continue each other."""

    provider_id = "anthropic/claude"
    version = "1"
    key_env_var: ClassVar[str | None] = "ANTHROPIC_API_KEY"
    vendor = "Anthropic"

    def model_name(self) -> str:
        return self.options.model or config.settings.anthropic_model

    def get_key(self) -> str:
        key = secret(config.settings.anthropic_api_key) or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise NeedsKeyError(f"{self.provider_id} needs an API key: set ANTHROPIC_API_KEY in the environment or .env")
        return key

    def health(self) -> dict[str, Any]:
        ok = anthropic is not None and bool(secret(config.settings.anthropic_api_key) or os.environ.get(
            "ANTHROPIC_API_KEY"))
        return {"provider": self.provider_id, "ok": ok, "model": self.model_name()}

    def _client(self) -> Any:
        if anthropic is None:
            raise ProviderError("anthropic/claude needs the anthropic package: pip install 'deepflix[llm]'")
        return anthropic.Anthropic(
            api_key=self.get_key(),
            base_url=config.settings.anthropic_base_url or None,
            max_retries=0,  # the runner retries, honouring Retry-After; see llm.py
            timeout=self.options.timeout,
        )

    def _start(self, system: str, user: str) -> dict[str, Any]:
        return {"system": system, "messages": [{"role": "user", "content": user}]}

    def _ask(self, conversation: dict[str, Any], request: StoryRequest) -> Reply:
        client = self._client()
        where = str(client.base_url)
        with map_anthropic_exceptions(where, self.model_name(), self.options.timeout):
            msg = client.messages.create(
                model=self.model_name(),
                max_tokens=self.options.max_tokens,
                system=conversation["system"],
                messages=conversation["messages"],
                tools=[{"name": TOOL_NAME, "description": "Write the film's story: title, characters and scenes.",
                        "input_schema": story_schema()}],
                tool_choice={"type": "tool", "name": TOOL_NAME},
            )
        blocks = list(msg.content or [])
        tool = next((b for b in blocks if getattr(b, "type", "") == "tool_use"), None)
        text = "".join(getattr(b, "text", "") for b in blocks if getattr(b, "type", "") == "text")
        payload: Any = tool.input if tool is not None and tool.input else text
        return Reply(payload=payload, truncated=msg.stop_reason == "max_tokens", raw=blocks)

    def _feedback(self, conversation: dict[str, Any], reply: Reply, message: str) -> dict[str, Any]:
        blocks = reply.raw or []
        content = [b.model_dump(include={"type", "id", "name", "input", "text"}, exclude_none=True) for b in blocks
                   if getattr(b, "type", "") in ("tool_use", "text")]
        tool = next((b for b in blocks if getattr(b, "type", "") == "tool_use"), None)
        if tool is not None:  # answer the tool call with an error result, as the protocol wants
            answer: Any = [{"type": "tool_result", "tool_use_id": tool.id, "is_error": True, "content": message}]
        else:
            answer = message
        messages = conversation["messages"] + [
            {"role": "assistant", "content": content or [{"type": "text", "text": "(no answer)"}]},
            {"role": "user", "content": answer},
        ]
        return {**conversation, "messages": messages}


@hookimpl
def register_story_providers(register: Register) -> None:
    register(AnthropicStoryProvider)
