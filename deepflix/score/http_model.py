"""http/musicgen: MusicGen through the Cog / Replicate predictions API.

Two real deployments of Meta's MusicGen speak this format:

* a Cog container run locally or on a GPU box (``docker run -p 5000:5000
  r8.im/meta/musicgen``): ``POST {MUSIC_API_URL}/predictions`` with
  ``{"input": {...}}`` answers when done, the audio inline as a data URI;
* Replicate's hosted API (``MUSIC_API_URL=https://api.replicate.com``):
  ``POST /v1/predictions`` with the model version, ``Authorization: Bearer
  $REPLICATE_API_TOKEN`` and ``Prefer: wait``; if it is not done in time the
  prediction is polled at its ``urls.get`` until it succeeds, and the output is
  a URL to download.

The input is meta/musicgen's: prompt, duration (whole seconds), model_version,
output_format, normalization_strategy, seed. The prompt describes the genre,
its instruments and the film's mood arc from the cues. Whatever comes back
(WAV, or MP3 through ffmpeg) is made exactly ``request.duration`` long at 48 kHz
stereo: stretched when within 3 %, looped with crossfades when shorter,
trimmed when longer, faded in and out.
"""

from __future__ import annotations

import base64
import io
import math
import os
import subprocess
import time
from typing import Any, Literal, cast
from urllib.parse import urlparse

import httpx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..core import config
from ..errors import InvalidInput, NeedsKeyError, ProviderBadOutput, ProviderTimeout, ProviderUnavailable
from ..hookspecs import hookimpl
from ..models import ScoreRequest, ScoreResult
from ..provider import StageContext
from . import dsp
from .base import ScoreProvider
from .composition.styles import instrument_name, style_for

RATE = 48000
MUSICGEN_VERSION = "671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb"  # meta/musicgen on Replicate
GENRE_WORDS = {
    "noir": "smoky late-night film noir jazz", "sci-fi": "spacious ambient science-fiction synth score",
    "fantasy": "magical orchestral fantasy score", "horror": "unsettling dark horror score, low drones",
    "comedy": "light, bouncy comedy score", "romance": "tender romantic film score",
    "adventure": "heroic orchestral adventure score", "drama": "emotional cinematic drama score",
}


