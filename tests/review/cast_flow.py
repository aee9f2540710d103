"""Shared steps of the cast tests: a picture provider that conditions on the portraits, as
ComfyUI's reference workflows do (the offline illustrator's picture with each character's
portrait stamped into its top-left corner, so a scene's picture, and its key, follows the
portraits of the characters in it), and a finished film with one character per scene."""

from __future__ import annotations

import copy
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import httpx
from PIL import Image
from review_flow import wait_status
from web_harness import Gateway

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
    with plugins.registered(sys.modules[__name__], "casttest"):
        yield PROVIDER


FILM = {"prompt": "Two sisters keep a lighthouse and quarrel over a letter.", "num_sequences": 2,
        "resolution": "360p", "seed": 11}
OWNER = "admin"  # (user "ops") an admin key may pick any provider: here one that conditions on the portraits


def image(size: tuple[int, int], colour: tuple[int, int, int] = (20, 180, 60), fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format=fmt)
    return buf.getvalue()


def solo(story: dict[str, Any]) -> dict[str, Any]:
    """The story with its first character in scene 1 alone, the others in scene 2 (their lines kept with them)."""
    st = copy.deepcopy(story)
    ids = [c["id"] for c in st["characters"]]
    for sc, present in zip(st["scenes"], ([ids[0]], ids[1:]), strict=True):
        sc["characters"] = present
        sc["dialogue"] = [d for d in sc.get("dialogue") or [] if d["speaker"] in present]
    return st


def made_film(gw: Gateway) -> dict[str, Any]:
    """A finished 2-scene film of OWNER's, drawn by the reference provider, its first character in scene 1 only."""
    auth = gw.auth(OWNER)
    r = httpx.post(f"{gw.base_url}/api/movies", json={**FILM, "review": "story", "providers": {"picture": PROVIDER}},
                   headers=auth)
    assert r.status_code == 202, r.text
    mid = r.json()["id"]
    story = wait_status(gw, OWNER, mid, "awaiting_review", 90)["story"]
    assert story["characters"], story
    r = httpx.put(f"{gw.base_url}/api/movies/{mid}/story", json={"story": solo(story), "note": "one each"}, headers=auth)
    assert r.status_code == 200, r.text
    httpx.post(f"{gw.base_url}/api/movies/{mid}/render", headers=auth).raise_for_status()
    return {"id": mid, "movie": wait_status(gw, OWNER, mid, "succeeded")}
