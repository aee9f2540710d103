"""DeepFlix: a text prompt in, a finished narrated short film out."""

from .errors import (
    DeepFlixError,
    InvalidInput,
    NeedsKeyError,
    ProviderBadOutput,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    UnknownProviderError,
)
from .models import Character, Scene, Story, StoryRequest
from .pipeline import FilmOptions, FilmResult, make_film
from .plugins import get_provider

__version__ = "0.1.0"

__all__ = [
    "Character",
    "DeepFlixError",
    "FilmOptions",
    "FilmResult",
    "InvalidInput",
    "NeedsKeyError",
    "ProviderBadOutput",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "Scene",
    "Story",
    "StoryRequest",
    "UnknownProviderError",
    "__version__",
    "get_provider",
    "make_film",
]