class HttpMusicGen(ScoreProvider):
    provider_id = "http/musicgen"
    version = "1"
    key_env_var = "REPLICATE_API_TOKEN"  # needed for Replicate's hosted API only

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        api: Literal["auto", "cog", "replicate"] = "auto"  # auto: replicate when the URL's host is replicate's
        model_version: str = "stereo-large"
        replicate_version: str = MUSICGEN_VERSION
        max_seconds: int = Field(300, ge=1, le=300)  # meta/musicgen generates 1-300 s; longer films loop it
        timeout_s: float = Field(900.0, gt=0)
        poll_s: float = Field(2.0, gt=0)

    @property
    def opts(self) -> HttpMusicGen.Options:
        return cast(HttpMusicGen.Options, self.options)

    # ------------------------------------------------------------------ request

    def _base(self) -> str:
        url = config.settings.music_api_url
        if not url:
            raise NeedsKeyError(
                f"{self.provider_id} needs a MusicGen server: set MUSIC_API_URL (a Cog container such as "
                "http://localhost:5000, or https://api.replicate.com)"
            )
        return url.rstrip("/")

    def _mode(self, base: str) -> str:
        if self.opts.api != "auto":
            return self.opts.api
        return "replicate" if (urlparse(base).hostname or "").endswith("replicate.com") else "cog"

    def build_input(self, request: ScoreRequest) -> dict[str, Any]:
        return {
            "prompt": prompt_for(request),
            "duration": int(min(self.opts.max_seconds, max(1, math.ceil(request.duration)))),
            "model_version": self.opts.model_version,
            "output_format": "wav",
            "normalization_strategy": "loudness",
            "seed": int(request.seed),
        }

    def generate(self, request: ScoreRequest, ctx: StageContext) -> ScoreResult:
        base = self._base()
        mode = self._mode(base)
        body: dict[str, Any] = {"input": self.build_input(request)}
        headers = {"Content-Type": "application/json"}
        if mode == "replicate":
            headers["Authorization"] = f"Bearer {self.get_key()}"
            headers["Prefer"] = "wait"
            body["version"] = self.opts.replicate_version
        elif os.environ.get(self.key_env_var or ""):  # a Cog server behind a gateway may want one too
            headers["Authorization"] = f"Bearer {os.environ[self.key_env_var or '']}"
        deadline = time.monotonic() + self.opts.timeout_s
        with httpx.Client(timeout=httpx.Timeout(self.opts.timeout_s, connect=10.0)) as client:
            url = f"{base}/v1/predictions" if mode == "replicate" else f"{base}/predictions"
            pred = self._json(self._send(client, "POST", url, headers=headers, json=body))
            while pred.get("status") in ("starting", "processing", None) and mode == "replicate":
                get = (pred.get("urls") or {}).get("get")
                if not get:
                    raise ProviderBadOutput(f"{self.provider_id}: prediction is {pred.get('status')!r} with no urls.get")
                if time.monotonic() > deadline:
                    raise ProviderTimeout(f"{self.provider_id}: prediction not done after {self.opts.timeout_s:.0f}s")
                time.sleep(self.opts.poll_s)
                pred = self._json(self._send(client, "GET", get, headers={"Authorization": headers["Authorization"]}))
            status = pred.get("status")
            if status != "succeeded":
                raise ProviderBadOutput(f"{self.provider_id}: prediction {status}: {pred.get('error') or 'no error given'}")
            audio = self._output_bytes(client, pred.get("output"), headers)
        x = fit_duration(decode_audio(audio, self.provider_id), request.duration)
        dsp.write_wav(ctx.out_dir / "score.wav", RATE, x)
        style = style_for(request.genre)
        return ScoreResult(audio="score.wav", sample_rate=RATE, duration=request.duration,
                           instruments=[instrument_name(p) for p in style.parts if p.role != "high"])

    # ------------------------------------------------------------------ transport

    def _send(self, client: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response:
        try:
            r = client.request(method, url, **kw)
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(f"{self.provider_id}: {method} {url} timed out: {exc}") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(
                f"{self.provider_id}: cannot reach the music server at {url} ({exc}); check MUSIC_API_URL"
            ) from exc
        if r.status_code < 400:
            return r
        detail = _detail(r)
        retry = _retry_after(r)
        if r.status_code in (401, 403):
            raise NeedsKeyError(f"{self.provider_id}: the server refused the key ({r.status_code}: {detail}); "
                                f"check {self.key_env_var}")
        if r.status_code in (408, 409, 425, 429) or r.status_code >= 500:
            raise ProviderUnavailable(f"{self.provider_id}: server answered {r.status_code}: {detail}", retry_after=retry)
        raise InvalidInput(f"{self.provider_id}: server rejected the request ({r.status_code}): {detail}")

    def _json(self, r: httpx.Response) -> dict[str, Any]:
        try:
            data = r.json()
        except ValueError as exc:
            raise ProviderBadOutput(f"{self.provider_id}: answer is not JSON: {r.text[:120]!r}") from exc
        if not isinstance(data, dict):
            raise ProviderBadOutput(f"{self.provider_id}: answer is not a prediction object: {str(data)[:120]!r}")
        return data

    def _output_bytes(self, client: httpx.Client, output: Any, headers: dict[str, str]) -> bytes:
        if isinstance(output, list) and output:
            output = output[0]
        if not isinstance(output, str) or not output:
            raise ProviderBadOutput(f"{self.provider_id}: prediction succeeded without an audio output: {output!r}")
        if output.startswith("data:"):
            try:
                return base64.b64decode(output.split(",", 1)[1], validate=True)
            except (IndexError, ValueError) as exc:
                raise ProviderBadOutput(f"{self.provider_id}: output data URI is not valid base64") from exc
        auth = {"Authorization": headers["Authorization"]} if "Authorization" in headers else {}
        same_host = urlparse(output).hostname == urlparse(self._base()).hostname
        return self._send(client, "GET", output, headers=auth if same_host else {}).content


def _detail(r: httpx.Response) -> str:
    try:
        data = r.json()
        return str(data.get("detail") or data.get("error") or data)[:200] if isinstance(data, dict) else str(data)[:200]
    except ValueError:
        return r.text[:200] or r.reason_phrase


def _retry_after(r: httpx.Response) -> float | None:
    value = r.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def prompt_for(request: ScoreRequest) -> str:
    """Genre, instruments and the mood arc, in the words MusicGen was trained on."""
    style = style_for(request.genre)
    instruments = ", ".join(instrument_name(p) for p in style.parts if p.role in ("melody", "harmony", "pad", "bass"))
    arc: list[str] = []
    for cue in sorted(request.cues, key=lambda c: c.start):
        word = cue.mood if cue.intensity >= 0.35 else f"quiet {cue.mood}"
        if cue.intensity >= 0.75:
            word = f"intense {cue.mood}"
        if not arc or arc[-1] != word:
            arc.append(word)
    tempo = round(style.tempo)
    return (f"Instrumental {GENRE_WORDS[request.genre]}, {instruments}, around {tempo} bpm. "
            f"Mood: {' then '.join(arc[:8])}. Ends on a resolving final chord. No vocals.")


def decode_audio(data: bytes, who: str = "http/musicgen") -> np.ndarray:
    """Stereo float32 at 48 kHz from WAV bytes (or any format ffmpeg reads)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        try:
            rate, x = dsp.read_wav(io.BytesIO(data))
        except ValueError as exc:
            raise ProviderBadOutput(f"{who}: returned WAV is unreadable: {exc}") from exc
        x = x[:, None] if x.ndim == 1 else x[:, :2]
        x = np.repeat(x, 2, axis=1) if x.shape[1] == 1 else x
        x = dsp.resample(x, rate, RATE)
    else:
        import imageio_ffmpeg

        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", "pipe:0", "-f", "f32le", "-ac", "2",
               "-ar", str(RATE), "pipe:1"]
        proc = subprocess.run(cmd, input=data, capture_output=True, timeout=120, check=False)
        if proc.returncode != 0 or not proc.stdout:
            msg = proc.stderr.decode(errors="replace").strip().splitlines()
            raise ProviderBadOutput(f"{who}: returned audio cannot be decoded: {msg[-1] if msg else 'empty'}")
        x = np.frombuffer(proc.stdout, dtype="<f4").reshape(-1, 2)
    if len(x) < RATE // 10 or not np.isfinite(x).all():
        raise ProviderBadOutput(f"{who}: returned audio is {len(x) / RATE:.2f}s long or not finite")
    return np.ascontiguousarray(x, dtype=np.float32)


def fit_duration(x: np.ndarray, duration: float, xfade_s: float = 2.0) -> np.ndarray:
    """Exactly round(duration * 48000) samples: stretch a near miss, loop a short
    clip with equal-power crossfades, trim a long one; fade 20 ms in, 3 s out."""
    n = int(round(duration * RATE))
    ratio = n / len(x)
    if 0.97 <= ratio <= 1.03:
        x = dsp.resample(x, len(x), n) if len(x) != n else x
    elif ratio > 1.03:
        xf = min(int(xfade_s * RATE), len(x) // 4)
        out = np.zeros((n + len(x), 2), dtype=np.float32)
        ramp = np.sin(np.linspace(0, np.pi / 2, xf, dtype=np.float32))[:, None]
        pos = 0
        while pos < n:
            piece = x.copy()
            if pos > 0:
                piece[:xf] *= ramp  # fade in over the previous copy's fading tail
            piece[-xf:] *= ramp[::-1]
            out[pos:pos + len(piece)] += piece
            pos += len(x) - xf
        x = out
    x = np.array(x[:n], dtype=np.float32)
    if len(x) < n:
        x = np.concatenate([x, np.zeros((n - len(x), 2), np.float32)])
    fade_in, fade_out = min(n, int(0.02 * RATE)), min(n, int(min(3.0, duration / 3) * RATE))
    x[:fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)[:, None]
    x[n - fade_out:] *= (0.5 + 0.5 * np.cos(np.linspace(0, np.pi, fade_out, dtype=np.float32)))[:, None]
    peak = dsp.true_peak(x)
    if peak > 10 ** (-1.0 / 20):  # keep the score itself under -1 dBTP, as the composer does
        x *= np.float32(10 ** (-1.0 / 20) / peak)
    return x


@hookimpl
def register_score_providers(register):  # type: ignore[no-untyped-def]
    register(HttpMusicGen)
