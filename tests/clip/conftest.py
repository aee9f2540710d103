"""The clip tests' providers (clip_providers.py), registered through the real plugin hook."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def clip_plugin() -> Iterator[Any]:
    from deepflix import plugins

    sys.path.insert(0, str(HERE))
    import clip_providers

    try:
        with plugins.registered(clip_providers, "clip-test-providers"):
            yield clip_providers
    finally:
        sys.path.remove(str(HERE))
