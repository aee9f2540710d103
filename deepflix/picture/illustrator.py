"""builtin/illustrator: the offline default picture provider.

It paints each scene as a storyboard frame from the structured scene, never
from pixels of a model: the setting in depth layers (sky, far, mid, near), the
time of day and the weather as light, a grade from the genre and the
atmosphere's words, and the characters present drawn from their sheets, so the
same person looks the same in every scene. All drawing is OpenCV fills and
numpy array arithmetic; nothing loops over pixels in Python.

Output: ``image.png`` (or ``image.jpg``) and, back to front, RGBA layers that
composite exactly to the image (``layers``), so the cut can move them at
different speeds. The vignette is baked into every layer as a multiplication,
which commutes with compositing; that is why the layers still add up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..hookspecs import Register, hookimpl
from ..models import PictureRequest, PictureResult, PortraitRequest, PortraitResult
from ..provider import StageContext
from ..waterside import water_of
from .base import PictureProvider, PortraitProvider
from .illustration import landscapes, places
from .illustration import raster as R
from .illustration.appearance import appearance_for, build_for
from .illustration.figures import FigureLight, draw_figure, draw_shadow, layout
from .illustration.palette import make_look, noise_rng
from .illustration.scenery import (
    Canvas,
    depth_fog,
    draw_sky,
    finish_sky,
    new_canvas,
    rim_light,
    weather_layer,
)
from .portrait import draw_portrait

# where the horizon sits, as a fraction of the height
HORIZON = {
    "city": 0.6, "night_street": 0.5, "forest": 0.56, "coast": 0.56, "desert": 0.58, "mountains": 0.6,
    "interior": 0.55, "space": 0.7, "village": 0.6, "field": 0.56, "lighthouse": 0.58, "underwater": 0.3,
}
DRAWERS = {
    "city": places.city, "night_street": places.night_street, "interior": places.interior,
    "village": places.village, "space": places.space, "forest": landscapes.forest, "coast": landscapes.coast,
    "lighthouse": landscapes.lighthouse, "desert": landscapes.desert, "mountains": landscapes.mountains,
    "field": landscapes.field, "underwater": landscapes.underwater,
}
LAYER_NAMES = ("sky", "far", "mid", "near", "figures", "weather")


@dataclass
class Rendered:
    image: np.ndarray  # BGR uint8
    layers: list[tuple[str, np.ndarray]]  # (name, BGRA straight alpha), back to front
    figure_boxes: dict[str, list[int]] = field(default_factory=dict)
    windows: list[tuple[int, int, int, int]] = field(default_factory=list)  # indoors: x0, y0, x1, y1 of the sky seen
    light_dir: float = 1.0  # +1: the light comes from the right


def render(req: PictureRequest, vignette: float = 0.35, grain: float = 0.0) -> Rendered:
    scene, w, h = req.scene, req.width, req.height
    rng = noise_rng("illustrator", req.params.seed, req.scene_index, scene.setting, scene.location)
    look = make_look(scene.time_of_day, scene.weather, scene.setting, req.genre, scene.atmosphere,
                     scene.scene_description + " " + scene.location)
    horizon = HORIZON[scene.setting] * h * (0.55 if scene.shot == "aerial" else 1.0)
    c = new_canvas(w, h, rng, look, horizon)
    c.sun_visible = scene.setting not in ("space", "underwater")
    if scene.setting == "coast":
        c.water = water_of(scene.location)
    draw_sky(c, space=scene.setting == "space")
    DRAWERS[scene.setting](c)
    finish_sky(c, space=scene.setting == "space")
    rim = 0.85 if scene.time_of_day in ("dawn", "dusk") else 0.5 if scene.time_of_day == "day" else 0.35
    rim *= 1 - look.clouds * 0.6
    if scene.setting not in ("interior", "underwater"):
        rim_light(c.layers["mid"], c, rim)
        rim_light(c.layers["near"], c, rim * 0.8)
    R.shade_rows(c.layers["near"], 1.0, 0.72, int(h * 0.8), h)
    depth_fog(c)

    figures = R.new_layer(w, h, (0, 0, 0))
    boxes: dict[str, list[int]] = {}
    present = [ch for ch in req.characters]
    if present:
        apps = [appearance_for(ch) for ch in present]
        pose_rng = noise_rng("poses", req.params.seed, req.scene_index)
        placements = layout(scene.shot, [a.height for a in apps], w, h, c.ground_y, pose_rng)
        light = FigureLight(look, c.light_dir, tint=c.room_light, key_colour=c.key_light,
                            cast=_cast_strength(c), cast_length=_cast_length(c))
        for pl in placements:
            draw_shadow(figures, pl, light)
        for pl in placements:
            ch = present[pl.index]
            box = draw_figure(figures, apps[pl.index], build_for(ch), pl, light)
            if box is not None:
                boxes[ch.id] = box
    layers = [("sky", c.layers["sky"]), ("far", c.layers["far"]), ("mid", c.layers["mid"]),
              ("near", c.layers["near"]), ("figures", figures)]
    fx = weather_layer(c)
    if fx is not None:
        layers.append(("weather", fx))
    if vignette > 0:
        v = _vignette4(w, h, round(vignette, 3))
        for _, layer in layers:
            cv2.multiply(layer, v, dst=layer, scale=1 / 255)
    if grain > 0:
        _grain(layers, rng, grain)
    image = R.composite([layer for _, layer in layers])
    windows = [(int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1))) for x0, y0, x1, y1 in c.windows]
    return Rendered(image=image, layers=layers, figure_boxes=boxes, windows=windows, light_dir=c.light_dir)


def _cast_strength(c: Canvas) -> float:
    """How dark a figure's cast shadow is: a clear sun casts a crisp one, the moon or a lamp a
    faint one, an overcast sky none (only the contact shadow under the feet)."""
    look = c.look
    if c.indoor:
        return 0.22 if c.warm_light else 0.15
    if look.rain > 0 or look.fog > 0.3 or look.clouds > 0.7:
        return 0.0
    return (0.18 if look.night else 0.38) * (1 - look.clouds)


def _cast_length(c: Canvas) -> float:
    if c.indoor:
        return 0.45
    return float(np.clip(0.3 + (1 - c.look.sun_height) * 0.8, 0.3, 1.1))  # long when the sun is low


def _vignette4(w: int, h: int, strength: float) -> np.ndarray:
    """The vignette as a BGRA uint8 multiplier whose alpha channel is 255 (alpha untouched)."""
    v = np.round(R.vignette(w, h, strength) * 255).astype(np.uint8)
    return cv2.merge([v, v, v, np.full_like(v, 255)])


def _grain(layers: list[tuple[str, np.ndarray]], rng: np.random.Generator, amount: float) -> None:
    """The same film grain added to every layer, so it survives compositing unchanged."""
    h, w = layers[0][1].shape[:2]
    noise = (rng.standard_normal((h // 2, w // 2), dtype=np.float32) * 6 * amount)
    noise = cv2.resize(noise, (w, h), interpolation=cv2.INTER_LINEAR)
    for _, layer in layers:
        rgb = layer[..., :3].astype(np.float32) + noise[..., None]
        layer[..., :3] = np.clip(rgb, 0, 255).astype(np.uint8)


class Illustrator(PictureProvider):
    provider_id = "builtin/illustrator"
    version = "4"  # 2: animals and robots drawn as such; 3: no rain or snow in space or under water;
    # 4: a cap, a knitted hat or a pointed hat drawn as the words say (appearance.HAT_SHAPES)

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        layers: bool = Field(True, description="also write the RGBA depth layers (for parallax)")
        image_format: Literal["png", "jpeg"] = "png"
        jpeg_quality: int = Field(94, ge=50, le=100)
        png_compression: int = Field(1, ge=0, le=9, description="zlib level: 1 is fast, 9 is small")
        vignette: float = Field(0.35, ge=0, le=1)
        grain: float = Field(0.0, ge=0, le=1, description="film grain; makes PNGs much larger")

    def generate(self, request: PictureRequest, ctx: StageContext) -> PictureResult:
        o = self.options
        ctx.progress(0.0, "drawing")
        pic = render(request, vignette=o.vignette, grain=o.grain)
        out = Path(ctx.out_dir)
        # run-length strategy: flat colour areas make it both faster and smaller than zlib's default here
        png = [cv2.IMWRITE_PNG_COMPRESSION, o.png_compression, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]
        if o.image_format == "jpeg":
            name = "image.jpg"
            cv2.imwrite(str(out / name), pic.image, [cv2.IMWRITE_JPEG_QUALITY, o.jpeg_quality])
        else:
            name = "image.png"
            cv2.imwrite(str(out / name), pic.image, png)
        layer_names: list[str] = []
        if o.layers:
            for i, (label, layer) in enumerate(pic.layers):
                fname = f"layer{i}_{label}.png"
                cv2.imwrite(str(out / fname), layer, png)
                layer_names.append(fname)
        ctx.progress(1.0, "drawn")
        return PictureResult(image=name, width=request.width, height=request.height, layers=layer_names,
                             figure_boxes=pic.figure_boxes)


class IllustratorPortrait(PortraitProvider):
    """The cast stage offline: the character drawn exactly as every scene draws them
    (the illustrator's portrait is its figure), full length and face."""

    provider_id = "builtin/illustrator"
    version = "1"

    def portrait(self, request: PortraitRequest, ctx: StageContext) -> PortraitResult:
        return draw_portrait(request, Path(ctx.out_dir))


@hookimpl
def register_picture_providers(register: Register) -> None:
    register(Illustrator)


@hookimpl
def register_providers(register: Register) -> None:
    register(IllustratorPortrait)
