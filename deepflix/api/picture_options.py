"""Picture options a POST /api/movies caller may set, within what the operator allows.

A film's ``picture_options`` become its picture provider's ``Options`` on every
worker (FilmOptions.provider_options["picture"], so they are in each picture's
cache key), as ``deepflix make --picture-option`` does. Only the keys the
operator opens are taken: for ComfyUI DEEPFLIX_COMFYUI_API_OPTIONS; a workflow
must be a shipped template (never a path on the server) and timeout_s at most
DEEPFLIX_COMFYUI_TIMEOUT_S. The seed's ``cfg_scale`` is taken for ComfyUI's ``cfg``.
"""

from __future__ import annotations

from typing import Any

from ..core import config
from ..errors import InvalidInput
from ..plugins import get_provider

ALIASES = {"cfg_scale": "cfg"}  # the seed's name -> the provider's option


class OptionRefused(InvalidInput):
    """One option is not open to callers, or its value is not allowed; ``key`` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _open_keys(provider_id: str) -> tuple[set[str], str]:
    """The option names open to callers for this provider, and the setting that says so."""

    if provider_id == "comfyui/workflow":
        raw = config.settings.deepflix_comfyui_api_options
        return {k.strip() for k in raw.split(",") if k.strip()}, "DEEPFLIX_COMFYUI_API_OPTIONS"
    return set(), ""


def check(provider_id: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options as the provider takes them; OptionRefused (422) for a key or value not allowed."""
    if not options:
        return {}

    opened, setting = _open_keys(provider_id)
    out: dict[str, Any] = {}
    for key, value in options.items():
        name = ALIASES.get(key, key) if provider_id == "comfyui/workflow" else key
        if name not in opened:
            where = (f"the operator opens only: {', '.join(sorted(opened)) or 'none'} ({setting})" if setting
                     else f"the picture provider {provider_id} takes no options from callers")
            raise OptionRefused(key, f"picture option {key!r} is not open to callers; {where}")
        if name in out:
            raise OptionRefused(key, f"picture option {key!r} is given twice (as {name!r} too)")
        out[name] = value
    if provider_id == "comfyui/workflow":
        from ..picture.comfyui import TEMPLATES

        if "workflow" in out and out["workflow"] not in TEMPLATES:
            raise OptionRefused("workflow", f"workflow must be one of the shipped templates: {', '.join(TEMPLATES)}")
        limit = config.settings.deepflix_comfyui_timeout_s
        t = out.get("timeout_s")
        if isinstance(t, int | float) and not isinstance(t, bool) and t > limit:
            raise OptionRefused("timeout_s", f"timeout_s is {t:g}; at most {limit:g} (DEEPFLIX_COMFYUI_TIMEOUT_S)")
    try:
        get_provider("picture", provider_id, out)  # each value checked as the worker will check it
    except InvalidInput as exc:
        from pydantic import ValidationError

        cause, bad = exc.__cause__, next(iter(options))
        if isinstance(cause, ValidationError) and cause.errors() and cause.errors()[0]["loc"]:
            field = str(cause.errors()[0]["loc"][0])
            bad = next((k for k in options if ALIASES.get(k, k) == field), field)
        raise OptionRefused(bad, str(exc)) from exc
    return out
