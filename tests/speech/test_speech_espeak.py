"""espeak-ng, the last resort: only where the program is installed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deepflix.errors import InvalidInput
from deepflix.models import SpeechLine, SpeechRequest, Voice
from deepflix.provider import StageContext
from deepflix.speech.assemble import read_wav
from deepflix.speech.espeak import EspeakSpeech, espeak_exe
from deepflix.speech.voicefx import median_f0

pytestmark = pytest.mark.skipif(espeak_exe() is None, reason="espeak-ng is not installed")

TEXT = "The keeper lit the lamp at 9:30. The sea was calm that night, and the ships passed safely."


def test_speaks_a_paragraph_with_sentence_timings(tmp_path: Path) -> None:
    req = SpeechRequest(lines=[SpeechLine(speaker="narrator", text=TEXT)])
    res = EspeakSpeech().generate(req, StageContext(out_dir=tmp_path))
    audio, sr = read_wav(tmp_path / res.audio)
    assert float(np.sqrt(np.mean(audio**2))) > 0.03
    words = len(TEXT.split())
    assert words / 2.5 * 0.5 <= res.duration <= words / 2.5 * 1.5
    assert [s.text for s in res.segments] == ["The keeper lit the lamp at 9:30.",
                                              "The sea was calm that night, and the ships passed safely."]
    assert abs(sum(s.end - s.start for s in res.segments) - res.duration) < 0.05
    assert EspeakSpeech().health()["ok"] is True


def test_characters_get_their_own_pitch(tmp_path: Path) -> None:
    line = "Keep the lamp lit until the morning comes."
    req = SpeechRequest(lines=[
        SpeechLine(speaker="narrator", text=line),
        SpeechLine(speaker="mara", kind="dialogue", voice=Voice(pitch_semitones=7), text=line),
    ])
    res = EspeakSpeech().generate(req, StageContext(out_dir=tmp_path))
    audio, sr = read_wav(tmp_path / res.audio)
    narr, mara = (median_f0(audio[int(s.start * sr): int(s.end * sr)], sr) for s in res.segments)
    assert mara > 1.15 * narr


def test_an_unknown_voice_is_invalid_input(tmp_path: Path) -> None:
    req = SpeechRequest(lines=[SpeechLine(speaker="narrator", voice=Voice(voice_id="xx-nope"), text="Hello.")])
    with pytest.raises(InvalidInput, match="xx-nope"):
        EspeakSpeech().generate(req, StageContext(out_dir=tmp_path))
