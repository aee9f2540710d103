"""Provider discovery: built-ins plus the ``deepflix`` entry-point group."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pluggy

from . import hookspecs
from .errors import UnknownProviderError
from .film.plan import current as current_plan
from .provider import Provider

DEFAULT_PLUGINS = (
    "deepflix.story.planner",
    "deepflix.story.anthropic",
    "deepflix.story.openai_compat",
    "deepflix.story.llamacpp",
    "deepflix.picture.illustrator",
    "deepflix.picture.comfyui",
    "deepflix.picture.comfy_portrait",
    "deepflix.picture.diffusers",
    "deepflix.clip.comfyui",
    "deepflix.speech.piper",
    "deepflix.speech.elevenlabs",
    "deepflix.speech.openai_speech",
    "deepflix.speech.espeak",
    "deepflix.score.composer",
    "deepflix.score.http_model",
    "deepflix.cut.ffmpeg_cut",
    "deepflix.cut.segment",
)

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
    reg: dict[str, dict[str, type[Provider]]] = {}

    def register_any(cls: type[Provider]) -> None:
        reg.setdefault(cls.stage, {})[cls.provider_id] = cls

    # the per-stage hooks of hookspecs.py (register_<stage>_providers), kept for existing plugins
    for hook in [h for h in vars(hookspecs) if h.startswith("register_") and h.endswith("_providers") and h != "register_providers"]:
        def register(cls: type[Provider], _stage: str = hook[len("register_"):-len("_providers")]) -> None:
            reg.setdefault(_stage, {})[cls.provider_id] = cls

        getattr(pm.hook, hook)(register=register)
    pm.hook.register_providers(register=register_any)  # any stage, by the class's own ``stage``
    _registry = reg
    return reg


def reset() -> None:
    """Forget the loaded registry (tests that register extra plugins)."""
    global _registry
    _registry = None


@contextmanager
def registered(plugin: object, name: str) -> Iterator[object]:
    """``plugin`` (a module of hook implementations) registered while the block runs, and
    gone after it, the registry reloaded both times (a test's or a session's own providers)."""
    pm.register(plugin, name)
    reset()
    try:
        yield plugin
    finally:
        pm.unregister(plugin)
        reset()


def stages() -> tuple[str, ...]:
    """The plan's stages (read at call time: a plan may be extended)."""
    return current_plan().names


def providers(stage: str) -> dict[str, type[Provider]]:
    if stage not in current_plan():
        raise UnknownProviderError(f"unknown stage {stage!r}; stages are {', '.join(stages())}")
    return dict(_load().get(stage, {}))


def get_provider_class(stage: str, name: str | None = None) -> type[Provider]:
    name = name or (current_plan()[stage].default_provider if stage in current_plan() else None)
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


def _uninstalled(stage: str, name: str | None) -> bool:
    """A stage only some films use (``when``: the clip stage) with none named and its default not
    installed: films that don't use it need none, so it is left out rather than an error."""
    spec = current_plan()[stage]
    return name is None and spec.when is not None and spec.default_provider not in providers(stage)


def configured_provider(stage: str) -> str:
    """The provider id a stage uses when a film names none: the settings', else the plan's default
    ("" for a stage only some films use, with no provider installed)."""
    from .core import config

    name = config.settings.provider_for(stage)
    return "" if _uninstalled(stage, name) else get_provider_class(stage, name).provider_id


def resolve_providers(chosen: dict[str, str] | None = None) -> dict[str, str]:
    """Full provider ids for every stage of the plan: the chosen ones, else the settings', else
    the plan's defaults. Fixed once per film, so every worker makes the same film."""
    from .core import config

    chosen = chosen or {}
    s = config.settings
    out: dict[str, str] = {}
    for spec in sorted(current_plan(), key=lambda sp: sp.follows is not None):  # the followed ones first
        name = chosen.get(spec.name) or s.provider_for(spec.name)
        if name is None and spec.follows and out.get(spec.follows) in providers(spec.name):
            name = out[spec.follows]  # the cast is drawn by the film's picture provider, when it can
        if _uninstalled(spec.name, name):
            continue  # a row of it, should a film have one, fails naming the setting (or falls back)
        out[spec.name] = get_provider_class(spec.name, name).provider_id
    return {st: out[st] for st in stages() if st in out}


def supports_references(providers_: dict[str, str], options: dict[str, Any] | None = None,
                        stage: str = "picture") -> bool:
    """Whether a film's picture (or clip) provider conditions its scenes on the cast's portraits:
    asked of the provider made with the film's options for that stage, since it can depend on
    them (diffusers/local does with an IP-Adapter set, comfyui/clip with its workflow). Bad
    options fail here, before any work."""
    if stage != "picture" and stage not in providers_:
        return False
    return bool(getattr(get_provider(stage, providers_.get(stage), options), "supports_references", False))


def stage_options(stage: str, providers_: dict[str, str], options: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """A stage's provider options: its own, else those of the stage it follows when one
    provider makes both with the same Options (the cast drawn by diffusers/local takes the
    picture's ``model_path``; the illustrator's picture options do not fit its portraits)."""
    own = options.get(stage)
    follows = current_plan()[stage].follows if stage in current_plan() else None
    if own is not None or not follows or follows not in options:
        return own
    mine, theirs = get_provider_class(stage, providers_.get(stage)), get_provider_class(follows, providers_.get(follows))
    return options[follows] if mine.Options is theirs.Options else None


def get_provider(stage: str, name: str | None = None, options: dict[str, Any] | None = None) -> Provider:
    return get_provider_class(stage, name)(options)
