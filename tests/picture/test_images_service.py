"""The seed's POST /generateImages and GET /health, as a standalone service."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from deepflix.api.routes.images_service import open_app as app  # noqa: E402

BODY = {
    "character_data": {"base_traits": "old lighthouse keeper", "facial_features": "grey beard",
                       "clothing": "yellow raincoat, dark trousers", "distinctive_features": "a brass spyglass"},
    "sequence_data": [
        {"scene_description": "The keeper climbs the lighthouse at dusk", "atmosphere": "hopeful", "duration": 6},
        {"scene_description": "A bottle washes up on the beach in the rain", "atmosphere": "mysterious", "duration": 8},
    ],
    "generation_params": {"seed": 11, "sampler": "euler", "steps": 20, "cfg_scale": 7},
    "resolution": "360p",
}


def test_generate_images_returns_one_picture_per_scene() -> None:
    with TestClient(app) as client:
        r = client.post("/generateImages", json=BODY)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["provider"] == "builtin/illustrator" and len(body["images"]) == 2
        first, second = body["images"]
        assert (first["scene"]["setting"], first["scene"]["time_of_day"]) == ("lighthouse", "dusk")
        assert (second["scene"]["setting"], second["scene"]["weather"]) == ("coast", "rain")
        img = cv2.imdecode(np.frombuffer(base64.b64decode(first["image_base64"]), np.uint8), cv2.IMREAD_COLOR)
        assert img.shape == (360, 640, 3) and first["content_type"] == "image/png" and first["duration"] == 6
        assert "main" in first["figure_boxes"]
        again = client.post("/generateImages?format=jpeg", json=BODY).json()["images"][0]
        assert again["content_type"] == "image/jpeg" and again["key"] == first["key"]  # cached
        assert client.get("/health").json()["status"] == "ok"


@pytest.mark.parametrize("patch", [{"sequence_data": []}, {"generation_params": {"sampler": "nope"}},
                                   {"generation_params": {"steps": 0}}, {"unknown": 1}])
def test_bad_bodies_are_422(patch: dict[str, object]) -> None:
    with TestClient(app) as client:
        assert client.post("/generateImages", json={**BODY, **patch}).status_code == 422
