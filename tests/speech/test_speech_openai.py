"""OpenAI speech: the official SDK against a local server speaking /v1/audio/speech."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deepflix.errors import InvalidInput, NeedsKeyError, ProviderBadOutput, ProviderUnavailable
from deepflix.models import SpeechLine, SpeechRequest, Voice
from deepflix.provider import StageContext
from deepflix.speech.assemble import read_wav
from deepflix.speech.openai_speech import OpenAISpeech, parse_wav
from deepflix.speech.voicefx import median_f0

KEY = "sk-test-openai"


def wav_bytes(pcm: bytes, rate: int, size: int | None = None) -> bytes:
    """A 16-bit mono WAV; ``size`` overrides the data chunk's size field."""
    n = len(pcm) if size is None else size
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + \
        b"data" + struct.pack("<I", n) + pcm


def speech_server(kit: Any, *, shorten: float = 1.0, wav_size: str = "exact") -> Any:
    """Answers like /v1/audio/speech: audio about 14 letters a second, pitch by voice."""

    def handle(seen: Any) -> Any:
        body = seen.json()
        letters = sum(c.isalnum() for c in body["input"])
        seconds = letters / 14.0 / body.get("speed", 1.0) * shorten
        f0 = {"alloy": 110.0, "nova": 220.0}.get(body["voice"], 160.0)
        rate = 24000
        pcm = kit.pcm16(kit.voiced(seconds, rate, f0=f0))
        if body["response_format"] == "pcm":
            return kit.Reply(200, pcm, {"Content-Type": "audio/pcm"})
        size = {"exact": None, "streaming": 0xFFFFFFFF, "lying": len(pcm) * 2}[wav_size]
        return kit.Reply(200, wav_bytes(pcm, rate, size), {"Content-Type": "audio/wav"})

    return handle


@pytest.fixture
def openai_at(env: Any, wire: Any) -> Any:
    def start(handler: Any, key: str | None = KEY) -> Any:
        server = wire(handler)
        env(OPENAI_API_KEY=key, OPENAI_BASE_URL=server.url + "/v1", OPENAI_TTS_MODEL="tts-test-1")
        return server

    return start


def scene() -> SpeechRequest:
    return SpeechRequest(lines=[
        SpeechLine(speaker="narrator", text="It was 1987. The lamp burned all night."),
        SpeechLine(speaker="mara", kind="dialogue", voice=Voice(voice_id="nova"), text="Who lit it?"),
    ])


@pytest.mark.parametrize("fmt", ["pcm", "wav"])
def test_each_sentence_is_a_request_and_its_length_is_its_time(openai_at: Any, kit: Any, tmp_path: Path, fmt: str) -> None:
    server = openai_at(speech_server(kit, wav_size="streaming"))
    res = OpenAISpeech({"response_format": fmt}).generate(scene(), StageContext(out_dir=tmp_path))

    assert [urlpath(s.path) for s in server.seen] == ["/v1/audio/speech"] * 3
    assert all(s.headers["authorization"] == f"Bearer {KEY}" for s in server.seen)
    bodies = [s.json() for s in server.seen]
    assert [b["input"] for b in bodies] == ["It was nineteen eighty-seven.", "The lamp burned all night.", "Who lit it?"]
    assert [b["voice"] for b in bodies] == ["alloy", "alloy", "nova"]
    assert {b["model"] for b in bodies} == {"tts-test-1"} and {b["response_format"] for b in bodies} == {fmt}

    audio, sr = read_wav(tmp_path / res.audio)
    assert abs(len(audio) / sr - res.duration) < 1e-3
    assert abs(sum(s.end - s.start for s in res.segments) - res.duration) < 0.05
    assert [s.text for s in res.segments] == ["It was 1987.", "The lamp burned all night.", "Who lit it?"]
    # the narrator's sentence and mara's line really are the voices the server sent (110 Hz, 220 Hz)
    a, b = res.segments[0], res.segments[2]
    assert median_f0(audio[int(a.start * sr): int(a.end * sr)], sr) == pytest.approx(110, rel=0.05)
    assert median_f0(audio[int(b.start * sr): int(b.end * sr)], sr) == pytest.approx(220, rel=0.05)
    assert [w.text for w in res.segments[1].words] == "The lamp burned all night.".split()


