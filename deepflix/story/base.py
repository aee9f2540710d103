"""The story stage contract: `generate(StoryRequest, ctx) -> Story`."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from ..models import Story, StoryRequest
from ..provider import Provider, StageContext


class StoryProvider(Provider):
    stage: ClassVar[str] = "story"
    request_model = StoryRequest
    result_model = Story

    @abstractmethod
    def generate(self, request: StoryRequest, ctx: StageContext) -> Story: ...
