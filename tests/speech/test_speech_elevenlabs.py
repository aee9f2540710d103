"""ElevenLabs: the real httpx client code against a local server speaking its wire format."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import imageio_ffmpeg
import numpy as np
import pytest

from deepflix.errors import InvalidInput, NeedsKeyError, ProviderBadOutput, ProviderUnavailable
from deepflix.models import SpeechLine, SpeechRequest, Voice
from deepflix.provider import StageContext
from deepflix.runner import run_stage
from deepflix.speech.assemble import read_wav
from deepflix.speech.elevenlabs import NARRATOR_VOICE, ElevenLabsSpeech
from deepflix.storage import open_store

KEY = "sk-test-eleven"


def alignment(text: str, per_char: float = 0.06, pause: float = 0.25) -> dict[str, Any]:
    """ElevenLabs' character alignment: a time span per character of the text sent."""
    starts, ends, t = [], [], 0.05
    for i, ch in enumerate(text):
        starts.append(round(t, 3))
        t += per_char
        ends.append(round(t, 3))
        if ch in ".!?" and i + 1 < len(text):
            t += pause
    return {"characters": list(text), "character_start_times_seconds": starts, "character_end_times_seconds": ends}


def tts_server(kit: Any, *, fmt: str = "pcm", cut: float = 0.0, odd: bool = False) -> Any:
    """A handler answering /with-timestamps like ElevenLabs, with audio as long as its alignment."""

    def handle(seen: Any) -> Any:
        body = seen.json()
        al = alignment(body["text"])
        seconds = al["character_end_times_seconds"][-1] + 0.1
        sr = int(parse_qs(urlparse(seen.path).query)["output_format"][0].split("_")[1])
        audio = kit.voiced(seconds * (1 - cut), sr)
        data = kit.pcm16(audio)
        if fmt == "mp3":
            ff = imageio_ffmpeg.get_ffmpeg_exe()
            data = subprocess.run([ff, "-v", "error", "-f", "s16le", "-ar", str(sr), "-ac", "1", "-i", "pipe:0",
                                   "-f", "mp3", "pipe:1"], input=data, capture_output=True, check=True).stdout
        if odd:
            data = data[:-1]
        payload = {"audio_base64": base64.b64encode(data).decode(), "alignment": al, "normalized_alignment": al}
        import json

        return kit.Reply(200, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    return handle


@pytest.fixture
def eleven(env: Any, wire: Any) -> Any:
    def start(handler: Any, key: str | None = KEY) -> Any:
        server = wire(handler)
        env(ELEVENLABS_API_KEY=key, ELEVENLABS_BASE_URL=server.url)
        return server

    return start


def scene() -> SpeechRequest:
    return SpeechRequest(lines=[
        SpeechLine(speaker="narrator", text="The tide went out at 5 p.m. The bottle stayed."),
        SpeechLine(speaker="mara", kind="dialogue", voice=Voice(voice_id="mara-voice-01", speed=1.1),
                   text="Open it, Dr. Ellis!"),
    ])


def test_speaks_a_scene_with_the_seeds_fields_and_times_every_sentence(eleven: Any, kit: Any, tmp_path: Path) -> None:
    server = eleven(tts_server(kit))
    prov = ElevenLabsSpeech({"model_id": "eleven_turbo_v2_5", "stability": 0.3, "similarity_boost": 0.9})
    res = prov.generate(scene(), StageContext(out_dir=tmp_path))

    first, second = server.seen
    assert first.method == "POST" and first.headers["xi-api-key"] == KEY
    assert urlparse(first.path).path == f"/v1/text-to-speech/{NARRATOR_VOICE}/with-timestamps"
    assert parse_qs(urlparse(first.path).query)["output_format"] == ["pcm_22050"]
    body = first.json()
    assert body["text"] == "The tide went out at five p m. The bottle stayed."  # normalised before speech
    assert body["model_id"] == "eleven_turbo_v2_5"
    assert body["voice_settings"] == {"stability": 0.3, "similarity_boost": 0.9}
    assert urlparse(second.path).path == "/v1/text-to-speech/mara-voice-01/with-timestamps"
    assert second.json()["voice_settings"]["speed"] == 1.1
    assert second.json()["text"] == "Open it, Doctor Ellis!"

    audio, sr = read_wav(tmp_path / res.audio)
    assert sr == res.sample_rate == 22050
    assert abs(len(audio) / sr - res.duration) < 1e-3
    assert [s.text for s in res.segments] == ["The tide went out at 5 p.m.", "The bottle stayed.", "Open it, Dr. Ellis!"]
    assert [s.speaker for s in res.segments] == ["narrator", "narrator", "mara"]
    assert abs(sum(s.end - s.start for s in res.segments) - res.duration) < 0.05
    # words come from the character alignment, one per written word, in order, inside their sentence
    words = res.segments[0].words
    assert [w.text for w in words] == "The tide went out at 5 p.m.".split()
    assert all(a.end <= b.start + 1e-6 for a, b in zip(words, words[1:]))
    assert res.segments[0].start <= words[0].start and words[-1].end <= res.segments[0].end
    # "5" was said as "five": four letters at 0.06 s each
    five = words[5]
    assert five.end - five.start == pytest.approx(0.24, abs=0.01)


def test_mp3_output_is_decoded_with_the_bundled_ffmpeg(eleven: Any, kit: Any, tmp_path: Path) -> None:
    eleven(tts_server(kit, fmt="mp3"))
    res = ElevenLabsSpeech({"output_format": "mp3_44100_128"}).generate(scene(), StageContext(out_dir=tmp_path))
    audio, sr = read_wav(tmp_path / res.audio)
    assert float(np.sqrt(np.mean(audio**2))) > 0.02
    assert len(res.segments) == 3


def test_401_says_which_key_to_fix(eleven: Any, kit: Any, tmp_path: Path) -> None:
    eleven(lambda s: kit.Reply(401, b'{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}'))
    with pytest.raises(NeedsKeyError, match="ELEVENLABS_API_KEY") as info:
        ElevenLabsSpeech().generate(scene(), StageContext(out_dir=tmp_path))
    assert "Invalid API key" in str(info.value)


def test_missing_key_fails_before_any_request(eleven: Any, kit: Any, tmp_path: Path) -> None:
    server = eleven(tts_server(kit), key=None)
    with pytest.raises(NeedsKeyError, match="ELEVENLABS_API_KEY"):
        ElevenLabsSpeech().generate(scene(), StageContext(out_dir=tmp_path))
    assert server.seen == []


def test_429_is_transient_with_retry_after_and_the_runner_retries(eleven: Any, kit: Any) -> None:
    ok = tts_server(kit)
    calls = {"n": 0}

    def handle(seen: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            return kit.Reply(429, b'{"detail":{"status":"too_many_concurrent_requests","message":"busy"}}',
                             {"Retry-After": "7"})
        return ok(seen)

    eleven(handle)
    with pytest.raises(ProviderUnavailable) as info:
        ElevenLabsSpeech().generate(scene(), StageContext(out_dir=Path("/nonexistent-not-reached")))
    assert info.value.retry_after == 7 and info.value.transient
    calls["n"] = 0
    slept: list[float] = []
    oc = run_stage("speech", scene(), store=open_store(), provider=ElevenLabsSpeech({"stability": 0.42}),
                   sleep=slept.append)
    assert slept == [7.0] and oc.attempts == 2 and len(oc.result.segments) == 3


def test_500_is_transient(eleven: Any, kit: Any, tmp_path: Path) -> None:
    eleven(lambda s: kit.Reply(500, b'{"detail":"internal"}'))
    with pytest.raises(ProviderUnavailable, match="500"):
        ElevenLabsSpeech().generate(scene(), StageContext(out_dir=tmp_path))


def test_unknown_voice_is_invalid_input(eleven: Any, kit: Any, tmp_path: Path) -> None:
    eleven(lambda s: kit.Reply(404, b'{"detail":{"status":"voice_not_found","message":"A voice with the voice_id was not found."}}'))
    with pytest.raises(InvalidInput, match="mara-voice-01|JBF"):
        ElevenLabsSpeech().generate(scene(), StageContext(out_dir=tmp_path))


@pytest.mark.parametrize("kind", ["short", "odd", "hangup", "garbage"])
def test_truncated_or_garbled_audio_is_bad_output(eleven: Any, kit: Any, tmp_path: Path, kind: str) -> None:
    if kind == "short":
        handler = tts_server(kit, cut=0.5)  # half the audio its alignment promises
    elif kind == "odd":
        handler = tts_server(kit, odd=True)  # a PCM stream cut inside a sample
    elif kind == "hangup":
        full = tts_server(kit)

        def handler(seen: Any) -> Any:
            r = full(seen)
            r.cut_at = len(r.body) // 2  # the server hangs up halfway through the body
            return r
    else:
        handler = lambda s: kit.Reply(200, b'{"audio_base64": "not base64!!", "alignment": null}')  # noqa: E731
    eleven(handler)
    expected = {"short": "truncated", "odd": "truncated", "hangup": "before the audio was complete",
                "garbage": "without readable audio"}[kind]
    with pytest.raises(ProviderBadOutput, match=expected):
        ElevenLabsSpeech().generate(scene(), StageContext(out_dir=tmp_path))


def test_unreachable_service_is_transient(env: Any, tmp_path: Path) -> None:
    env(ELEVENLABS_API_KEY=KEY, ELEVENLABS_BASE_URL="http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(ProviderUnavailable, match="cannot reach ElevenLabs"):
        ElevenLabsSpeech().generate(scene(), StageContext(out_dir=tmp_path))
