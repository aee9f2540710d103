"""The seed's Flow API image endpoint: ``POST /generateImages`` and ``GET /health``.

``POST /generateImages`` takes the seed's body: one character (``character_data``:
base_traits, facial_features, clothing, distinctive_features), the scenes
(``sequence_data``: scene_description, atmosphere, duration) and
``generation_params`` (seed, sampler, steps, cfg_scale). Each scene is drawn by
the configured picture provider (DEEPFLIX_PICTURE_PROVIDER: builtin/illustrator
offline, comfyui/workflow, diffusers/local) with the character in it, so the
character looks the same in every picture.

The seed's scenes carry no setting, time of day or weather; they are read from
the description's words ("lighthouse", "at night", "in the rain"), and a caller
may give them explicitly (optional ``setting``, ``time_of_day``, ``weather``,
``shot`` per scene; ``genre``, ``aspect`` and ``resolution`` for the request).

The answer is JSON: one entry per scene with the picture as base64 PNG (or JPEG
with ``?format=jpeg``), its size, its duration and where the character is in it.
Base64 keeps the answer self-contained, as the seed's clients expect one
response per call; results are cached like every stage, so asking again is
cheap. Run alone: ``uvicorn deepflix.api.routes.images_service:app``; the
gateway mounts the same router behind its API keys.
"""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any, Literal

import cv2
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from ...core import config
from ...models import (
    MAX_SCENES,
    Aspect,
    CharacterSheet,
    GenerationParams,
    Genre,
    PictureRequest,
    Resolution,
    SceneVisual,
    Setting,
    Shot,
    TimeOfDay,
    Weather,
    frame_size,
)
from ...plugins import get_provider
from ...runner import run_stage
from ...storage import open_store
from ..service import stage_app
from ..stage_pool import run_stage_call
from ..stages import secured_app_getattr

router = APIRouter(tags=["images"])


class CharacterData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("The hero", max_length=100)
    base_traits: str = Field("", max_length=1000)
    facial_features: str = Field("", max_length=1000)
    clothing: str = Field("", max_length=1000)
    distinctive_features: str = Field("", max_length=1000)


class SequenceItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scene_description: str = Field(min_length=1, max_length=2000)
    atmosphere: str = Field("", max_length=500)
    duration: float = Field(8.0, gt=0, le=600)
    setting: Setting | None = None
    time_of_day: TimeOfDay | None = None
    weather: Weather | None = None
    shot: Shot | None = None


class GenerateImages(BaseModel):
    """The seed's body, plus optional look settings."""

    model_config = ConfigDict(extra="forbid")
    character_data: CharacterData | None = None
    sequence_data: list[SequenceItem] = Field(min_length=1, max_length=MAX_SCENES)
    generation_params: GenerationParams = Field(default_factory=GenerationParams)
    genre: Genre = "drama"
    aspect: Aspect = "16:9"
    resolution: Resolution = "720p"


class ImageOut(BaseModel):
    index: int
    content_type: str
    image_base64: str
    width: int
    height: int
    duration: float
    scene: SceneVisual
    figure_boxes: dict[str, list[int]]
    key: str  # the artifact's store key (same body -> same key)


class ImagesOut(BaseModel):
    provider: str
    images: list[ImageOut]


# words -> structured scene, first match wins (more specific places first)
_SETTINGS: tuple[tuple[str, str], ...] = (
    ("underwater|reef|seabed|ocean floor|diver", "underwater"), ("lighthouse", "lighthouse"),
    ("spaceship|space station|outer space|planet|orbit|asteroid|galaxy|starship|in space", "space"),
    ("alley|street|sidewalk|avenue|neon", "night_street"),
    ("room|kitchen|office|bedroom|inside|indoors|library|tavern|bar|hall|study|cabin|apartment|house", "interior"),
    ("forest|woods|jungle|grove|trees", "forest"), ("desert|dunes|sand|canyon|mesa", "desert"),
    ("mountain|peak|summit|cliffside|glacier|ridge|alps", "mountains"),
    ("beach|shore|coast|sea|ocean|harbou?r|pier|bay|waves|boat", "coast"),
    ("village|hamlet|cottage|farmhouse|town square", "village"),
    ("field|meadow|farm|prairie|pasture|hill", "field"), ("city|skyline|downtown|rooftop|skyscraper", "city"),
)
_TIMES = (("night|midnight|moon|dark", "night"), ("dawn|sunrise|daybreak|morning", "dawn"),
          ("dusk|sunset|evening|twilight", "dusk"))
