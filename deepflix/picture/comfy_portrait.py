"""comfyui/workflow for the cast stage: a character's portrait sheet made on the ComfyUI server.

Two pictures from the options' ``portrait_workflow`` (a text-to-image workflow, ``txt2img_sd15``
unless set), both from the character's visual traits and the character's own seed: the full
figure from the front, and the face close-up, each on a plain background. They are composed
into the sheet ``portrait.py`` lays out (figure left, face right), so the scene workflows find
the figure where they find the illustrator's. The options are the picture provider's: a film's
picture options reach its cast too (``plugins.stage_options``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from ..comfy.server import ComfyServer
from ..hookspecs import Register, hookimpl
from ..models import CharacterSheet, PortraitRequest, PortraitResult
from ..provider import StageContext
from .base import PortraitProvider
from .comfyui import ComfyUI
from .portrait import FIGURE_SHARE, compose_sheet
from .prompts import character_fragment, model_size

BACKGROUND = "plain light grey studio background, even soft light, character reference sheet"


def figure_prompt(sheet: CharacterSheet, genre: str) -> str:
    return (f"full-figure front view of {character_fragment(sheet)}, standing, whole body from head to feet, "
            f"{BACKGROUND}, {genre} film character design")


def face_prompt(sheet: CharacterSheet, genre: str) -> str:
    return f"face close-up portrait of {character_fragment(sheet)}, looking at the camera, {BACKGROUND}, {genre} film"


class ComfyUIPortrait(PortraitProvider):
    provider_id = "comfyui/workflow"
    version = "1"
    Options = ComfyUI.Options
    # what only the scenes use: the scene workflow, its reference and exact size, the time limits
    not_in_key: ClassVar[tuple[str, ...]] = ("workflow", "reference", "width", "height", "denoise",
                                             "timeout_s", "queue_timeout_s")

    def cache_identity(self) -> dict[str, Any]:
        ident = super().cache_identity()
        for name in self.not_in_key:
            ident["options"].pop(name, None)
        return ident

    def portrait(self, request: PortraitRequest, ctx: StageContext) -> PortraitResult:
        o = self.options
        maker = ComfyUI(o.model_dump())
        w, h = request.width, request.height
        fig_w, side = int(w * FIGURE_SHARE), int(min((w - int(w * FIGURE_SHARE)) * 0.9, h * 0.9))
        seed, sheet = request.params.seed, request.character
        with ComfyServer() as server:
            template, _ = maker.prepare(server, o.portrait_workflow, request.params)
            fw, fh = model_size(fig_w, h, o.long_side)
            ctx.progress(0.0, f"{sheet.name}: full figure")
            figure = maker.make_image(server, template, positive=figure_prompt(sheet, request.genre), seed=seed,
                                      params=request.params, width=fw, height=fh, ctx=ctx)
            sw, sh = model_size(side, side, o.long_side)
            ctx.progress(0.5, f"{sheet.name}: face")
            face = maker.make_image(server, template, positive=face_prompt(sheet, request.genre),
                                    seed=(seed + 1) % 2**32, params=request.params, width=sw, height=sh, ctx=ctx)
        return compose_sheet(figure, face, request, Path(ctx.out_dir))


@hookimpl
def register_providers(register: Register) -> None:
    register(ComfyUIPortrait)
