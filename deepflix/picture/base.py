"""The picture stage contract: `generate(PictureRequest, ctx) -> PictureResult`, and the
cast stage's: `generate(PortraitRequest, ctx) -> PortraitResult`, made by the same providers."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from ..models import PictureRequest, PictureResult, PortraitRequest, PortraitResult
from ..provider import Provider, StageContext


class PictureProvider(Provider):
    stage: ClassVar[str] = "picture"
    request_model = PictureRequest
    result_model = PictureResult
    supports_references: ClassVar[bool] = False  # conditions a scene on the cast's portraits

    @abstractmethod
    def generate(self, request: PictureRequest, ctx: StageContext) -> PictureResult: ...


class PortraitProvider(Provider):
    """The cast stage: a character's portrait sheet, made once and used as the reference
    in every scene. A portrait the user brought (``request.source``) is taken as it is,
    framed to the sheet's size, by every provider alike."""

    stage: ClassVar[str] = "cast"
    request_model = PortraitRequest
    result_model = PortraitResult

    def generate(self, request: PortraitRequest, ctx: StageContext) -> PortraitResult:
        if request.source is not None:
            from .portrait import frame_user_portrait

            return frame_user_portrait(ctx.path(request.source), request, ctx.out_dir)
        return self.portrait(request, ctx)

    @abstractmethod
    def portrait(self, request: PortraitRequest, ctx: StageContext) -> PortraitResult: ...
