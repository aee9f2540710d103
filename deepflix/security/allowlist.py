"""Which providers a user (not an admin) may pick per stage, and who may ask for
priority ``high``.

DEEPFLIX_USER_PROVIDERS is the operator's list: ``stage=id,id;stage=id`` (e.g.
``story=builtin/planner,openai/chat;picture=builtin/illustrator``), ``stage=*`` for
every installed provider of that stage. A stage the setting does not name allows the
server's own choice for it (DEEPFLIX_<STAGE>_PROVIDER) and the built-in offline
providers (``builtin/...``): a paid service, or a server on the operator's network
(ComfyUI at COMFYUI_URL), is opened to users only by naming it. Admin keys may pick
any installed provider.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..plugins import configured_provider, providers, stages
from .keys import Principal


class ProviderNotAllowed(InvalidInput):
    """A user asked for a provider the operator has not opened to users (403)."""


def parse(spec: str, stages: tuple[str, ...]) -> dict[str, set[str] | None]:
    """``stage=id,id;stage=*`` -> {stage: ids, or None for any}. Raises InvalidInput."""
    out: dict[str, set[str] | None] = {}
    for part in (p.strip() for p in spec.split(";") if p.strip()):
        stage, sep, ids = part.partition("=")
        stage = stage.strip()
        if not sep or stage not in stages:
            raise InvalidInput(f"DEEPFLIX_USER_PROVIDERS: {part!r} is not stage=id,id with a stage of "
                               f"{', '.join(stages)}")
        names = {n.strip() for n in ids.split(",") if n.strip()}
        out[stage] = None if "*" in names else names
    return out


def allowed(stage: str, spec: str) -> list[str]:
    """The installed providers of ``stage`` that users may pick under ``spec`` (DEEPFLIX_USER_PROVIDERS)."""

    installed = set(providers(stage))
    rules = parse(spec, stages())
    if stage not in rules:  # the default: the server's own choice and the offline built-ins
        return sorted(installed & ({configured_provider(stage)} | {n for n in installed
                                                                          if n.startswith("builtin/")}))
    rule = rules[stage]
    return sorted(installed if rule is None else installed & rule)


def check_provider(who: Principal | None, stage: str, name: str, spec: str) -> None:
    """ProviderNotAllowed unless ``who`` may pick ``name`` for ``stage`` (admins may pick any)."""
    if who is not None and who.is_admin:
        return
    ok = allowed(stage, spec)
    if name not in ok:
        raise ProviderNotAllowed(f"the {stage} provider {name!r} is not open to your key; choose one of "
                                 f"{', '.join(ok) or 'none'}, or leave providers.{stage} out for the server's")


def check_priority(who: Principal, priority: str) -> None:
    if priority == "high" and not (who.is_admin or who.high_priority):
        raise ProviderNotAllowed("priority 'high' is for admin keys and keys made with --high-priority; "
                                 "send 'normal' or 'low'")
