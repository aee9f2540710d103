"""Extension points: a package adds providers by implementing these hooks
and naming its module under the ``deepflix`` entry-point group."""

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("deepflix")
hookimpl = HookimplMarker("deepflix")


@hookspec
def register_story_providers(register):  # type: ignore[no-untyped-def]
    "Register story providers: register(ProviderClass)"


@hookspec
def register_picture_providers(register):  # type: ignore[no-untyped-def]
    "Register picture providers: register(ProviderClass)"


@hookspec
def register_speech_providers(register):  # type: ignore[no-untyped-def]
    "Register speech providers: register(ProviderClass)"


@hookspec
def register_score_providers(register):  # type: ignore[no-untyped-def]
    "Register score (music) providers: register(ProviderClass)"


@hookspec
def register_segment_providers(register):  # type: ignore[no-untyped-def]
    "Register segment providers (one scene's encoded video): register(ProviderClass)"


@hookspec
def register_cut_providers(register):  # type: ignore[no-untyped-def]
    "Register cut (video) providers: register(ProviderClass)"


@hookspec
def register_providers(register):  # type: ignore[no-untyped-def]
    "Register providers of any stage, a plugin's own stage too: register(ProviderClass), routed by its ``stage``"
