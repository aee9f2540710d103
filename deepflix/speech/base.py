"""The speech stage contract: `generate(SpeechRequest, ctx) -> SpeechResult`."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from ..models import SpeechRequest, SpeechResult
from ..provider import Provider, StageContext


class SpeechProvider(Provider):
    stage: ClassVar[str] = "speech"
    request_model = SpeechRequest
    result_model = SpeechResult

    @abstractmethod
    def generate(self, request: SpeechRequest, ctx: StageContext) -> SpeechResult: ...
