"""http/musicgen against a local server speaking the Cog / Replicate predictions API.

The server runs on 127.0.0.1 in a thread; the provider's real httpx client talks
to it over a socket. It plays a Cog container (``POST /predictions`` answering
with the audio inline) and Replicate (``POST /v1/predictions`` with a bearer
token, ``starting`` -> poll ``urls.get`` -> ``succeeded`` with an output URL),
and misbehaves on request: 429 with Retry-After, 500, HTML, a failed
prediction, undecodable audio.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from deepflix.core import config
from deepflix.errors import InvalidInput, NeedsKeyError, ProviderBadOutput, ProviderUnavailable
from deepflix.models import ScoreCue, ScoreRequest
from deepflix.plugins import get_provider
from deepflix.provider import StageContext
from deepflix.score import dsp
from deepflix.score.http_model import HttpMusicGen, fit_duration, prompt_for

TOKEN = "r8_test_token"


def musicgen_wav(seconds: float, rate: int = 32000) -> bytes:
    """What MusicGen returns: 32 kHz stereo 16-bit, a chord swelling and fading."""
    t = np.arange(int(seconds * rate)) / rate
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) / 3
    x = 0.5 * chord * (0.7 + 0.3 * np.sin(2 * np.pi * 0.25 * t))
    buf = io.BytesIO()
    wavfile.write(buf, rate, (np.stack([x, x * 0.9], 1) * 32767).astype(np.int16))
    return buf.getvalue()


class Server:
    def __init__(self) -> None:
        self.mode = "ok"
        self.seconds: float | None = None  # audio length to return; None: what was asked for
        self.requests: list[tuple[str, str, dict, dict]] = []  # method, path, headers, body
        self.polls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def _send(self, code: int, body: bytes, ctype: str = "application/json", extra: dict | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, code: int, data: object, extra: dict | None = None) -> None:
                self._send(code, json.dumps(data).encode(), extra=extra)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(("POST", self.path, dict(self.headers), body))
                mode = outer.mode
                if mode == "429":
                    return self._json(429, {"detail": "Request was throttled."}, {"Retry-After": "7"})
                if mode == "500":
                    return self._json(500, {"detail": "CUDA out of memory"})
                if mode == "html":
                    return self._send(200, b"<html>gateway</html>", "text/html")
                if mode == "invalid":
                    return self._json(422, {"detail": [{"loc": ["body", "input", "duration"], "msg": "too long"}]})
                seconds = outer.seconds or body["input"]["duration"]
                if self.path == "/predictions":  # Cog: synchronous, audio inline
                    if mode == "failed":
                        return self._json(200, {"status": "failed", "error": "prompt blocked", "output": None})
                    audio = b"not audio at all" if mode == "garbage_audio" else musicgen_wav(seconds)
                    uri = "data:audio/wav;base64," + base64.b64encode(audio).decode()
                    return self._json(200, {"status": "succeeded", "output": uri, "input": body["input"]})
                if self.path == "/v1/predictions":  # Replicate: needs the token, answers starting
                    if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                        return self._json(401, {"detail": "Invalid token."})
                    outer.audio = musicgen_wav(seconds)
                    port = self.server.server_address[1]
                    return self._json(201, {"id": "p1", "status": "starting", "output": None,
                                            "urls": {"get": f"http://127.0.0.1:{port}/v1/predictions/p1"}})
                return self._json(404, {"detail": "no such route"})

            def do_GET(self) -> None:
                outer.requests.append(("GET", self.path, dict(self.headers), {}))
                port = self.server.server_address[1]
                if self.path == "/v1/predictions/p1":
                    outer.polls += 1
                    if outer.polls < 2:
                        return self._json(200, {"id": "p1", "status": "processing", "output": None,
                                                "urls": {"get": f"http://127.0.0.1:{port}/v1/predictions/p1"}})
                    return self._json(200, {"id": "p1", "status": "succeeded",
                                            "output": f"http://127.0.0.1:{port}/files/out.wav"})
                if self.path == "/files/out.wav":
                    return self._send(200, outer.audio, "audio/wav")
                return self._json(404, {"detail": "not found"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.audio = b""
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    srv = Server()
    monkeypatch.setenv("MUSIC_API_URL", srv.url)
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    config.reload_settings()
    yield srv
    srv.close()
    monkeypatch.delenv("MUSIC_API_URL")
    config.reload_settings()


REQ = ScoreRequest(genre="noir", seed=5, duration=12.5, cues=[
    ScoreCue(start=0, duration=6, mood="mysterious", intensity=0.2),
    ScoreCue(start=6, duration=6.5, mood="tense", intensity=0.9)])


def exact(path: Path, seconds: float) -> np.ndarray:
    rate, x = dsp.read_wav(path)
    assert rate == 48000 and x.shape == (round(seconds * 48000), 2)
    return x


def test_cog_server(server: Server, tmp_path: Path) -> None:
    prov = get_provider("score", "http/musicgen")
    res = prov.generate(REQ, StageContext(out_dir=tmp_path))
    x = exact(tmp_path / res.audio, 12.5)
    assert dsp.true_peak_db(x) <= -1.0 and np.abs(x[-10:]).max() < 1e-3  # faded out at the very end
    method, path, headers, body = server.requests[0]
    assert (method, path) == ("POST", "/predictions") and "Authorization" not in headers
    inp = body["input"]
    assert inp["duration"] == 13 and inp["output_format"] == "wav" and inp["seed"] == 5
    assert inp["model_version"] == "stereo-large"
    assert "noir" in inp["prompt"] and "quiet mysterious then intense tense" in inp["prompt"]
    assert "muted trumpet" in inp["prompt"] and "No vocals" in inp["prompt"]


def test_replicate_polls_and_downloads(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prov = HttpMusicGen({"api": "replicate", "poll_s": 0.01})
    with pytest.raises(NeedsKeyError, match="REPLICATE_API_TOKEN"):
        prov.generate(REQ, StageContext(out_dir=tmp_path))
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    res = prov.generate(REQ, StageContext(out_dir=tmp_path))
    exact(tmp_path / res.audio, 12.5)
    post = [r for r in server.requests if r[0] == "POST"][-1]
    assert post[1] == "/v1/predictions" and post[3]["version"] == prov.options.replicate_version
    assert post[2]["Prefer"] == "wait"
    assert [r[1] for r in server.requests if r[0] == "GET"] == ["/v1/predictions/p1"] * 2 + ["/files/out.wav"]
    monkeypatch.setenv("REPLICATE_API_TOKEN", "wrong")
    with pytest.raises(NeedsKeyError, match="refused the key"):
        prov.generate(REQ, StageContext(out_dir=tmp_path))


def test_short_and_long_answers_become_the_film_length(server: Server, tmp_path: Path) -> None:
    prov = get_provider("score", "http/musicgen")
    for seconds in (5.0, 30.0, 12.4):  # looped, trimmed, stretched
        server.seconds = seconds
        res = prov.generate(REQ, StageContext(out_dir=tmp_path))
        x = exact(tmp_path / res.audio, 12.5)
        # a looped clip crossfades: no hole where the copies join
        frames = np.sqrt((x[: int(9.5 * 48000)] ** 2).reshape(-1, 2400, 2).mean(axis=(1, 2)))
        assert frames[1:].min() > 0.02, seconds


@pytest.mark.parametrize(("mode", "error", "match"), [
    ("429", ProviderUnavailable, "429"),
    ("500", ProviderUnavailable, "CUDA out of memory"),
    ("html", ProviderBadOutput, "not JSON"),
    ("failed", ProviderBadOutput, "prompt blocked"),
    ("garbage_audio", ProviderBadOutput, "cannot be decoded"),
    ("invalid", InvalidInput, "422"),
])
def test_faults_map_to_our_errors(server: Server, tmp_path: Path, mode: str, error: type, match: str) -> None:
    server.mode = mode
    with pytest.raises(error, match=match) as info:
        get_provider("score", "http/musicgen").generate(REQ, StageContext(out_dir=tmp_path))
    if mode == "429":
        assert info.value.retry_after == 7.0 and info.value.transient
    assert not list(tmp_path.iterdir())


def test_unset_url_and_dead_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MUSIC_API_URL", raising=False)
    config.reload_settings()
    with pytest.raises(NeedsKeyError, match="MUSIC_API_URL"):
        get_provider("score", "http/musicgen").generate(REQ, StageContext(out_dir=tmp_path))
    srv = Server()
    url = srv.url
    srv.close()  # nothing listens there now
    monkeypatch.setenv("MUSIC_API_URL", url)
    config.reload_settings()
    try:
        with pytest.raises(ProviderUnavailable, match="cannot reach"):
            get_provider("score", "http/musicgen").generate(REQ, StageContext(out_dir=tmp_path))
    finally:
        monkeypatch.delenv("MUSIC_API_URL")
        config.reload_settings()


def test_prompt_and_fit_helpers() -> None:
    p = prompt_for(REQ.model_copy(update={"genre": "fantasy"}))
    assert "fantasy" in p and "harp" in p and "flute" in p
    x = np.ones((48000, 2), np.float32) * 0.5
    y = fit_duration(x, 3.3)
    assert y.shape == (round(3.3 * 48000), 2) and y[0, 0] == 0.0 and abs(y[-1, 0]) < 1e-6
