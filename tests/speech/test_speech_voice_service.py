"""The seed's Audio Service: POST /generate-voice and GET /health, standalone."""

from __future__ import annotations

import base64
import io
import json
import wave
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deepflix.api.routes.voice_service import open_app as app

SEED_BODY = {"text": "The lamp is lit. It is 9 p.m.", "voice_id": "default", "model_id": "eleven_multilingual_v2",
             "voice_settings": {"stability": 0.5, "similarity_boost": 0.75}}


@pytest.fixture
def client() -> TestClient:
    return TestClient(app)


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["service"] == "voice" and body["provider"] == "piper/joe" and body["status"] == "ok"


def test_generate_voice_answers_a_wav(client: TestClient) -> None:
    pytest.importorskip("piper")
    r = client.post("/generate-voice", json=SEED_BODY)
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(r.content)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        seconds = w.getnframes() / w.getframerate()
    assert float(r.headers["x-duration"]) == pytest.approx(seconds, abs=1e-3)
    assert r.headers["x-provider"] == "piper/joe"


def test_generate_voice_as_json_has_the_timings(client: TestClient) -> None:
    pytest.importorskip("piper")
    r = client.post("/generate-voice", json=SEED_BODY, headers={"Accept": "application/json"})
    body = r.json()
    assert r.status_code == 200 and body["content_type"] == "audio/wav"
    assert base64.b64decode(body["audio_base64"])[:4] == b"RIFF"
    assert [s["text"] for s in body["segments"]] == ["The lamp is lit.", "It is 9 p.m."]
    assert body["segments"][-1]["end"] == pytest.approx(body["duration"], abs=1e-3)


@pytest.mark.parametrize(
    "body",
    [{"text": ""}, {"text": "hi", "voice_id": "../../etc/passwd"}, {"text": "hi", "extra": 1},
     {"text": "hi", "voice_settings": {"stability": 2}}, {"text": "x" * 5001}],
)
def test_bad_bodies_are_422(client: TestClient, body: dict[str, Any]) -> None:
    assert client.post("/generate-voice", json=body).status_code == 422


def test_the_seeds_fields_reach_elevenlabs(client: TestClient, env: Any, wire: Any, kit: Any) -> None:
    def handle(seen: Any) -> Any:
        text = seen.json()["text"]
        n = len(text)
        al = {"characters": list(text), "character_start_times_seconds": [0.05 + 0.06 * i for i in range(n)],
              "character_end_times_seconds": [0.11 + 0.06 * i for i in range(n)]}
        audio = kit.pcm16(kit.voiced(0.2 + 0.06 * n, 22050))
        return kit.Reply(200, json.dumps({"audio_base64": base64.b64encode(audio).decode(), "alignment": al}).encode(),
                         {"Content-Type": "application/json"})

    server = wire(handle)
    env(DEEPFLIX_SPEECH_PROVIDER="elevenlabs/tts", ELEVENLABS_API_KEY="k", ELEVENLABS_BASE_URL=server.url)
    body = {**SEED_BODY, "voice_id": "AbC123", "voice_settings": {"stability": 0.2, "similarity_boost": 0.6}}
    r = client.post("/generate-voice", json=body)
    assert r.status_code == 200 and r.headers["x-provider"] == "elevenlabs/tts"
    sent = server.seen[0]
    assert sent.path.startswith("/v1/text-to-speech/AbC123/with-timestamps")
    assert sent.json()["model_id"] == "eleven_multilingual_v2"
    assert sent.json()["voice_settings"] == {"stability": 0.2, "similarity_boost": 0.6}
    assert client.get("/health").json()["provider"] == "elevenlabs/tts"


def test_a_rate_limited_provider_is_503_with_retry_after(client: TestClient, env: Any, wire: Any, kit: Any) -> None:
    server = wire(lambda s: kit.Reply(429, b'{"detail":{"message":"slow down"}}', {"Retry-After": "5"}))
    env(DEEPFLIX_SPEECH_PROVIDER="elevenlabs/tts", ELEVENLABS_API_KEY="k", ELEVENLABS_BASE_URL=server.url)
    r = client.post("/generate-voice", json={**SEED_BODY, "text": "A different text, never cached."})
    assert len(server.seen) == 1  # answered at once: the caller decides whether to wait
    assert r.status_code == 503 and r.headers["retry-after"] == "5" and "rate limiting" in r.json()["detail"]
