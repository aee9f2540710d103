"""Which scenes are clips (the action score, --clips, the story's marks), what a clip
request says, how the plan lays out clip rows, and the front ends' words for it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from clip_story import four_scenes
from pydantic import ValidationError

from deepflix.film.clips import NEGATIVE_PROMPT, action_score, chosen, clip_length, motion_prompt, with_clips
from deepflix.film.options import FilmOptions
from deepflix.film.plan import PLAN, FilmParts
from deepflix.models import PictureResult, PortraitResult, SpeechResult, Story
from deepflix.runner import StageOutcome


def test_the_action_score_ranks_the_busy_scenes_first() -> None:
    story = four_scenes()
    scores = [action_score(s) for s in story.scenes]
    assert scores[1] > scores[2] > scores[0] == scores[3]  # run/jump/crash in a storm > races in rain > calm
    assert chosen(story, 1) == {1} and chosen(story, 2) == {1, 2}
    assert chosen(story, 3) == {0, 1, 2}  # a tie goes to the earlier scene
    assert chosen(story, 99) == {0, 1, 2, 3} == chosen(story, "all") and chosen(story, "none") == set()


def test_marks_live_on_the_story_and_a_still_scene_writes_none() -> None:
    story = four_scenes()
    assert with_clips(story, FilmOptions()) is story  # no choice: the story's own marks (none)
    assert with_clips(story, FilmOptions(clips="none")) is story  # nothing to change: the same object, the same keys
    marked = with_clips(story, FilmOptions(clips=2))
    assert [s.motion for s in marked.scenes] == ["still", "clip", "clip", "still"]
    assert "motion" not in story.model_dump_json() and marked.model_dump_json().count('"motion":"clip"') == 2
    cleared = with_clips(marked, FilmOptions(clips="none"))
    assert cleared.model_dump_json() == story.model_dump_json()
    assert Story.model_validate_json(marked.model_dump_json()).scenes[2].motion == "clip"  # an edited story.json keeps it
    with pytest.raises(ValidationError):
        Story.model_validate({**story.model_dump(), "scenes": [{**story.scenes[0].model_dump(), "motion": "video"}]})


def test_the_motion_prompt_says_action_camera_and_atmosphere() -> None:
    story = four_scenes()
    p = motion_prompt(story, 1)
    assert p.startswith("Mara runs along the cliff and jumps the gap as waves crash.")
    assert "Mara (a tall woman of thirty, a yellow raincoat)" in p
    assert "A storm raging, wind and rain, in daylight" in p and "Atmosphere: quiet, tense" in p and "adventure film" in p
    assert "the camera slowly pushes in" in motion_prompt(story, 0).lower()  # its camera_move, in words


def _parts(story: Story, *, refs: bool) -> FilmParts:
    pic = StageOutcome("picture", "p" * 64, PictureResult(image="picture.png", width=640, height=360), True, 0, "x")
    portrait = StageOutcome("cast", "c" * 64, PortraitResult(image="sheet.png", face="face.png", width=8, height=8),
                            True, 0, "x")
    speech = StageOutcome("speech", "s" * 64, SpeechResult(audio="a.wav", sample_rate=8000, duration=1.234, segments=[]), True, 0, "x")
    outs = {"picture": [pic] * 4, "speech": [speech] * 4, "cast": [portrait]}
    return FilmParts(FilmOptions(resolution="720p", clips=2), {}, story=story, load=lambda st: outs.get(st, []),
                     clip_references=refs)


def test_a_clip_request_is_the_picture_the_prompt_the_length_the_size_and_the_seed() -> None:
    story = with_clips(four_scenes(), FilmOptions(clips=2))
    assert PLAN["clip"].indices(story) == [1, 2] and PLAN["clip"].indices(four_scenes()) == []
    assert PLAN.expected(4, four_scenes())["clip"] == 0 and PLAN.expected(4, story)["clip"] == 2
    parts = _parts(story, refs=False)
    req = PLAN["clip"].build(parts, 1)
    slot = parts.slots[1]
    assert req.image.key == "p" * 64 and req.image.name == "picture.png"
    assert req.prompt == motion_prompt(story, 1) and req.negative_prompt == NEGATIVE_PROMPT
    assert (req.width, req.height, req.fps, req.seed, req.scene_index) == (1280, 720, 30, 11, 1)
    assert req.duration == clip_length(slot.duration) and req.duration - slot.duration < 0.5
    assert "references" not in req.model_dump()  # a provider without references: not in its key
    with_refs = PLAN["clip"].build(_parts(story, refs=True), 1)
    assert [r.name for r in with_refs.references] == ["sheet.png"]  # Mara's portrait
    assert clip_length(3.0) == 3.0 and clip_length(3.01) == 3.5


def test_a_longer_narration_keeps_the_clip_within_the_half_second() -> None:
    assert clip_length(5.833) == clip_length(5.9) == 6.0


@pytest.mark.parametrize("value", ["0", "some", "-1", "61"])
def test_make_refuses_a_bad_clips_choice_before_any_work(value: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run([sys.executable, "-m", "deepflix", "make", "A storm", "--clips", value, "--out",
                           str(tmp_path / "f")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--clips takes none, all or a number" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "f").exists()


def test_the_api_takes_clips_and_strict() -> None:
    from deepflix.api.schemas import MovieCreate

    assert MovieCreate(prompt="x").clips is None and MovieCreate(prompt="x").strict is False
    assert MovieCreate(prompt="x", clips="all").clips == "all" and MovieCreate(prompt="x", clips=2, strict=True).clips == 2
    for bad in (0, "some", 61):
        with pytest.raises(ValidationError):
            MovieCreate(prompt="x", clips=bad)
    opts = FilmOptions(clips=2, strict_clips=True)
    assert json.loads(opts.model_dump_json())["clips"] == 2
    assert "clips" not in FilmOptions().model_dump() and "strict_clips" not in FilmOptions().model_dump()
