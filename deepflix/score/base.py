"""The score stage contract: `generate(ScoreRequest, ctx) -> ScoreResult`."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from ..models import ScoreRequest, ScoreResult
from ..provider import Provider, StageContext


class ScoreProvider(Provider):
    stage: ClassVar[str] = "score"
    request_model = ScoreRequest
    result_model = ScoreResult

    @abstractmethod
    def generate(self, request: ScoreRequest, ctx: StageContext) -> ScoreResult: ...
