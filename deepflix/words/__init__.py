"""The planner's material: one JSON file per genre plus common.json.

Kept as data so that a writer can improve the prose without touching code.
Each genre file has the same keys (see noir.json); tests/story check that
every template renders for every genre.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> dict[str, Any]:
    """``common`` or a genre name ("sci-fi" is stored as sci_fi.json)."""
    text = resources.files(__name__).joinpath(name.replace("-", "_") + ".json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
