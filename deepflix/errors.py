"""Every error DeepFlix shows to a person.

    DeepFlixError
     ├── InvalidInput            permanent: the request itself is wrong (422 / exit 2)
     ├── UnknownProviderError    no provider registered under that name
     └── ProviderError           a provider failed; the message says what to fix
          ├── NeedsKeyError      an API key setting is missing
          ├── ProviderUnavailable  transient: connection refused, 5xx, 429 (retried)
          │    └── ProviderTimeout
          └── ProviderBadOutput  the provider answered, but with garbage (retried, bounded)

Transient errors carry ``retry_after`` (seconds) when the service said so.
"""

from __future__ import annotations


class DeepFlixError(Exception):
    """Base: its message is shown to the user as is."""


class InvalidInput(DeepFlixError, ValueError):
    """Bad input: nothing was changed."""


class UnknownProviderError(DeepFlixError, KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; we want plain text
        return str(self.args[0]) if self.args else ""


class ProviderError(DeepFlixError):
    """A provider failed. ``stage`` and ``scene`` are attached by the runner."""

    transient = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.stage: str | None = None
        self.scene: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.stage:
            where = f"[{self.stage}" + (f" scene {self.scene + 1}" if self.scene is not None else "") + "] "
        return where + super().__str__()


class NeedsKeyError(ProviderError):
    pass


class ProviderUnavailable(ProviderError):
    transient = True


class ProviderTimeout(ProviderUnavailable):
    pass


class ProviderBadOutput(ProviderError):
    transient = True
