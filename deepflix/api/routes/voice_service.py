"""The seed's Audio Service: ``POST /generate-voice`` and ``GET /health``.

``POST /generate-voice`` takes the seed's body (text, voice_id, model_id,
voice_settings {stability, similarity_boost}) and speaks it with the configured
speech provider (DEEPFLIX_SPEECH_PROVIDER: piper/joe offline, elevenlabs/tts,
openai/speech, espeak/ng); model_id and voice_settings reach the providers that
have them (ElevenLabs). The answer is the audio itself, ``audio/wav`` (16-bit
mono), with ``X-Duration``/``X-Sample-Rate``/``X-Provider`` headers; ask with
``Accept: application/json`` (or ``?format=json``) for JSON instead: the WAV
in base64 plus the start and end of every sentence and word.

Results are cached like every stage, so the same body is answered from the
store. Run alone: ``uvicorn deepflix.api.routes.voice_service:app``; the
gateway mounts the same router behind its API keys.
"""

from __future__ import annotations

import base64
import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ...core import config
from ...languages import normalize_tag
from ...models import Segment, SpeechLine, SpeechRequest, Voice
from ...plugins import get_provider, get_provider_class
from ...runner import run_stage
from ...storage import open_store
from ..service import stage_app
from ..settings import api_settings
from ..stage_pool import run_stage_call
from ..stages import secured_app_getattr

router = APIRouter(tags=["voice"])


class VoiceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stability: float = Field(0.5, ge=0, le=1)
    similarity_boost: float = Field(0.75, ge=0, le=1)


class GenerateVoice(BaseModel):
    """The seed's body."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=5000, pattern=r"\w")
    # a name, never a path: a caller must not reach files on the server
    voice_id: str = Field("default", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    model_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_.:-]{1,100}$")
    voice_settings: VoiceSettings | None = None
    language: str = Field("en", min_length=2, max_length=35, description="BCP-47 tag of the text's language")

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        return normalize_tag(v)


class VoiceAudio(BaseModel):
    """The JSON answer (Accept: application/json)."""

    provider: str
    content_type: Literal["audio/wav"] = "audio/wav"
    audio_base64: str
    sample_rate: int
    duration: float
    segments: list[Segment]


def _provider(body: GenerateVoice) -> Any:
    cls = get_provider_class("speech", config.settings.provider_for("speech"))
    fields = cls.Options.model_fields
    opts: dict[str, Any] = {}
    if body.model_id:
        if "model_id" in fields:
            opts["model_id"] = body.model_id
        elif "model" in fields:
            opts["model"] = body.model_id
    if body.voice_settings:
        opts.update({k: v for k, v in body.voice_settings.model_dump().items() if k in fields})
    return cls(opts)


def _speak(body: GenerateVoice) -> tuple[bytes, Any, str]:
    provider = _provider(body)
    request = SpeechRequest(lines=[SpeechLine(speaker="narrator", voice=Voice(voice_id=body.voice_id), text=body.text)],
                            language=body.language)
    store = open_store()
    # no retries here: a rate-limited or failing provider answers 503 with its Retry-After at once,
    # and the caller decides whether to wait (a request thread should not sleep on it)
    outcome = run_stage("speech", request, store=store, provider=provider, retries=0)
    return store.local_path(outcome.key, outcome.result.audio).read_bytes(), outcome.result, provider.provider_id


@router.post(
    "/generate-voice",
    summary="Speak text (the seed's Audio Service)",
    response_class=Response,
    responses={
        200: {"content": {"audio/wav": {}, "application/json": {"schema": VoiceAudio.model_json_schema()}},
              "description": "The speech as a WAV, or as JSON with timings (Accept: application/json)."},
        422: {"description": "Bad body, or a voice/model the provider does not have."},
        503: {"description": "The voice provider is down, rate limited (Retry-After) or has no API key."},
    },
)
async def generate_voice(
    body: GenerateVoice,
    request: Request,
    accept: Annotated[str, Header()] = "audio/wav",
    fmt: Annotated[Literal["wav", "json"] | None, Query(alias="format", description="overrides Accept")] = None,
) -> Response:
    s = getattr(request.app.state, "api_settings", None) or api_settings()
    if len(body.text) > s.deepflix_voice_max_chars:
        raise RequestValidationError([{"loc": ("body", "text"), "type": "value_error", "input": None,
                                       "msg": f"text is {len(body.text)} characters; the most this server speaks in "
                                              f"one call is {s.deepflix_voice_max_chars}: split it"}])
    cost = max(1.0, math.ceil(len(body.text) / s.deepflix_voice_chars_per_request))
    wav, result, provider_id = await run_stage_call(request, "voice", cost, _speak, body)
    as_json = fmt == "json" or (fmt is None and "application/json" in accept)
    if as_json:
        payload = VoiceAudio(provider=provider_id, audio_base64=base64.b64encode(wav).decode(),
                             sample_rate=result.sample_rate, duration=result.duration, segments=result.segments)
        return JSONResponse(payload.model_dump(mode="json"))
    headers = {"X-Duration": f"{result.duration:.3f}", "X-Sample-Rate": str(result.sample_rate),
               "X-Provider": provider_id}
    return Response(content=wav, media_type="audio/wav", headers=headers)


@router.get("/health", summary="Is the voice provider ready (no paid call)")
async def health() -> dict[str, Any]:
    provider = get_provider("speech", config.settings.provider_for("speech"))
    info = await run_in_threadpool(provider.health)
    return {"status": "ok" if info.get("ok") else "degraded", "service": "voice", **info}


# without auth: for tests, and for mounting behind something that checks keys
open_app = stage_app("voice", router)

__getattr__ = secured_app_getattr("voice", router)  # `uvicorn deepflix.api.routes.voice_service:app`: with keys
