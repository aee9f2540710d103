"""The clip stage contract: `generate(ClipRequest, ctx) -> ClipResult`."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from ..models import ClipRequest, ClipResult
from ..provider import Provider, StageContext


class ClipProvider(Provider):
    stage: ClassVar[str] = "clip"
    request_model = ClipRequest
    result_model = ClipResult
    supports_references: ClassVar[bool] = False  # its workflow takes the cast's portraits for identity

    @abstractmethod
    def generate(self, request: ClipRequest, ctx: StageContext) -> ClipResult: ...
