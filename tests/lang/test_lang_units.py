"""The language's own rules, checked without making a film: tags, English keys, refusals
before work, subtitle line breaking per script, glyph coverage and shaping."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from deepflix.cut.ffmpeg.captions import CaptionStyle
from deepflix.cut.ffmpeg.fonts import _cmap, drawable, script_font
from deepflix.errors import InvalidInput
from deepflix.language_check import check_film_language
from deepflix.languages import looks_written_in, normalize_tag
from deepflix.models import Segment, StoryRequest, SubtitleCue
from deepflix.plugins import get_provider
from deepflix.runner import stage_key
from deepflix.speech.timing import prepare
from deepflix.subtitles import build_cues, check_rules, to_srt, to_vtt


def test_tags_are_checked_and_standardised() -> None:
    assert normalize_tag("pt-br") == "pt-BR" and normalize_tag("iw") == "he" and normalize_tag("ja") == "ja"
    for bad in ("xx", "klingon", "", "en--"):
        with pytest.raises(ValueError, match="BCP-47"):
            normalize_tag(bad)
    with pytest.raises(ValueError):
        StoryRequest(prompt="a film", language="zz")


def test_an_english_request_keeps_the_key_it_had_before_the_field() -> None:
    import hashlib

    from deepflix.models import ArtifactRef, CutRequest, CutScene, SegmentRequest
    from deepflix.runner import canonical_json

    ref = ArtifactRef(key="k", name="p.png")
    # the hashed request bodies (runner.stage_key) of these requests on main at 14deb3a, before `language`
    before = {
        "20fa03fda9e5653705675aefd17958b74ce02bb3b648c370d7afb08a7d6b26d8":
            StoryRequest(prompt="A lighthouse keeper finds a message in a bottle", num_scenes=2),
        "819b98cac3561d0530e199ad64d7655667c6b40f9e401bf4688a5c44e53747f0":
            CutRequest(title="T", scenes=[CutScene(picture=ref, start=0, duration=4, speech=ref)]),
        "5526ad4823fe8492205d707c775511199abc1c22b499241d5e8ce353f7c95d17":
            SegmentRequest(index=0, picture=ref, duration=4, width=640, height=360),
    }
    for digest, req in before.items():
        assert hashlib.sha256(canonical_json(req.model_dump(mode="json")).encode()).hexdigest() == digest
        assert type(req).model_validate_json(req.model_dump_json()).language == "en"
    planner = get_provider("story", "builtin/planner")
    ja = StoryRequest(prompt="灯台守", language="ja")
    assert ja.model_dump()["language"] == "ja" and stage_key(planner, ja) != stage_key(
        planner, StoryRequest(prompt="灯台守"))


def test_the_planner_refuses_other_languages_naming_the_providers_that_can() -> None:
    with pytest.raises(InvalidInput, match="anthropic/claude or openai/chat"):
        check_film_language("es", {"story": "builtin/planner", "speech": "espeak/ng"}, writes_story=True)
    with pytest.raises(InvalidInput, match="English only"):
        get_provider("story", "builtin/planner").check_inputs(StoryRequest(prompt="un faro", language="es"))


def test_a_language_no_voice_speaks_fails_before_any_work() -> None:
    with pytest.raises(InvalidInput, match="piper/joe has no Japanese voice.*openai/speech"):
        check_film_language("ja", {"story": "openai/chat", "speech": "piper/joe"}, writes_story=True)
    with pytest.raises(InvalidInput, match="espeak/ng has no Japanese voice"):
        check_film_language("ja", {"speech": "espeak/ng"}, writes_story=False)
    check_film_language("ja", {"speech": "openai/speech"}, writes_story=False)


def test_numbers_and_money_are_read_in_the_language() -> None:
    said = " ".join(s.spoken for s in prepare("Cuesta 5,20 € y el 30 % de 1.234 personas.", "es"))
    assert said == "Cuesta cinco euros con veinte céntimos y el treinta por ciento de mil doscientos treinta y cuatro personas."
    assert [s.text for s in prepare("猫が好きです。1234円でした！本当？", "ja")] == ["猫が好きです。", "1234円でした！", "本当？"]
    assert prepare("1234円でした！", "ja")[0].spoken.startswith("千二百三十四")
    assert "😀" not in " ".join(s.spoken for s in prepare("Olá, vovó 😀! Tudo bem?", "pt-BR"))


def test_japanese_lines_break_between_characters_within_13_and_never_before_a_stop() -> None:
    text = "灯台守の女性が、浜辺で古い瓶を見つけます。中には手紙が入っています。"
    seg = Segment(start=0.0, end=20.0, text=text)
    cues = build_cues([(0.0, 30.0, [seg])], language="ja")
    lines = [line for c in cues for line in c.text.split("\n")]
    assert all(len(line) <= 13 for line in lines) and "".join(lines) == text
    assert not any(line[0] in "、。" for line in lines)
    assert check_rules(cues, [(0.0, 30.0)], language="ja") == []
    # the English rules would pass these lines; Japanese reading speed (4 a second) would not at 20 a second
    fast = [SubtitleCue(start=0.0, end=1.0, text="灯台守の女性が浜辺で瓶を")]
    assert any("characters a second" in p for p in check_rules(fast, [(0.0, 2.0)], language="ja"))
    assert check_rules(fast, [(0.0, 2.0)]) == []


def test_arabic_files_start_lines_right_to_left_and_vtt_names_the_language() -> None:
    cues = [SubtitleCue(start=0.0, end=2.0, text="DeepFlix رسالة\nفي زجاجة")]
    assert to_srt(cues, "ar").split("\n")[2:4] == ["\u200fDeepFlix رسالة", "\u200fفي زجاجة"]
    assert to_vtt(cues, "ja").startswith("WEBVTT\nLanguage: ja\n\n")
    assert to_vtt(cues).startswith("WEBVTT\n\n1\n")  # English files as they were


@pytest.mark.parametrize("lang,text", [("ja", "灯台守の女性が、浜辺で古い瓶を見つけます。"), ("hi", "वह पत्र पढ़ती है और मुस्कुराती है।"),
                                       ("ar", "تقرأ الرسالة بصوت عال، ثم تبتسم."), ("zh", "灯台守在瓶子里发现了一封信。"),
                                       ("es", "¿Dónde está la niña? ¡Aquí, señor!"), ("he", "שומר המגדלור מוצא בקבוק.")])
def test_every_character_has_a_glyph_in_the_chosen_font(lang: str, text: str) -> None:
    fnt = script_font("Semibold", 36, lang)
    cmap = _cmap(str(fnt.path))
    assert cmap is not None
    missing = [ch for ch in text if ch != " " and ord(ch) not in cmap]
    assert missing == []
    assert drawable(text + " 👵🐈", fnt) == text  # what it cannot draw is left out, not boxed


def test_arabic_is_shaped_joined_and_right_to_left() -> None:
    fnt = script_font("Semibold", 48, "ar")
    word = "سلام"
    raqm = ImageFont.truetype(fnt.path, 48)
    basic = ImageFont.truetype(fnt.path, 48, layout_engine=ImageFont.Layout.BASIC)
    # joined letters are narrower than the isolated forms the basic layout draws
    assert raqm.getlength(word, direction="rtl", language="ar") < basic.getlength(word) - 5
    img = CaptionStyle(1280, 720, "ar").render(word).planes.a
    assert img is not None and img.any()
    ref = Image.new("L", (400, 100))
    ImageDraw.Draw(ref).text((10, 10), word, font=raqm, fill=255, direction="rtl", language="ar")
    assert looks_written_in("تقرأ الرسالة", "ar") and not looks_written_in("The keeper reads.", "ar")
