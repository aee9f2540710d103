"""espeak-ng: the last-resort voice, when the ``espeak-ng`` program is installed.

Robotic but tiny and everywhere (``apt-get install espeak-ng``). Each sentence
is one run of the program writing a WAV; characters get espeak's own voice
variants (``en-us+f3``...) and the pitch and speed of their Voice (or of a
preset, when their story gave them none), so they still sound apart.
"""

from __future__ import annotations

import functools
import hashlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ..errors import InvalidInput, ProviderBadOutput, ProviderError, ProviderTimeout
from ..hookspecs import Register, hookimpl
from ..models import SpeechLine, SpeechRequest, SpeechResult, Voice
from ..provider import StageContext
from .assemble import Chunk, effective_voice, read_wav, render_scene
from .base import SpeechProvider
from .timing import Sentence

CHARACTER_VARIANTS = ("f3", "m3", "f2", "m7", "f4", "m2", "f1", "m6")
_VOICE = re.compile(r"[A-Za-z0-9_+-]{1,40}")


def espeak_exe() -> str | None:
    return shutil.which("espeak-ng") or shutil.which("espeak")


# espeak-ng's "ja" reads kana only: every kanji is spelled out as "Chinese letter", in English
UNUSABLE = frozenset({"ja"})
_ALIASES = {"zh": "cmn", "en": "en-us", "pt": "pt", "es": "es", "fr": "fr-fr", "he": "he"}


@functools.lru_cache(maxsize=4)
def installed_voices(exe: str | None = None) -> frozenset[str]:
    """The language names of ``espeak-ng --voices`` ('es', 'pt-br', 'hi', 'cmn', ...)."""
    exe = exe or espeak_exe()
    if not exe:
        return frozenset()
    try:
        out = subprocess.run([exe, "--voices"], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(line.split()[1].lower() for line in out.splitlines()[1:] if len(line.split()) > 1)


def voice_for(tag: str) -> str | None:
    """espeak-ng's voice for a BCP-47 tag: 'pt-BR' -> 'pt-br', 'es' -> 'es', 'zh' -> 'cmn'; None if it has none."""
    from ..languages import base

    voices = installed_voices()
    lang = base(tag)
    if lang in UNUSABLE:
        return None
    for cand in (tag.lower(), _ALIASES.get(lang, lang), lang):
        if cand in voices:
            return cand
    return None


class EspeakSpeech(SpeechProvider):
    provider_id: ClassVar[str] = "espeak/ng"
    version: ClassVar[str] = "1"

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        language: str = Field("en-us", pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
        words_per_minute: int = Field(160, ge=80, le=400)
        sentence_pause: float = Field(0.3, ge=0, le=3)
        line_pause: float = Field(0.55, ge=0, le=3)

    options: Options

    @classmethod
    def supports_language(cls, tag: str, voices: Sequence[str] = ()) -> bool:
        return voice_for(tag) is not None  # the many languages of espeak-ng --voices, read at run time

    def cache_identity(self) -> dict[str, Any]:
        exe = espeak_exe()
        version = ""
        if exe:  # a different espeak-ng build says things differently
            version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        return {**super().cache_identity(), "espeak": version}

    def espeak_voice(self, line: SpeechLine, language: str = "en") -> str:
        vid = line.voice.voice_id
        if vid != "default":
            return vid
        # an English film keeps the configured accent (en-us); another language, espeak's voice for it
        lang = self.options.language if language == "en" else (voice_for(language) or language.lower())
        if line.speaker == "narrator":
            return lang
        h = int(hashlib.sha256(line.speaker.encode()).hexdigest()[:8], 16)
        return f"{lang}+{CHARACTER_VARIANTS[h % len(CHARACTER_VARIANTS)]}"

    def check_inputs(self, request: BaseModel) -> None:
        assert isinstance(request, SpeechRequest)
        if not espeak_exe():
            raise ProviderError("espeak/ng needs the espeak-ng program: apt-get install espeak-ng (or use piper/joe)")
        if request.language != "en":
            self.check_language(request)
        for line in request.lines:
            if not _VOICE.fullmatch(self.espeak_voice(line, request.language)):
                raise InvalidInput(f"espeak voice {line.voice.voice_id!r} is not an espeak-ng voice name")

    def health(self) -> dict[str, Any]:
        exe = espeak_exe()
        return {"provider": self.provider_id, "ok": exe is not None,
                **({"program": exe} if exe else {"detail": "espeak-ng is not installed"})}

    def synth_line(self, line: SpeechLine, voice: Voice, sents: list[Sentence], language: str = "en") -> list[Chunk]:
        exe = espeak_exe()
        if not exe:
            raise ProviderError("espeak/ng needs the espeak-ng program: apt-get install espeak-ng")
        pitch = int(min(99, max(0, 50 + 4 * voice.pitch_semitones)))
        speed = int(self.options.words_per_minute * voice.speed)
        chunks = []
        with tempfile.TemporaryDirectory(prefix="deepflix-espeak-") as tmp:
            for i, sent in enumerate(sents):
                wav = Path(tmp) / f"{i}.wav"
                cmd = [exe, "-v", self.espeak_voice(line, language), "-s", str(speed), "-p", str(pitch), "-w", str(wav), "--stdin"]
                try:
                    proc = subprocess.run(cmd, input=sent.spoken.encode(), capture_output=True, timeout=60, check=False)
                except subprocess.TimeoutExpired as exc:
                    raise ProviderTimeout("espeak-ng took over 60 s for one sentence") from exc
                err = proc.stderr.decode(errors="replace").strip()
                if proc.returncode != 0 or not wav.exists():
                    if "voice" in err.lower():
                        raise InvalidInput(f"espeak-ng has no voice {self.espeak_voice(line, language)!r}: {err[:200]}")
                    raise ProviderBadOutput(f"espeak-ng failed ({proc.returncode}): {err[:200]}")
                audio, rate = read_wav(wav)
                chunks.append(Chunk(audio, rate, None))
        return chunks

    def generate(self, request: SpeechRequest, ctx: StageContext) -> SpeechResult:
        def synth(line: SpeechLine, voice: Voice, sents: list[Sentence]) -> list[Chunk]:
            return self.synth_line(line, voice, sents, request.language)

        return render_scene(request, ctx, synth, sentence_pause=self.options.sentence_pause,
                            line_pause=self.options.line_pause, voice_of=effective_voice)


@hookimpl
def register_speech_providers(register: Register) -> None:
    register(EspeakSpeech)
