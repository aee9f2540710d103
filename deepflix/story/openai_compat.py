"""Any OpenAI-compatible chat server through the official ``openai`` SDK:
OpenAI itself, Ollama, vLLM, llama.cpp's server, LM Studio.

Servers differ in what they accept, so the provider asks for the best it can
get and steps down when the server says no (HTTP 400/422): a strict JSON
schema (``response_format`` json_schema), then JSON mode (json_object), then
plain prompting with the schema spelled out. The mode that worked is
remembered per server and model. A local server may need no key: with
OPENAI_BASE_URL set, a missing OPENAI_API_KEY is fine.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from ..core import config
from ..errors import NeedsKeyError, ProviderError, ProviderTimeout, ProviderUnavailable
from ..hookspecs import Register, hookimpl
from ..lazy import lazy_module
from ..models import StoryRequest
from .llm import (
    JSON_HINT,
    LLMStoryProvider,
    Reply,
    error_detail,
    retry_after,
    secret,
    story_schema,
)

# the `llm` extra, imported on first use; None without it (the provider still registers and says what to install)
openai = lazy_module('openai')

MODES = ("json_schema", "json_object", "plain")
_mode_lock = threading.Lock()
_working_mode: dict[tuple[str, str], str] = {}  # (base_url, model) -> the mode that server accepted


class _Rejected(Exception):
    """The server refused a response_format: try the next mode."""


@contextmanager
def map_openai_exceptions(where: str, model: str, timeout: float, mode: str) -> Iterator[None]:
    try:
        yield
    except openai.APITimeoutError as exc:
        raise ProviderTimeout(f"{where} did not answer within {timeout:.0f}s") from exc
    except openai.APIConnectionError as exc:
        raise ProviderUnavailable(f"cannot reach the OpenAI-compatible server at {where}: {exc}") from exc
    except openai.APIStatusError as exc:
        status = exc.status_code
        detail = error_detail(exc.body, exc.message)
        wait = retry_after(exc.response.headers)
        if status in (400, 422) and mode != "plain":
            raise _Rejected(detail) from exc
        if status == 401:
            raise NeedsKeyError(f"{where} rejected the API key (401: {detail}): set a valid OPENAI_API_KEY") from exc
        if status == 403:
            raise ProviderError(f"{where} refused the request (403: {detail})") from exc
        if status == 404:
            raise ProviderError(f"{where} has no model {model!r} (404: {detail}); set OPENAI_MODEL") from exc
        if status in (408, 504):
            raise ProviderTimeout(f"{where} timed out ({status}: {detail})", retry_after=wait) from exc
        if status == 429:
            raise ProviderUnavailable(f"{where} rate limit (429: {detail})", retry_after=wait) from exc
        if status >= 500:
            raise ProviderUnavailable(f"{where} is unavailable ({status}: {detail})", retry_after=wait) from exc
        raise ProviderError(f"{where} rejected the request ({status}: {detail})") from exc


class OpenAIChatStoryProvider(LLMStoryProvider):
    """Stories from any server that speaks OpenAI's Chat Completions API."""

    provider_id = "openai/chat"
    version = "1"
    key_env_var: ClassVar[str | None] = "OPENAI_API_KEY"
    vendor = "OpenAI-compatible server"

    def model_name(self) -> str:
        return self.options.model or config.settings.openai_model

    def get_key(self) -> str:
        key = secret(config.settings.openai_api_key) or os.environ.get("OPENAI_API_KEY")
        if key:
            return key
        if config.settings.openai_base_url:
            return "not-needed"  # Ollama, llama.cpp, vLLM and LM Studio usually run without keys
        raise NeedsKeyError(
            f"{self.provider_id} needs OPENAI_API_KEY, or OPENAI_BASE_URL pointing at a local server "
            "(Ollama, vLLM, llama.cpp, LM Studio)"
        )

    def health(self) -> dict[str, Any]:
        s = config.settings
        ok = openai is not None and bool(secret(s.openai_api_key) or os.environ.get("OPENAI_API_KEY")
                                         or s.openai_base_url)
        return {"provider": self.provider_id, "ok": ok, "model": self.model_name(),
                "base_url": s.openai_base_url or "https://api.openai.com/v1"}

    def _client(self) -> Any:
        if openai is None:
            raise ProviderError("openai/chat needs the openai package: pip install 'deepflix[llm]'")
        return openai.OpenAI(
            api_key=self.get_key(),
            base_url=config.settings.openai_base_url or None,
            max_retries=0,  # the runner retries, honouring Retry-After; see llm.py
            timeout=self.options.timeout,
        )

    def _start(self, system: str, user: str) -> list[dict[str, Any]]:
        return [{"role": "system", "content": system + "\n\n" + JSON_HINT}, {"role": "user", "content": user}]

    def _ask(self, conversation: list[dict[str, Any]], request: StoryRequest) -> Reply:
        client = self._client()
        where = str(client.base_url).rstrip("/")
        key = (where, self.model_name())
        with _mode_lock:
            first = _working_mode.get(key, MODES[0])
        for mode in MODES[MODES.index(first):]:
            kwargs: dict[str, Any] = {}
            if mode == "json_schema":
                kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                    "name": "story", "strict": True, "schema": story_schema()}}
            elif mode == "json_object":
                kwargs["response_format"] = {"type": "json_object"}
            try:
                with map_openai_exceptions(where, self.model_name(), self.options.timeout, mode):
                    resp = client.chat.completions.create(
                        model=self.model_name(),
                        messages=conversation,
                        max_tokens=self.options.max_tokens,
                        temperature=self.options.temperature,
                        seed=request.seed,
                        **kwargs,
                    )
            except _Rejected:
                continue  # this server does not take that response_format: step down
            with _mode_lock:
                _working_mode[key] = mode
            if not resp.choices:
                return Reply(payload="", raw="")
            choice = resp.choices[0]
            text = choice.message.content or getattr(choice.message, "refusal", None) or ""
            return Reply(payload=text, truncated=choice.finish_reason == "length", raw=text)
        raise ProviderError(f"{where} rejected every request format (json_schema, json_object, plain)")

    def _feedback(self, conversation: list[dict[str, Any]], reply: Reply, message: str) -> list[dict[str, Any]]:
        return conversation + [{"role": "assistant", "content": str(reply.raw or "")[:20000]},
                               {"role": "user", "content": message}]


@hookimpl
def register_story_providers(register: Register) -> None:
    register(OpenAIChatStoryProvider)
