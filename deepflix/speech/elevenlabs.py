"""ElevenLabs text-to-speech (the seed's voice service), over its HTTP API with httpx.

One request per line: ``POST {base}/v1/text-to-speech/{voice_id}/with-timestamps``
with the seed's fields (text, model_id, voice_settings {stability,
similarity_boost}); the answer carries the audio (raw PCM by default, or MP3,
decoded with the bundled ffmpeg) and a per-character alignment, which gives
every sentence's and word's time. The line is cut between sentences and laid
out by ``render_scene`` like every other voice.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import re
import subprocess
import time
from typing import Any, ClassVar, Literal

import httpx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..core import config
from ..errors import InvalidInput, NeedsKeyError, ProviderBadOutput, ProviderError, ProviderTimeout, ProviderUnavailable
from ..hookspecs import Register, hookimpl
from ..models import SpeechLine, SpeechRequest, SpeechResult, Voice
from ..provider import StageContext
from .assemble import Chunk, render_scene
from .base import SpeechProvider
from .timing import Sentence, words_from_chars

NARRATOR_VOICE = "JBFqnCBsd6RMkjVDRZzb"  # "George", the API reference's example voice
# premade voices for characters whose story named none (chosen by character id)
CHARACTER_VOICES = (
    "21m00Tcm4TlvDq8ikWAM",  # Rachel
    "pNInz6obpgDQGcFmaJgB",  # Adam
    "EXAVITQu4vr4xnSDxMaL",  # Bella
    "ErXwobaYiN019PkySvjV",  # Antoni
    "MF3mGyEYCl7XYWbV9V6O",  # Elli
    "TxGEqnHWrfWFTfGW9XjX",  # Josh
    "AZnzlk1XvdvUeBnXmlld",  # Domi
    "VR6AewLTigWG4xSOukaG",  # Arnold
)
_VOICE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def retry_after(value: str | None) -> float | None:
    """Retry-After: seconds, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, when.timestamp() - time.time()) if when else None


def _detail(resp: httpx.Response) -> str:
    try:
        d = resp.json().get("detail", "")
    except (ValueError, AttributeError):
        return resp.text[:200]
    if isinstance(d, dict):
        return str(d.get("message") or d.get("status") or d)
    return str(d)[:300]


