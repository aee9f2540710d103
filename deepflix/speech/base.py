"""The speech stage contract: `generate(SpeechRequest, ctx) -> SpeechResult`."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from ..models import SpeechRequest, SpeechResult
from ..provider import Provider, StageContext


class SpeechProvider(Provider):
    stage: ClassVar[str] = "speech"
    request_model = SpeechRequest
    result_model = SpeechResult
    # the languages (BCP-47 base subtags) it speaks; a provider that declares none speaks English
    languages: ClassVar[frozenset[str]] = frozenset({"en"})

    @classmethod
    def supports_language(cls, tag: str, voices: Sequence[str] = ()) -> bool:
        """Can it speak ``tag``, with these Voice.voice_ids ("default" for its own)?"""
        from ..languages import base

        return base(tag) in cls.languages

    def check_language(self, request: SpeechRequest) -> None:
        from ..errors import InvalidInput
        from ..languages import name

        voices = [line.voice.voice_id for line in request.lines]
        if not self.supports_language(request.language, voices):
            raise InvalidInput(f"{self.provider_id} has no {name(request.language)} voice ({request.language}); "
                               "`deepflix providers` lists the speech providers (DEEPFLIX_SPEECH_PROVIDER)")

    @abstractmethod
    def generate(self, request: SpeechRequest, ctx: StageContext) -> SpeechResult: ...