_WEATHER = (("storm|thunder|lightning", "storm"), ("rain|drizzle|downpour", "rain"), ("fog|mist|haze", "fog"),
            ("snow|blizzard|frost", "snow"), ("wind|gale|gust", "wind"), ("cloud|overcast|grey sky", "cloudy"))
_SHOTS = (("close-up|close up|closeup|face|portrait", "close"), ("aerial|from above|bird", "aerial"),
          ("over the shoulder", "over_the_shoulder"), ("landscape|vista|panorama|establishing", "wide"))


def _pick(table: tuple[tuple[str, str], ...], text: str, default: str) -> str:
    for pattern, value in table:
        if re.search(rf"\b(?:{pattern})", text):
            return value
    return default


def scene_visual(item: SequenceItem, with_character: bool) -> SceneVisual:
    text = f"{item.scene_description} {item.atmosphere}".lower()
    return SceneVisual(
        scene_description=item.scene_description, atmosphere=item.atmosphere or "calm",
        setting=item.setting or _pick(_SETTINGS, text, "field"),
        time_of_day=item.time_of_day or _pick(_TIMES, text, "day"),
        weather=item.weather or _pick(_WEATHER, text, "clear"),
        shot=item.shot or _pick(_SHOTS, text, "medium" if with_character else "wide"),
        characters=["main"] if with_character else [],
    )


def _draw(body: GenerateImages, fmt: str) -> ImagesOut:
    provider = get_provider("picture", config.settings.provider_for("picture"))
    store = open_store()
    width, height = frame_size(body.aspect, body.resolution)
    sheet = None
    if body.character_data is not None:
        cd = body.character_data
        sheet = CharacterSheet(id="main", name=cd.name, base_traits=cd.base_traits, facial_features=cd.facial_features,
                               clothing=cd.clothing, distinctive_features=cd.distinctive_features)
    images = []
    for i, item in enumerate(body.sequence_data):
        scene = scene_visual(item, sheet is not None)
        req = PictureRequest(scene=scene, characters=[sheet] if sheet else [], genre=body.genre, width=width,
                             height=height, params=body.generation_params, scene_index=i)
        outcome = run_stage("picture", req, store=store, provider=provider, retries=1, scene=i)
        path = store.local_path(outcome.key, outcome.result.image)
        if fmt == "jpeg":
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            data, ctype = bytes(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1]), "image/jpeg"
        elif path.suffix.lower() == ".png":
            data, ctype = path.read_bytes(), "image/png"
        else:
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            data, ctype = bytes(cv2.imencode(".png", img)[1]), "image/png"
        images.append(ImageOut(index=i, content_type=ctype, image_base64=base64.b64encode(data).decode(),
                               width=outcome.result.width, height=outcome.result.height, duration=item.duration,
                               scene=scene, figure_boxes=outcome.result.figure_boxes, key=outcome.key))
    return ImagesOut(provider=provider.provider_id, images=images)


@router.post(
    "/generateImages",
    summary="Draw a sequence of scenes with one character (the seed's Flow API)",
    response_model=ImagesOut,
    responses={422: {"description": "Bad body."},
               502: {"description": "The picture provider failed (e.g. a ComfyUI node error)."},
               503: {"description": "The picture provider is unreachable or busy (Retry-After)."}},
)
async def generate_images(
    body: GenerateImages,
    request: Request,
    fmt: Annotated[Literal["png", "jpeg"], Query(alias="format", description="image encoding in the answer")] = "png",
) -> ImagesOut:
    # a picture costs about what a few requests do; each scene is one picture
    return await run_stage_call(request, "images", 2.0 * len(body.sequence_data), _draw, body, fmt)


@router.get("/health", summary="Is the picture provider ready (no paid call)")
async def health() -> dict[str, Any]:
    provider = get_provider("picture", config.settings.provider_for("picture"))
    info = await run_in_threadpool(provider.health)
    return {"status": "ok" if info.get("ok") else "degraded", "service": "images", **info}


# without auth: for tests, and for mounting behind something that checks keys
open_app = stage_app("images", router)

__getattr__ = secured_app_getattr("images", router)  # `uvicorn deepflix.api.routes.images_service:app`: with keys
