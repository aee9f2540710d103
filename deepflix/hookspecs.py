"""Extension points: a package adds providers by implementing these hooks
and naming its module under the ``deepflix`` entry-point group."""

from collections.abc import Callable
from typing import Any

from pluggy import HookimplMarker, HookspecMarker

# what every hook is handed: register(ProviderClass). type[Any], not type[Provider]: provider.py
# sits beside this module in the layers, not below it
Register = Callable[[type[Any]], None]

hookspec = HookspecMarker("deepflix")
hookimpl = HookimplMarker("deepflix")


@hookspec
def register_story_providers(register: Register) -> None:
    "Register story providers: register(ProviderClass)"


@hookspec
def register_picture_providers(register: Register) -> None:
    "Register picture providers: register(ProviderClass)"


@hookspec
def register_speech_providers(register: Register) -> None:
    "Register speech providers: register(ProviderClass)"


@hookspec
def register_score_providers(register: Register) -> None:
    "Register score (music) providers: register(ProviderClass)"


@hookspec
def register_segment_providers(register: Register) -> None:
    "Register segment providers (one scene's encoded video): register(ProviderClass)"


@hookspec
def register_cut_providers(register: Register) -> None:
    "Register cut (video) providers: register(ProviderClass)"


@hookspec
def register_providers(register: Register) -> None:
    "Register providers of any stage, a plugin's own stage too: register(ProviderClass), routed by its ``stage``"
