"""A role the premise casts: who the story needs before it has a name, look or voice."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Role:
    slot: str  # hero | ally | rival | extra
    head: str  # "keeper"
    title: str  # "the lighthouse keeper" / "her sister"
    gender: str = ""  # f | m | "" (choose)
    creature: bool = False
    robot: bool = False
    given_name: str | None = None
