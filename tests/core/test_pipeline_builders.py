"""The pure request builders: what each stage depends on, and the timeline."""

import pytest

from deepflix.models import ArtifactRef, Character, CutRequest, CutScene, DialogueLine, Scene, Segment, SpeechResult, Story, SubtitleCue
from deepflix.pipeline import (
    SCENE_LEAD,
    TITLE_SECONDS,
    FilmOptions,
    picture_request,
    segment_requests,
    speech_request,
    timeline,
)
from deepflix.runner import canonical_json


def story() -> Story:
    ada = Character(id="ada", name="Ada", base_traits="tall", facial_features="sharp", clothing="red coat",
                    distinctive_features="scar")
    scenes = [
        Scene(scene_description=f"shot {i}", atmosphere="grey", setting="coast", characters=["ada"],
              narration=f"Scene {i} begins. It ends.", dialogue=[DialogueLine(speaker="ada", text="Hello.")])
        for i in range(3)
    ]
    return Story(title="T", genre="noir", characters=[ada], scenes=scenes)


def speech(d: float) -> SpeechResult:
    return SpeechResult(audio="a.wav", sample_rate=22050, duration=d,
                        segments=[Segment(start=0, end=d / 2, text="a"), Segment(start=d / 2, end=d, text="b")])


def test_narration_edit_does_not_touch_pictures() -> None:
    st = story()
    edited = st.model_copy(deep=True)
    edited.scenes[1].narration = "Something else entirely."
    opts = FilmOptions()
    for i in range(3):
        assert canonical_json(picture_request(st, i, opts).model_dump()) == canonical_json(
            picture_request(edited, i, opts).model_dump())
    assert speech_request(st, 1) != speech_request(edited, 1)
    assert speech_request(st, 0) == speech_request(edited, 0)


def test_voice_change_does_not_touch_pictures() -> None:
    st = story()
    edited = st.model_copy(deep=True)
    edited.characters[0].voice.pitch_semitones = 5
    assert picture_request(st, 0, FilmOptions()) == picture_request(edited, 0, FilmOptions())
    assert speech_request(st, 0) != speech_request(edited, 0)


def test_speech_lines_carry_each_speakers_voice() -> None:
    st = story()
    st.characters[0].voice.pitch_semitones = 3
    req = speech_request(st, 0)
    assert [line.speaker for line in req.lines] == ["narrator", "ada"]
    assert req.lines[1].voice.pitch_semitones == 3 and req.lines[0].voice == st.narrator


def test_timeline_is_contiguous_whole_frames_from_speech() -> None:
    slots = timeline(story(), [speech(4.0), speech(1.0), speech(7.3)], fps=30)
    assert slots[0].start == 0 and slots[0].speech_offset == pytest.approx(SCENE_LEAD + TITLE_SECONDS)
    for a, b in zip(slots, slots[1:]):
        assert b.start == pytest.approx(a.start + a.duration)
    for sl in slots:
        assert abs(sl.duration * 30 - round(sl.duration * 30)) < 1e-6
    assert slots[1].duration >= 3.0


def test_segments_take_their_own_subtitles_relative() -> None:
    ref = ArtifactRef(key="k", name="p.png")
    scenes = [CutScene(picture=ref, start=s, duration=5, speech=ref) for s in (0, 5, 10)]
    cues = [SubtitleCue(start=6, end=7, text="x", scene_index=1), SubtitleCue(start=11, end=12, text="y", scene_index=2)]
    creq = CutRequest(title="T", scenes=scenes, subtitles=cues, credits=["c"])
    segs = segment_requests(creq, FilmOptions())
    assert [len(s.subtitles) for s in segs] == [0, 1, 1]
    assert segs[1].subtitles[0].start == 1 and segs[2].subtitles[0].end == 2
    assert segs[0].title == "T" and segs[1].title is None and segs[2].credits == ["c"]
    assert segs[0].fade_in and segs[2].next is None and segs[0].next is not None
