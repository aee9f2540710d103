"""The picture stage contract: `generate(PictureRequest, ctx) -> PictureResult`."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from ..models import PictureRequest, PictureResult
from ..provider import Provider, StageContext


class PictureProvider(Provider):
    stage: ClassVar[str] = "picture"
    request_model = PictureRequest
    result_model = PictureResult

    @abstractmethod
    def generate(self, request: PictureRequest, ctx: StageContext) -> PictureResult: ...
