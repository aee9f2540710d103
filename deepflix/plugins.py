"""Provider discovery: built-ins plus the ``deepflix`` entry-point group."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pluggy

from . import hookspecs
from .errors import UnknownProviderError
from .provider import Provider

STAGES = ("story", "picture", "speech", "score", "segment", "cut")

DEFAULT_PLUGINS = (
    "deepflix.story.planner",
    "deepflix.story.anthropic",
    "deepflix.story.openai_compat",
    "deepflix.picture.illustrator",
    "deepflix.picture.comfyui",
    "deepflix.picture.diffusers",
    "deepflix.speech.piper",
    "deepflix.speech.elevenlabs",
    "deepflix.speech.openai_speech",
    "deepflix.speech.espeak",
    "deepflix.music.composer",
    "deepflix.music.http_model",
    "deepflix.video.ffmpeg_cut",
    "deepflix.video.segment",
)

# the provider each stage uses when settings name none
DEFAULTS = {
    "story": "builtin/planner",
    "picture": "builtin/illustrator",
    "speech": "piper/joe",
    "score": "builtin/composer",
    "segment": "builtin/ffmpeg-segment",
    "cut": "builtin/ffmpeg",
}

pm = pluggy.PluginManager("deepflix")
pm.add_hookspecs(hookspecs)
_registry: dict[str, dict[str, type[Provider]]] | None = None


def _load() -> dict[str, dict[str, type[Provider]]]:
    global _registry
    if _registry is not None:
        return _registry
    if not getattr(sys, "_called_from_test", False):
        pm.load_setuptools_entrypoints("deepflix")
    for name in DEFAULT_PLUGINS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # module not written (yet): skip; a broken import inside it is a bug
                continue
            raise
        if not pm.is_registered(mod):
            pm.register(mod, name)
    reg: dict[str, dict[str, type[Provider]]] = {s: {} for s in STAGES}
    for stage in STAGES:

        def register(cls: type[Provider], _stage: str = stage) -> None:
            reg[_stage][cls.provider_id] = cls

        getattr(pm.hook, f"register_{stage}_providers")(register=register)
    _registry = reg
    return reg


def reset() -> None:
    """Forget the loaded registry (tests that register extra plugins)."""
    global _registry
    _registry = None


def providers(stage: str) -> dict[str, type[Provider]]:
    if stage not in STAGES:
        raise UnknownProviderError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
    return dict(_load()[stage])


def get_provider_class(stage: str, name: str | None = None) -> type[Provider]:
    name = name or DEFAULTS[stage]
    found = providers(stage)
    if name in found:
        return found[name]
    # allow the short form: "planner" for "builtin/planner", "anthropic" for "anthropic/claude"
    matches = [pid for pid in found if pid.split("/")[-1] == name or pid.split("/")[0] == name]
    if len(matches) == 1:
        return found[matches[0]]
    raise UnknownProviderError(
        f"no {stage} provider named {name!r}; available: {', '.join(sorted(found)) or 'none'}"
    )


def get_provider(stage: str, name: str | None = None, options: dict[str, Any] | None = None) -> Provider:
    return get_provider_class(stage, name)(options)
