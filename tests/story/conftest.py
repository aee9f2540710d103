"""Fixtures for the story tests: the fake vendor server and settings from the environment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from story_fakes import FakeLLMServer

from deepflix.core import config


@pytest.fixture
def fake_server() -> Iterator[FakeLLMServer]:
    srv = FakeLLMServer()
    yield srv
    srv.close()


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set environment variables and re-read settings; restored afterwards."""

    def apply(**env: str | None) -> None:
        for k, v in env.items():
            if v is None:
                monkeypatch.delenv(k, raising=False)
            else:
                monkeypatch.setenv(k, v)
        config.reload_settings()

    for k in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL",
              "OPENAI_MODEL"):
        monkeypatch.delenv(k, raising=False)
    yield apply
    monkeypatch.undo()
    config.reload_settings()
