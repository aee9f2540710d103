"""OpenAI speech (``POST /v1/audio/speech``) through the official SDK.

``OPENAI_BASE_URL`` points it at any server that speaks the same API (a local
Kokoro/Piper/XTTS server, LocalAI, vLLM...); such servers need no key. The API
returns no timings, so each sentence is its own request: its audio's length is
its time, and words are spread over it by their letters.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..core import config
from ..errors import InvalidInput, NeedsKeyError, ProviderBadOutput, ProviderError, ProviderTimeout, ProviderUnavailable
from ..hookspecs import Register, hookimpl
from ..models import SpeechLine, SpeechRequest, SpeechResult, Voice
from ..provider import StageContext
from .assemble import Chunk, render_scene
from .base import SpeechProvider
from .elevenlabs import retry_after
from .timing import Sentence

NARRATOR_VOICE = "alloy"
CHARACTER_VOICES = ("nova", "onyx", "shimmer", "echo", "fable", "coral", "sage", "ash")
PCM_RATE = 24000  # response_format "pcm": 24 kHz, 16-bit little-endian, mono


def parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV -> (float mono, rate). Streaming servers write 0xFFFFFFFF (or 0) as the
    data size; then the data is the rest. A size larger than what arrived means it was cut short."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ProviderBadOutput(f"the speech server sent no WAV (starts {data[:12]!r})")
    pos, rate, channels, bits = 12, 0, 1, 16
    while pos + 8 <= len(data):
        cid, size = data[pos: pos + 4], struct.unpack("<I", data[pos + 4: pos + 8])[0]
        body = pos + 8
        if cid == b"fmt " and body + 16 <= len(data):
            fmt, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body: body + 16])
            if fmt not in (1, 0xFFFE) or bits != 16:
                raise ProviderBadOutput(f"the speech server sent WAV format {fmt} with {bits}-bit samples")
        elif cid == b"data":
            if not rate:
                raise ProviderBadOutput("the speech server's WAV has data before its format")
            rest = len(data) - body
            if size in (0, 0xFFFFFFFF):
                size = rest - rest % (2 * channels)
            if size > rest:
                raise ProviderBadOutput(f"the speech server's WAV is truncated: {rest} of {size} bytes")
            pcm = np.frombuffer(data[body: body + size - size % (2 * channels)], "<i2").astype(np.float32) / 32768.0
            return pcm.reshape(-1, channels).mean(axis=1), rate
        pos = body + size + (size & 1)
    raise ProviderBadOutput("the speech server's WAV has no audio data")


class OpenAISpeech(SpeechProvider):
    provider_id: ClassVar[str] = "openai/speech"
    version: ClassVar[str] = "1"
    needs_key: ClassVar[bool] = True
    key_env_var: ClassVar[str | None] = "OPENAI_API_KEY"

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        model: str | None = Field(None, description="None: OPENAI_TTS_MODEL")
        response_format: Literal["pcm", "wav"] = "pcm"
        instructions: str | None = Field(None, max_length=2000, description="tone, for gpt-4o-mini-tts")
        timeout: float = Field(120.0, gt=0, le=600)
        sentence_pause: float = Field(0.3, ge=0, le=3)
        line_pause: float = Field(0.55, ge=0, le=3)

    options: Options

    # the languages OpenAI's speech models follow (Whisper's list); the text itself says which
    languages: ClassVar[frozenset[str]] = frozenset(
        "af ar hy az be bs bg ca zh hr cs da nl en et fi fr gl de el he hi hu is id it ja kn kk ko lv lt mk ms mr mi "
        "ne no fa pl pt ro ru sr sk sl es sw sv tl ta th tr uk ur vi cy".split())

    def cache_identity(self) -> dict[str, Any]:
        return {**super().cache_identity(), "model": self.model}

    @property
    def model(self) -> str:
        return self.options.model or config.settings.openai_tts_model

    def get_key(self) -> str:
        s = config.settings
        key = s.openai_api_key.get_secret_value() if s.openai_api_key is not None else ""
        if key:
            return key
        if s.openai_base_url:  # a local server: no key needed, the SDK still wants a string
            return "not-needed"
        raise NeedsKeyError("openai/speech needs an API key: set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)")

    def voice_id(self, line: SpeechLine) -> str:
        vid = line.voice.voice_id
        if vid != "default":
            return vid
        if line.speaker == "narrator":
            return NARRATOR_VOICE
        return CHARACTER_VOICES[int(hashlib.sha256(line.speaker.encode()).hexdigest()[:8], 16) % len(CHARACTER_VOICES)]

    def check_inputs(self, request: BaseModel) -> None:
        assert isinstance(request, SpeechRequest)
        self.check_language(request)
        for line in request.lines:
            if not 0 < len(self.voice_id(line)) <= 100:
                raise InvalidInput(f"openai voice {line.voice.voice_id!r} is not a voice name")

    def health(self) -> dict[str, Any]:
        s = config.settings
        ok = s.openai_api_key is not None or bool(s.openai_base_url)
        return {"provider": self.provider_id, "ok": ok, "base_url": s.openai_base_url or "https://api.openai.com/v1",
                **({} if ok else {"detail": "set OPENAI_API_KEY or OPENAI_BASE_URL"})}

    def client(self) -> Any:
        try:
            import openai
        except ImportError as exc:
            raise ProviderError("openai/speech needs the openai package: pip install 'deepflix[llm]'") from exc
        # no SDK retries: the runner retries transient faults with its own backoff
        return openai.OpenAI(api_key=self.get_key(), base_url=config.settings.openai_base_url or None,
                             max_retries=0, timeout=self.options.timeout)

    def speak(self, client: Any, text: str, voice: str, speed: float) -> tuple[np.ndarray, int]:
        import openai

        kw: dict[str, Any] = {"model": self.model, "voice": voice, "input": text,
                              "response_format": self.options.response_format}
        if abs(speed - 1.0) > 1e-3:
            kw["speed"] = speed
        if self.options.instructions:
            kw["instructions"] = self.options.instructions
        where = config.settings.openai_base_url or "api.openai.com"
        try:
            data = client.audio.speech.create(**kw).content
        except openai.AuthenticationError as exc:
            raise NeedsKeyError(f"{where} rejected the API key (401): set a valid OPENAI_API_KEY") from exc
        except openai.RateLimitError as exc:
            raise ProviderUnavailable(f"{where} is rate limiting (429): {exc.message}",
                                      retry_after=retry_after(exc.response.headers.get("retry-after"))) from exc
        except openai.APITimeoutError as exc:
            raise ProviderTimeout(f"{where} did not answer in {self.options.timeout:.0f}s") from exc
        except openai.APIConnectionError as exc:
            cause = repr(exc.__cause__)
            if "RemoteProtocolError" in cause or "IncompleteRead" in cause:
                raise ProviderBadOutput(f"{where} closed the connection before the audio was complete") from exc
            raise ProviderUnavailable(f"cannot reach the speech server at {where}: {exc.message}") from exc
        except openai.APIStatusError as exc:
            code = exc.status_code
            if code >= 500:
                raise ProviderUnavailable(f"{where} failed ({code}): {exc.message}",
                                          retry_after=retry_after(exc.response.headers.get("retry-after"))) from exc
            if code in (400, 404, 422):
                raise InvalidInput(f"{where} refused voice {voice!r} / model {self.model!r} ({code}): {exc.message}") from exc
            raise ProviderError(f"{where} answered {code}: {exc.message}") from exc
        if self.options.response_format == "wav":
            audio, rate = parse_wav(data)
        else:
            if len(data) % 2 or not data:
                raise ProviderBadOutput(f"{where} sent truncated PCM ({len(data)} bytes)")
            audio, rate = np.frombuffer(data, "<i2").astype(np.float32) / 32768.0, PCM_RATE
        # a cut-short answer is far shorter than the text: people say under 25 letters a second
        letters = sum(c.isalnum() for c in text)
        if len(audio) / rate < letters / (25.0 * max(speed, 1.0)) * 0.5:
            raise ProviderBadOutput(f"{where} sent {len(audio) / rate:.2f}s of audio for {letters} letters: truncated")
        return audio, rate

    def synth_line(self, line: SpeechLine, voice: Voice, sents: list[Sentence]) -> list[Chunk]:
        client = self.client()
        vid = self.voice_id(line)
        chunks = []
        for sent in sents:
            audio, rate = self.speak(client, sent.spoken, vid, voice.speed)
            chunks.append(Chunk(audio, rate, None))  # words: by letters, over the trimmed sound
        return chunks

    def generate(self, request: SpeechRequest, ctx: StageContext) -> SpeechResult:
        return render_scene(request, ctx, self.synth_line, sentence_pause=self.options.sentence_pause,
                            line_pause=self.options.line_pause, voice_of=lambda line: line.voice)


@hookimpl
def register_speech_providers(register: Register) -> None:
    register(OpenAISpeech)
