"""A corpus of malformed LLM replies: none may crash; each is repaired or ends in a clear RepairError."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from story_fakes import llm_story

from deepflix.models import Story, StoryRequest
from deepflix.story.jsonfix import loads
from deepflix.story.planning import lexicon
from deepflix.story.repair import RepairError, nearest, repair_story

REQ = StoryRequest(prompt="A lighthouse keeper finds a message in a bottle", genre="noir", num_scenes=6)
GOOD = llm_story()
TEXT = json.dumps(GOOD, indent=2)
NAMES = [c["name"] for c in GOOD["characters"]]


def edit(fn: Callable[[dict[str, Any]], Any]) -> str:
    data = copy.deepcopy(GOOD)
    out = fn(data)
    return json.dumps(out if isinstance(out, dict) else data)  # lambdas may return tuples of None


def scenes(fn: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(d: dict[str, Any]) -> None:
        for s in d["scenes"]:
            fn(s)
    return apply


def rename(d: dict[str, Any], old: str, new: str) -> None:
    d[new] = d.pop(old)


def _single_quotes(text: str) -> str:
    return re.sub(r'"([^"\n]*)"', lambda m: "'" + m.group(1) + "'", text)


# name -> (reply text, expectation): "ok" (repaired in strict mode), "lenient" (only on the
# last, lenient attempt), or "error:<words the RepairError must contain>"
CORPUS: dict[str, tuple[str, str]] = {
    "valid": (TEXT, "ok"),
    "prose_around": ("Here is your story!\n" + TEXT + "\nLet me know if you want changes.", "ok"),
    "markdown_fence": ("```json\n" + TEXT + "\n```", "ok"),
    "bare_fence": ("Sure:\n```\n" + TEXT + "\n```\n", "ok"),
    "fence_never_closed": ("```json\n" + TEXT, "ok"),
    "two_fences_example_first": ("Format:\n```json\n{\"title\": \"...\"}\n```\nStory:\n```json\n" + TEXT + "\n```",
                                 "ok"),
    "bom": ("\ufeff" + TEXT, "ok"),
    "crlf": (TEXT.replace("\n", "\r\n"), "ok"),
    "trailing_commas": (re.sub(r"(\]|\}|\"|\d)\n", r"\1,\n", TEXT), "ok"),
    "single_quotes": (_single_quotes(json.dumps(GOOD).replace("'", "’")), "ok"),
    "python_literals": (TEXT.replace("[]", "None").replace('"characters": [', '"flag": True, "characters": ['), "ok"),
    "line_comments": (TEXT.replace('"title"', '// the title\n"title"').replace('"scenes"', '/* scenes */ "scenes"'),
                      "ok"),
    "hash_comments": (TEXT.replace('"logline"', '# logline\n"logline"'), "ok"),
    "unquoted_keys": (re.sub(r'"(\w+)":', r"\1:", TEXT), "ok"),
    "smart_quotes": (TEXT.replace('"title": "', "“title”: “").replace('",\n  "logline"', '”,\n  "logline"'), "ok"),
    "unescaped_inner_quotes": (TEXT.replace("keeps the hours", 'keeps the "hours"'), "ok"),
    "raw_newlines_in_strings": (TEXT.replace(". ", ".\n"), "ok"),
    "nan_and_infinity": (TEXT.replace('"intensity": 0.25', '"intensity": NaN'), "ok"),
    "truncated_end": (TEXT[: len(TEXT) - 40], "ok"),
    "truncated_in_last_scene": (TEXT[: TEXT.rindex('"narration"') + 30], "ok"),
    "truncated_half": (TEXT[: len(TEXT) // 2], "lenient"),
    "truncated_in_characters": (TEXT[: TEXT.index('"scenes"') - 5], "error:no scenes"),
    "missing_closing_brackets": (TEXT.rstrip().rstrip("}").rstrip().rstrip("]"), "ok"),
    "wrapped_story": (json.dumps({"story": GOOD}), "ok"),
    "wrapped_twice": (json.dumps({"result": {"data": GOOD}}), "ok"),
    "arguments_as_string": (json.dumps({"name": "write_story", "arguments": json.dumps(GOOD)}), "ok"),
    "seed_field_names": (edit(lambda d: (rename(d, "scenes", "sequence"), rename(d, "characters", "character"))),
                         "ok"),
    "camel_case_keys": (edit(scenes(lambda s: (rename(s, "scene_description", "sceneDescription"),
                                               rename(s, "time_of_day", "timeOfDay")))), "ok"),
    "alias_fields": (edit(scenes(lambda s: (rename(s, "narration", "voiceover"), rename(s, "dialogue", "dialog"),
                                            rename(s, "scene_description", "visual_description")))), "ok"),
    "spaced_keys": (edit(scenes(lambda s: rename(s, "scene_description", "Scene Description"))), "ok"),
    "extra_fields": (edit(lambda d: (d.update(author="gpt", version=2),
                                     [s.update(camera_lens="35mm", notes=None) for s in d["scenes"]])), "ok"),
    "duration_strings": (edit(scenes(lambda s: s.update(duration=f"{int(s['duration'])} seconds"))), "ok"),
    "duration_clock": (edit(scenes(lambda s: s.update(duration="0:12"))), "ok"),
    "duration_bad": (edit(lambda d: [s.update(duration=v) for s, v in zip(d["scenes"], (-5, 0, 9999, None, "?",
                                                                                          True))]), "ok"),
    "intensity_words": (edit(scenes(lambda s: s["music"].update(intensity="high"))), "ok"),
    "intensity_percent": (edit(scenes(lambda s: s["music"].update(intensity="70%"))), "ok"),
    "intensity_out_of_ten": (edit(scenes(lambda s: s["music"].update(intensity=7))), "ok"),
    "music_as_string": (edit(scenes(lambda s: s.update(music="suspenseful"))), "ok"),
    "mood_synonyms": (edit(lambda d: [s["music"].update(mood=m) for s, m in zip(d["scenes"], (
        "scary", "melancholy", "Ominous", "HAPPY", "romance", "??"))]), "ok"),
    "setting_synonyms": (edit(lambda d: [s.update(setting=v) for s, v in zip(d["scenes"], (
        "beach", "Spaceship", "dark alley", "the woods", "Light House", "moon base"))]), "ok"),
    "setting_missing_location_given": (edit(scenes(lambda s: (s.pop("setting"), s.update(location="a rainy alley")))),
                                       "ok"),
    "time_and_weather_words": (edit(scenes(lambda s: s.update(time_of_day="Midnight", weather="foggy",
                                                             shot="Close-Up"))), "ok"),
    "shot_words": (edit(lambda d: [s.update(shot=v) for s, v in zip(d["scenes"], (
        "bird's-eye view", "establishing shot", "OTS", "extreme close-up", "two shot", "dutch angle"))]), "ok"),
    "characters_as_names": (edit(lambda d: [s.update(characters=[NAMES[0]]) for s in d["scenes"]]), "ok"),
    "characters_as_string": (edit(scenes(lambda s: s.update(characters=" and ".join(NAMES[:2])))), "ok"),
    "dangling_character": (edit(scenes(lambda s: s["characters"].append("ghost_of_nobody"))), "ok"),
    "dialogue_as_strings": (edit(scenes(lambda s: s.update(dialogue=[f"{NAMES[0].split()[0]}: Who's there?"]))), "ok"),
    "dialogue_as_mapping": (edit(scenes(lambda s: s.update(dialogue={NAMES[1]: "Not tonight."}))), "ok"),
    "dialogue_unknown_speaker": (edit(scenes(lambda s: s.update(dialogue=[{"speaker": "Narrator Bob", "text": "Hm."}]))),
                                 "ok"),
    "narration_as_list": (edit(scenes(lambda s: s.update(narration=s["narration"].split(". ")))), "ok"),
    "narration_too_long": (edit(scenes(lambda s: s.update(narration="Word. " * 900))), "ok"),
    "characters_by_name_dict": (edit(lambda d: d.update(characters={c.pop("name"): c for c in d["characters"]})),
                                "ok"),
    "characters_as_strings": (edit(lambda d: d.update(characters=NAMES)), "ok"),
    "duplicate_character_ids": (edit(lambda d: [c.update(id="same") for c in d["characters"]]), "ok"),
    "scenes_as_mapping": (edit(lambda d: d.update(scenes={f"scene_{i}": s for i, s in enumerate(d["scenes"])})), "ok"),
    "title_missing": (edit(lambda d: d.pop("title")), "ok"),
    "too_many_scenes": (edit(lambda d: d["scenes"].extend(copy.deepcopy(d["scenes"][:3]))), "ok"),
    "too_few_scenes": (edit(lambda d: d.update(scenes=d["scenes"][:4])), "lenient"),
    "scene_without_words": (edit(lambda d: d["scenes"][1].update(narration="", dialogue=[])), "lenient"),
    "scene_is_a_string": (edit(lambda d: d["scenes"].__setitem__(2, "She climbs the stair and waits.")), "ok"),
    "scene_is_a_number": (edit(lambda d: d["scenes"].__setitem__(2, 42)), "error:scenes[2] is not an object"),
    "no_characters": (edit(lambda d: d.update(characters=[])), "lenient"),
    "list_of_scenes_only": (json.dumps(GOOD["scenes"]), "lenient"),
    "no_scenes_key": (json.dumps({"title": "x", "characters": GOOD["characters"]}), "error:no scenes"),
    "empty_scenes": (edit(lambda d: d.update(scenes=[])), "error:no scenes"),
    "empty_reply": ("", "error:no JSON object"),
    "refusal": ("I'm sorry, but I can't help with that request.", "error:no JSON object"),
    "html_page": ("<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                  "error:no JSON object"),
    "json_number": ("[42]", "error:scenes[0] is not an object"),
    "json_string_list": ('["just", "words"]', "lenient"),
    "random_bytes": ("\x00\x01{\x02\x03 ]]]]} }{ \x7f", "error:"),
    "only_open_brace": ("{", "error:no scenes"),
    "deep_nesting": ("[" * 200 + "]" * 200, "error:"),
    "schema_instead_of_story": (json.dumps({"type": "object", "properties": {"title": {"type": "string"}}}),
                                "error:no scenes"),
}


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 50


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_malformed_reply(name: str) -> None:
    text, expect = CORPUS[name]
    try:
        story = repair_story(text, REQ, expect=6)
        outcome = "ok"
    except RepairError as exc:
        outcome, message = "error", str(exc)
        assert message and len(message) < 1500, message
    if expect == "ok":
        assert outcome == "ok", message
        assert isinstance(story, Story) and len(story.scenes) == 6
        for s in story.scenes:  # every reference resolves: the model validator has checked ids
            assert s.narration.strip() or s.dialogue
    elif expect == "lenient":
        assert outcome == "error"
        story = repair_story(text, REQ, expect=6, strict=False)  # the last attempt takes what it can
        assert 1 <= len(story.scenes) <= 6
    else:
        assert outcome == "error", f"{name} should not repair"
        words = expect.split(":", 1)[1]
        assert words in message, message
        with pytest.raises(RepairError):
            repair_story(text, REQ, expect=6, strict=False)


def test_repairs_are_the_right_ones() -> None:
    story = repair_story(CORPUS["setting_synonyms"][0], REQ, expect=6)
    assert [s.setting for s in story.scenes] == ["coast", "space", "night_street", "forest", "lighthouse", "desert"]
    story = repair_story(CORPUS["mood_synonyms"][0], REQ, expect=6)
    assert [s.music.mood for s in story.scenes] == ["eerie", "sad", "dark", "joyful", "romantic", "calm"]
    story = repair_story(CORPUS["shot_words"][0], REQ, expect=6)
    assert [s.shot for s in story.scenes] == ["aerial", "wide", "over_the_shoulder", "close", "medium", "wide"]
    story = repair_story(CORPUS["intensity_percent"][0], REQ, expect=6)
    assert {s.music.intensity for s in story.scenes} == {0.7}
    story = repair_story(CORPUS["too_many_scenes"][0], REQ, expect=6)
    assert story.scenes[-1].narration == GOOD["scenes"][2]["narration"]  # the reply's own last scene is kept
    story = repair_story(CORPUS["characters_as_names"][0], REQ, expect=6)
    ids = {c["id"] for c in GOOD["characters"]}
    assert all(s.characters[0] == GOOD["characters"][0]["id"] and set(s.characters) <= ids for s in story.scenes)
    story = repair_story(CORPUS["dangling_character"][0], REQ, expect=6)
    assert all("ghost_of_nobody" not in s.characters for s in story.scenes)
    story = repair_story(CORPUS["duration_bad"][0], REQ, expect=6)
    assert all(0 < s.duration <= 600 for s in story.scenes) and story.scenes[2].duration == 600
    story = repair_story(CORPUS["setting_missing_location_given"][0], REQ, expect=6)
    assert {s.setting for s in story.scenes} == {"night_street"}


def test_enum_mapping_examples() -> None:
    assert nearest("sci fi", ("noir", "sci-fi"), lexicon.GENRE_SYNONYMS, None) == "sci-fi"
    assert nearest("Science Fiction", ("noir", "sci-fi"), lexicon.GENRE_SYNONYMS, None) == "sci-fi"
    assert nearest("beach", ("coast", "city"), lexicon.SETTING_SYNONYMS, None) == "coast"
    assert nearest("scary", ("eerie", "calm"), lexicon.MOOD_SYNONYMS, None) == "eerie"
    assert nearest("xyzzy", ("eerie", "calm"), lexicon.MOOD_SYNONYMS, "calm") == "calm"


def test_lenient_json_reader() -> None:
    assert loads("{'a': True, b: [1 2 3,], // c\n 'd': None}") == {"a": True, "b": [1, 2, 3], "d": None}
    assert loads('Result: {"a": {"b": "cut off her') == {"a": {"b": "cut off her"}}
    assert loads('{"q": "she said "no" twice", "n": 1}') == {"q": 'she said "no" twice', "n": 1}
    assert loads('[{"x": 1} {"x": 2}]') == [{"x": 1}, {"x": 2}]
