"""What a user is told when a stage fails, and what only the operator's log keeps.

A provider's message is written for whoever runs the server: it may name the
address of a service on the operator's network (COMFYUI_URL), a path on the worker
or a key setting. Users (a film's ``error``, a stage's, the stage endpoints'
answers, the webhook) get the message with addresses, URLs and paths taken out,
and words on what they can change: retry later, or choose another provider. The
log line keeps the message as it was.
"""

from __future__ import annotations

import re

from ..errors import DeepFlixError, InvalidInput, NeedsKeyError, ProviderBadOutput, ProviderError
from ..film.plan import current

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>()\[\]]*[^\s'\"<>()\[\].,:;]")
_IP = re.compile(r"\[?\b(?:\d{1,3}\.){3}\d{1,3}\b\]?(?::\d{1,5})?|\[[0-9a-fA-F:]*:[0-9a-fA-F:]+\](?::\d{1,5})?")
_HOST_PORT = re.compile(r"\b(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+):\d{1,5}\b")
_PATH = re.compile(r"(?<![\w.])/(?:[\w.@+~-]+/)+[\w.@+~-]*")


def redact(text: str) -> str:
    """The text without URLs, network addresses or absolute paths."""
    text = _URL.sub("<a server address>", text)
    text = _IP.sub("<a server address>", text)
    text = _HOST_PORT.sub("<a server address>", text)
    return _PATH.sub("<a path>", text)


def _chosen(stage: str) -> str:
    """The stage whose provider a user picks for ``stage``: the cast follows the picture provider."""

    plan = current()
    return (plan[stage].follows or stage) if stage in plan else stage


def public_message(exc: BaseException, stage: str | None = None, provider: str | None = None) -> str:
    """The words a user sees for ``exc`` raised by ``stage``'s ``provider``."""
    stage = stage or getattr(exc, "stage", None) or "this"
    who = f"the {stage} provider" + (f" {provider}" if provider else "")
    if isinstance(exc, NeedsKeyError):  # the setting's name is no secret, and it is what an operator must set
        var = re.search(r"\b[A-Z][A-Z0-9_]*(?:API_KEY|TOKEN)\b", str(exc))
        setting = f" ({var.group(0)})" if var else ""
        return f"{who} is missing an API key on this server{setting}; choose another {stage} provider, or ask an operator to set it"
    if isinstance(exc, InvalidInput) or (isinstance(exc, DeepFlixError) and not isinstance(exc, ProviderError)):
        return redact(str(exc))
    if isinstance(exc, ProviderError):
        said = redact(str(exc))[:500]
        if exc.transient and not isinstance(exc, ProviderBadOutput):
            advice = "it is unreachable or busy: retry later, or choose another"
        elif isinstance(exc, ProviderBadOutput):
            advice = "its answer could not be used: retry, or choose another"
        else:
            advice = "retry, or choose another"
        return f"{said} ({who} failed; {advice} {_chosen(stage)} provider)"
    return f"internal error in the {stage} stage; retry it (the operator's log has the details)"