def decode_mp3(data: bytes, sample_rate: int) -> np.ndarray:
    """MP3 bytes -> float mono at sample_rate, with the ffmpeg inside imageio-ffmpeg."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-xerror", "-i", "pipe:0",
           "-f", "s16le", "-ac", "1", "-ar", str(sample_rate), "pipe:1"]
    proc = subprocess.run(cmd, input=data, capture_output=True, timeout=120, check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise ProviderBadOutput(f"elevenlabs sent audio ffmpeg cannot decode: {proc.stderr.decode()[-200:].strip()}")
    return np.frombuffer(proc.stdout[: len(proc.stdout) // 2 * 2], "<i2").astype(np.float32) / 32768.0


class ElevenLabsSpeech(SpeechProvider):
    provider_id: ClassVar[str] = "elevenlabs/tts"
    version: ClassVar[str] = "1"
    needs_key: ClassVar[bool] = True
    key_env_var: ClassVar[str | None] = "ELEVENLABS_API_KEY"

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        model_id: str = "eleven_multilingual_v2"
        stability: float = Field(0.5, ge=0, le=1)
        similarity_boost: float = Field(0.75, ge=0, le=1)
        output_format: Literal["pcm_16000", "pcm_22050", "pcm_24000", "pcm_44100", "mp3_22050_32",
                               "mp3_44100_64", "mp3_44100_128"] = "pcm_22050"
        timeout: float = Field(120.0, gt=0, le=600)
        sentence_pause: float = Field(0.3, ge=0, le=3)
        line_pause: float = Field(0.55, ge=0, le=3)

    options: Options

    # eleven_multilingual_v2's 29 languages; the v2.5 models (flash, turbo) add Hungarian,
    # Norwegian and Vietnamese; the English models (monolingual_v1, turbo_v2, flash_v2) speak English
    languages: ClassVar[frozenset[str]] = frozenset(
        "en ja zh de hi fr ko pt it es id nl tr fil pl sv bg ro ar cs el fi hr ms sk da ta uk ru hu no vi".split())
    ENGLISH_MODELS: ClassVar[frozenset[str]] = frozenset({"eleven_monolingual_v1", "eleven_turbo_v2", "eleven_flash_v2"})

    def check_language(self, request: SpeechRequest) -> None:
        super().check_language(request)
        from ..languages import base

        if base(request.language) != "en" and self.options.model_id in self.ENGLISH_MODELS:
            raise InvalidInput(f"ElevenLabs model {self.options.model_id} speaks English only; the film is in "
                               f"{request.language}: use model_id eleven_multilingual_v2 or eleven_flash_v2_5")

    def get_key(self) -> str:
        value = config.settings.elevenlabs_api_key
        key = value.get_secret_value() if value is not None else ""
        if not key:
            raise NeedsKeyError("elevenlabs/tts needs an API key: set ELEVENLABS_API_KEY in the environment or .env")
        return key

    def voice_id(self, line: SpeechLine) -> str:
        vid = line.voice.voice_id
        if vid == "default":
            if line.speaker == "narrator":
                return NARRATOR_VOICE
            import hashlib

            return CHARACTER_VOICES[int(hashlib.sha256(line.speaker.encode()).hexdigest()[:8], 16) % len(CHARACTER_VOICES)]
        return vid

    def check_inputs(self, request: BaseModel) -> None:
        assert isinstance(request, SpeechRequest)
        self.check_language(request)
        for line in request.lines:
            vid = self.voice_id(line)
            if not _VOICE_ID.fullmatch(vid):
                raise InvalidInput(f"elevenlabs voice_id {vid!r} is not an ElevenLabs voice id")

    def health(self) -> dict[str, Any]:
        has_key = config.settings.elevenlabs_api_key is not None
        return {"provider": self.provider_id, "ok": has_key, "base_url": config.settings.elevenlabs_base_url,
                **({} if has_key else {"detail": "set ELEVENLABS_API_KEY"})}

    # ------------------------------------------------------------------ the API

    def tts(self, text: str, voice_id: str, speed: float = 1.0,
            language: str = "en") -> tuple[np.ndarray, int, dict[str, Any] | None]:
        """One request: (audio float mono, sample rate, character alignment or None)."""
        fmt = self.options.output_format
        sample_rate = int(fmt.split("_")[1])
        settings: dict[str, Any] = {"stability": self.options.stability, "similarity_boost": self.options.similarity_boost}
        if abs(speed - 1.0) > 1e-3:
            settings["speed"] = round(min(1.2, max(0.7, speed)), 3)  # the API's range
        body: dict[str, Any] = {"text": text, "model_id": self.options.model_id, "voice_settings": settings}
        if language != "en" and "v2_5" in self.options.model_id:  # only the v2.5 models take a language to enforce
            from ..languages import base as base_tag

            body["language_code"] = base_tag(language)
        base = config.settings.elevenlabs_base_url.rstrip("/")
        headers = {"xi-api-key": self.get_key(), "Accept": "application/json"}
        try:
            with httpx.Client(base_url=base, timeout=self.options.timeout) as client:
                resp = client.post(f"/v1/text-to-speech/{voice_id}/with-timestamps", params={"output_format": fmt},
                                   json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(f"ElevenLabs at {base} did not answer in {self.options.timeout:.0f}s") from exc
        except httpx.RemoteProtocolError as exc:  # the body stopped short of its Content-Length
            raise ProviderBadOutput(f"ElevenLabs closed the connection before the audio was complete: {exc}") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"cannot reach ElevenLabs at {base}: {exc}") from exc
        self._raise_for_status(resp, voice_id)
        try:
            data = resp.json()
            audio_bytes = base64.b64decode(data["audio_base64"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise ProviderBadOutput(f"ElevenLabs answered without readable audio: {resp.text[:120]!r}") from exc
        if fmt.startswith("pcm_"):
            if len(audio_bytes) % 2 or not audio_bytes:
                raise ProviderBadOutput(f"ElevenLabs sent truncated PCM ({len(audio_bytes)} bytes)")
            audio = np.frombuffer(audio_bytes, "<i2").astype(np.float32) / 32768.0
        else:
            audio = decode_mp3(audio_bytes, sample_rate)
        alignment = data.get("alignment") if isinstance(data, dict) else None
        if isinstance(alignment, dict) and alignment.get("character_end_times_seconds"):
            spoken_until = float(alignment["character_end_times_seconds"][-1])
            if len(audio) / sample_rate < spoken_until - 0.1:
                raise ProviderBadOutput(
                    f"ElevenLabs audio is truncated: {len(audio) / sample_rate:.2f}s of {spoken_until:.2f}s spoken"
                )
        return audio, sample_rate, alignment if isinstance(alignment, dict) else None

    def _raise_for_status(self, resp: httpx.Response, voice_id: str) -> None:
        code = resp.status_code
        if code < 400:
            return
        detail = _detail(resp)
        if code == 401:
            raise NeedsKeyError(f"ElevenLabs rejected the API key (401: {detail}): set a valid ELEVENLABS_API_KEY")
        if code == 429:
            raise ProviderUnavailable(f"ElevenLabs is rate limiting (429: {detail})",
                                      retry_after=retry_after(resp.headers.get("retry-after")))
        if code >= 500:
            raise ProviderUnavailable(f"ElevenLabs failed ({code}: {detail})",
                                      retry_after=retry_after(resp.headers.get("retry-after")))
        if code in (400, 404, 422):
            raise InvalidInput(f"ElevenLabs refused voice {voice_id!r} / model {self.options.model_id!r} ({code}: {detail})")
        raise ProviderError(f"ElevenLabs answered {code}: {detail}")

    # ------------------------------------------------------------------ a scene

    def synth_line(self, line: SpeechLine, voice: Voice, sents: list[Sentence], language: str = "en") -> list[Chunk]:
        spoken = [s.spoken for s in sents]
        text = " ".join(spoken)
        audio, sr, align = self.tts(text, self.voice_id(line), voice.speed, language)
        offsets = np.cumsum([0] + [len(s) + 1 for s in spoken[:-1]])
        chars = align.get("characters") if align else None
        starts = np.asarray(align.get("character_start_times_seconds", []) if align else [], dtype=np.float64)
        ends = np.asarray(align.get("character_end_times_seconds", []) if align else [], dtype=np.float64)
        exact = chars is not None and len(chars) == len(text) == len(starts) == len(ends)
        total = len(audio) / sr
        # where each sentence's sound begins and ends in the line's audio
        spans = []
        for off, s in zip(offsets, spoken):
            if exact:
                spans.append((float(starts[off]), float(ends[off + len(s) - 1])))
            else:  # no usable alignment: by characters
                spans.append((total * off / len(text), total * (off + len(s)) / len(text)))
        cuts = [0.0] + [(a[1] + b[0]) / 2 for a, b in zip(spans, spans[1:])] + [total]
        chunks = []
        for i, (sent, off) in enumerate(zip(sents, offsets)):
            a, b = int(round(cuts[i] * sr)), int(round(cuts[i + 1] * sr))
            words = words_from_chars(sent, int(off), starts - cuts[i], ends - cuts[i]) if exact else None
            chunks.append(Chunk(audio[a:b], sr, words))
        return chunks

    def generate(self, request: SpeechRequest, ctx: StageContext) -> SpeechResult:
        # real voices differ already: no pitch or formant shifting on top of them
        def synth(line: SpeechLine, voice: Voice, sents: list[Sentence]) -> list[Chunk]:
            return self.synth_line(line, voice, sents, request.language)

        return render_scene(request, ctx, synth, sentence_pause=self.options.sentence_pause,
                            line_pause=self.options.line_pause, voice_of=lambda line: line.voice)


@hookimpl
def register_speech_providers(register: Register) -> None:
    register(ElevenLabsSpeech)
