"""A picture provider for the cast tests that conditions on the portraits, as ComfyUI's
reference workflows do: the offline illustrator's picture with each character's
portrait stamped into its top-left corner, so a scene's picture (and key) follows the
portraits of the characters in it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2

from deepflix import plugins
from deepflix.hookspecs import hookimpl
from deepflix.models import PictureRequest, PictureResult
from deepflix.picture.illustrator import Illustrator
from deepflix.provider import StageContext

PROVIDER = "casttest/ref-illustrator"


class RefIllustrator(Illustrator):
    provider_id = PROVIDER
    supports_references = True

    def generate(self, request: PictureRequest, ctx: StageContext) -> PictureResult:
        res = super().generate(request, ctx)
        path = Path(ctx.out_dir) / res.image
        pic = cv2.imread(str(path), cv2.IMREAD_COLOR)
        side = max(16, pic.shape[0] // 4)
        for j, ref in enumerate(request.references):
            thumb = cv2.resize(cv2.imread(str(ctx.path(ref)), cv2.IMREAD_COLOR), (side, side))
            pic[:side, j * side:(j + 1) * side] = thumb
        cv2.imwrite(str(path), pic)
        return res


@hookimpl
def register_picture_providers(register):  # type: ignore[no-untyped-def]
    register(RefIllustrator)


@contextmanager
def registered() -> Iterator[str]:
    mod = sys.modules[__name__]
    plugins.pm.register(mod, "casttest")
    plugins.reset()
    try:
        yield PROVIDER
    finally:
        plugins.pm.unregister(mod)
        plugins.reset()
