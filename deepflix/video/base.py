"""The cut stage contract: `generate(CutRequest, ctx) -> CutResult`."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from ..models import CutRequest, CutResult
from ..provider import Provider, StageContext


class CutProvider(Provider):
    stage: ClassVar[str] = "cut"
    request_model = CutRequest
    result_model = CutResult

    @abstractmethod
    def generate(self, request: CutRequest, ctx: StageContext) -> CutResult: ...
