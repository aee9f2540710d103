"""The job system's own errors, below every module that raises or catches them."""

from __future__ import annotations

from ..errors import DeepFlixError


class JobStateError(DeepFlixError):
    """The movie is not in a state that allows this (the gateway answers 409)."""


__all__ = ["JobStateError"]
