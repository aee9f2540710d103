"""`language` at submission: POST /api/movies and the seed's stage endpoints take a BCP-47
tag; a bad tag is a 422, and a language the chosen providers cannot make is refused at
once (nothing queued), not after the pictures are drawn."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

_spec = importlib.util.spec_from_file_location("lang_api_gateway", Path(__file__).parents[1] / "api" / "conftest.py")
assert _spec and _spec.loader
gateway = importlib.util.module_from_spec(_spec)
sys.modules["lang_api_gateway"] = gateway  # the gateway harness of tests/api (its dataclass needs its module)
_spec.loader.exec_module(gateway)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # the operator opens the LLM story and speech providers to users (the default allows the server's own)
    yield from gateway.make_gateway(tmp_path_factory.mktemp("lang-gw"), deepflix_user_providers="story=*;speech=*")


def count(gw: Any) -> int:
    return int(gw.client.get("/api/movies", headers=gw.h("alice")).json()["total"])


def test_a_film_in_spanish_is_queued_with_its_language(gw: Any) -> None:
    r = gw.client.post("/api/movies", json={"prompt": "Una abuela y su gato 🐈", "language": "es-es",
                                           "providers": {"story": "openai/chat", "speech": "openai/speech"}},
                       headers=gw.h("alice"))
    assert r.status_code == 202, r.text
    from deepflix import db
    from deepflix.db.models import Movie

    with db.session_scope() as s:
        movie = s.get(Movie, r.json()["id"])
        assert movie is not None and movie.request["story"]["language"] == "es-ES"


@pytest.mark.parametrize("body,words", [
    ({"prompt": "a film", "language": "klingon"}, "BCP-47"),
    ({"prompt": "a film", "language": "ja"}, "builtin/planner writes English only"),
    ({"prompt": "a film", "language": "ja", "providers": {"story": "openai/chat", "speech": "piper/joe"}},
     "piper/joe has no Japanese voice"),
])
def test_a_language_it_cannot_make_is_refused_at_submission(gw: Any, body: dict[str, Any], words: str) -> None:
    before = count(gw)
    r = gw.client.post("/api/movies", json=body, headers=gw.h("alice"))
    assert r.status_code == 422 and words in r.text, r.text
    assert count(gw) == before


def test_the_story_service_passes_the_language_to_the_provider() -> None:
    from deepflix.api.routes.story_service import open_app

    c = TestClient(open_app)
    r = c.post("/generate-cinematic-story", json={"prompt": "un faro", "language": "es"})
    assert r.status_code == 422 and "English only" in r.text and "openai/chat" in r.text
    assert c.post("/generate-cinematic-story", json={"prompt": "un faro", "language": "??"}).status_code == 422


def test_the_voice_service_refuses_a_language_its_voice_cannot_speak() -> None:
    from deepflix.api.routes.voice_service import open_app

    r = TestClient(open_app).post("/generate-voice", json={"text": "こんにちは。", "language": "ja"})
    assert r.status_code == 422 and "no Japanese voice" in r.text, r.text