def urlpath(p: str) -> str:
    return p.split("?")[0]


def test_a_local_server_needs_no_key(openai_at: Any, kit: Any, tmp_path: Path) -> None:
    server = openai_at(speech_server(kit), key=None)
    OpenAISpeech().generate(scene(), StageContext(out_dir=tmp_path))
    assert server.seen and server.seen[0].headers["authorization"].startswith("Bearer ")


def test_no_key_and_no_server_says_what_to_set(env: Any, tmp_path: Path) -> None:
    env(OPENAI_API_KEY=None, OPENAI_BASE_URL=None)
    with pytest.raises(NeedsKeyError, match="OPENAI_API_KEY"):
        OpenAISpeech().generate(scene(), StageContext(out_dir=tmp_path))


def test_401(openai_at: Any, kit: Any, tmp_path: Path) -> None:
    openai_at(lambda s: kit.Reply(401, b'{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}',
                                  {"Content-Type": "application/json"}))
    with pytest.raises(NeedsKeyError, match="OPENAI_API_KEY"):
        OpenAISpeech().generate(scene(), StageContext(out_dir=tmp_path))


def test_429_carries_retry_after(openai_at: Any, kit: Any, tmp_path: Path) -> None:
    openai_at(lambda s: kit.Reply(429, b'{"error":{"message":"Rate limit reached","type":"requests"}}',
                                  {"Content-Type": "application/json", "Retry-After": "3"}))
    with pytest.raises(ProviderUnavailable, match="429") as info:
        OpenAISpeech().generate(scene(), StageContext(out_dir=tmp_path))
    assert info.value.retry_after == 3


def test_500_is_transient(openai_at: Any, kit: Any, tmp_path: Path) -> None:
    openai_at(lambda s: kit.Reply(500, b'{"error":{"message":"boom"}}', {"Content-Type": "application/json"}))
    with pytest.raises(ProviderUnavailable, match="500"):
        OpenAISpeech().generate(scene(), StageContext(out_dir=tmp_path))


def test_unknown_voice_is_invalid_input(openai_at: Any, kit: Any, tmp_path: Path) -> None:
    openai_at(lambda s: kit.Reply(400, b'{"error":{"message":"Invalid voice"}}', {"Content-Type": "application/json"}))
    with pytest.raises(InvalidInput, match="alloy"):
        OpenAISpeech().generate(scene(), StageContext(out_dir=tmp_path))


@pytest.mark.parametrize("case", ["lying-wav", "short-pcm", "hangup", "not-audio"])
def test_truncated_audio_is_bad_output(openai_at: Any, kit: Any, tmp_path: Path, case: str) -> None:
    fmt = "wav" if case in ("lying-wav", "not-audio") else "pcm"
    if case == "lying-wav":
        handler = speech_server(kit, wav_size="lying")  # header promises twice the data that came
    elif case == "short-pcm":
        handler = speech_server(kit, shorten=0.1)  # a tenth of the speech
    elif case == "hangup":
        full = speech_server(kit)

        def handler(seen: Any) -> Any:
            r = full(seen)
            r.cut_at = len(r.body) // 3
            return r
    else:
        handler = lambda s: kit.Reply(200, b"<html>proxy error</html>", {"Content-Type": "text/html"})  # noqa: E731
    openai_at(handler)
    expected = {"lying-wav": "truncated", "short-pcm": "truncated", "hangup": "before the audio was complete",
                "not-audio": "no WAV"}[case]
    with pytest.raises(ProviderBadOutput, match=expected):
        OpenAISpeech({"response_format": fmt}).generate(scene(), StageContext(out_dir=tmp_path))


def test_parse_wav_reads_extensible_and_streaming_headers() -> None:
    pcm = (np.arange(100, dtype="<i2") * 100).tobytes()
    audio, rate = parse_wav(wav_bytes(pcm, 16000, size=0xFFFFFFFF))
    assert rate == 16000 and len(audio) == 100 and audio[1] == pytest.approx(100 / 32768)
