"""The seed's story service: POST /generate-cinematic-story and GET /health, via TestClient."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from story_fakes import Canned, anthropic_error

from deepflix.api.routes.story_service import open_app as app
from deepflix.models import Story


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app)


def test_health(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["provider"] == "builtin/planner"


def test_whole_story(client: TestClient) -> None:
    r = client.post("/generate-cinematic-story", json={
        "genre": "noir", "prompt": "A lighthouse keeper finds a message in a bottle", "num_scenes": 5, "seed": 2})
    assert r.status_code == 200, r.text
    s = Story.model_validate(r.json())
    assert len(s.scenes) == 5 and s.genre == "noir" and s.seed == 2
    again = client.post("/generate-cinematic-story", json={
        "genre": "noir", "prompt": "A lighthouse keeper finds a message in a bottle", "num_scenes": 5, "seed": 2})
    assert again.json() == r.json()  # the same request is the same story (and a cache hit)


def test_seed_body_chunk_by_chunk(client: TestClient) -> None:
    """The seed's fields only: genre, total_chunks, previous_character, previous_sequence."""
    body: dict[str, Any] = {"genre": "Sci Fi", "total_chunks": 3}
    scenes: list[dict[str, Any]] = []
    cast = None
    for _ in range(3):
        r = client.post("/generate-cinematic-story", json={**body, "previous_character": cast,
                                                          "previous_sequence": scenes or None})
        assert r.status_code == 200, r.text
        chunk = r.json()
        assert chunk["genre"] == "sci-fi" and len(chunk["scenes"]) == 4
        if cast is not None:
            assert chunk["characters"] == cast
        cast = chunk["characters"]
        scenes += chunk["scenes"]
    assert len({s["narration"] for s in scenes}) == 12
    done = client.post("/generate-cinematic-story", json={**body, "previous_character": cast,
                                                         "previous_sequence": scenes})
    assert done.status_code == 422 and "complete" in done.json()["detail"][0]["msg"]  # FastAPI's 422 shape, as the gateway's


def test_single_character_object_is_accepted(client: TestClient) -> None:
    first = client.post("/generate-cinematic-story", json={"genre": "drama", "total_chunks": 2}).json()
    r = client.post("/generate-cinematic-story", json={
        "genre": "drama", "total_chunks": 2, "previous_character": first["characters"][0],
        "previous_sequence": first["scenes"]})
    assert r.status_code == 200, r.text
    assert r.json()["characters"][0] == first["characters"][0]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"genre": "opera"}, 422, "unknown genre"),
        ({"genre": "noir", "total_chunks": 0}, 422, "total_chunks"),
        ({"genre": "noir", "num_scenes": 1000}, 422, "num_scenes"),
        ({"genre": "noir", "surprise": 1}, 422, "surprise"),
        ({"genre": "noir", "provider": "nobody/none"}, 400, "no story provider"),
    ],
)
def test_bad_requests_get_clear_errors(client: TestClient, body: dict[str, Any], status: int, words: str) -> None:
    r = client.post("/generate-cinematic-story", json=body)
    assert r.status_code == status
    assert words in r.text


def test_provider_outage_is_503_with_retry_after(client: TestClient, fake_server: Any, settings_env: Any) -> None:
    settings_env(ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=fake_server.url, DEEPFLIX_RETRIES="0")
    fake_server.push(Canned(429, anthropic_error("rate_limit_error", "slow down"), {"retry-after": "30"}))
    r = client.post("/generate-cinematic-story", json={"genre": "noir", "provider": "anthropic/claude",
                                                       "prompt": "An outage"})
    assert r.status_code == 503 and r.headers["retry-after"] == "30"
    assert "slow down" in r.json()["detail"] and "k" not in r.json()["detail"].split()


def test_missing_key_is_503_naming_the_setting(client: TestClient, settings_env: Any) -> None:
    settings_env()
    r = client.post("/generate-cinematic-story", json={"genre": "noir", "provider": "anthropic", "prompt": "x y"})
    assert r.status_code == 503 and "ANTHROPIC_API_KEY" in r.json()["detail"]
