"""The video stages: `segment` (one scene's picture, encoded) and `cut` (the film)."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from ..models import CutRequest, CutResult, SegmentRequest, SegmentResult
from ..provider import Provider, StageContext


class CutProvider(Provider):
    stage: ClassVar[str] = "cut"
    request_model = CutRequest
    result_model = CutResult

    @abstractmethod
    def generate(self, request: CutRequest, ctx: StageContext) -> CutResult: ...


class SegmentProvider(Provider):
    stage: ClassVar[str] = "segment"
    request_model = SegmentRequest
    result_model = SegmentResult

    @abstractmethod
    def generate(self, request: SegmentRequest, ctx: StageContext) -> SegmentResult: ...
