"""Issue 21's acceptance: films in Spanish, Hindi and Arabic (offline, espeak-ng) and in
Japanese (the OpenAI wire format on 127.0.0.1 for the voice), made through the real CLI
from a story written in that language; and a Portuguese prompt full of accents and
emoji made into a film through an LLM story provider. Each film: 2 scenes, 720p."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from lang_fakes import OpenAIServer, story_json
from PIL import Image, ImageDraw, ImageFont

from deepflix.cut.ffmpeg.captions import CaptionStyle
from deepflix.cut.ffmpeg.fonts import font_path
from deepflix.cut.ffmpeg.probe import grab_frame, probe
from deepflix.models import SubtitleCue
from deepflix.speech.espeak import espeak_exe
from deepflix.subtitles import check_rules

pytestmark = pytest.mark.slow  # five small films: about three minutes on two cores
needs_espeak = pytest.mark.skipif(espeak_exe() is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")


def deepflix(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "deepflix", *args], env=env, capture_output=True, text=True,
                          timeout=900)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("lang-data")
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DEEPFLIX_", "ANTHROPIC_"))}
    return {**keep, "DEEPFLIX_DATA_DIR": str(data), "COLUMNS": "160"}


def parse_srt(text: str) -> list[SubtitleCue]:
    def secs(s: str) -> float:
        h, m, rest = s.split(":")
        return int(h) * 3600 + int(m) * 60 + float(rest.replace(",", "."))

    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        a, b = lines[1].split(" --> ")
        cues.append(SubtitleCue(start=secs(a), end=secs(b), text="\n".join(lines[2:]).replace("\u200f", "")))
    return cues


def make(lang: str, tmp: Path, env: dict[str, str], *extra: str) -> Path:
    story = tmp / f"story-{lang}.json"
    story.write_text(json.dumps(story_json(lang), ensure_ascii=False), encoding="utf-8")
    out = tmp / f"film-{lang}"
    proc = deepflix("make", "--story", str(story), "--resolution", "720p", "--out", str(out), *extra, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def check_film(out: Path, lang: str, iso: str) -> list[SubtitleCue]:
    info = probe(out / "movie.mp4")
    subs = info.first("subtitle")
    assert subs is not None and subs.language == iso
    assert info.first("audio").language == iso  # type: ignore[union-attr]
    vtt = (out / "movie.vtt").read_text(encoding="utf-8")
    assert vtt.startswith(f"WEBVTT\nLanguage: {lang}\n\n")
    film = json.loads((out / "film.json").read_text(encoding="utf-8"))
    assert film["story"]["language"] == lang
    bounds, t = [], 0.0
    for s in film["story"]["scenes"]:
        bounds.append((t, t + s["duration"]))
        t += s["duration"]
    srt = (out / "movie.srt").read_text(encoding="utf-8")
    cues = parse_srt(srt)
    for c in cues:  # each cue in its scene (the srt has no scene index)
        c.scene_index = next(i for i, (a, b) in enumerate(bounds) if a - 0.01 <= c.start < b)
    assert cues and check_rules(cues, bounds, language=lang) == []
    spoken = "".join(story_json(lang)["scenes"][i]["narration"] for i in range(2))
    shown = "".join(c.text for c in cues).replace("\n", "").replace(" ", "")
    assert re.sub(r"\s", "", spoken).startswith(shown[:10])  # the subtitles are the story's own words
    return cues


def text_mask(rgb: np.ndarray) -> np.ndarray:
    """Where the caption's white fill is (the outline and the picture are darker)."""
    y = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return (y > 215) & (rgb.min(axis=2) > 190)


def crop(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return mask[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]


def reference(text: str, lang: str, size: int, raqm: bool, font: str | None = None) -> np.ndarray:
    """The cue's text drawn straight with Pillow: HarfBuzz shaping and bidi via libraqm (or, for the
    control, Pillow's basic layout: no joining, no reordering)."""
    engine = ImageFont.Layout.RAQM if raqm else ImageFont.Layout.BASIC
    fnt = ImageFont.truetype(font or str(font_path("Semibold", lang)), size, layout_engine=engine)
    if "[" in Path(fnt.path).name:
        fnt.set_variation_by_axes([600 if a["name"] == b"Weight" else a["maximum"] for a in fnt.get_variation_axes()])
    img = Image.new("RGB", (size * 30, size * 2), (0, 0, 0))
    kw = {"direction": "rtl" if lang == "ar" else "ltr", "language": lang} if raqm else {}
    ImageDraw.Draw(img).text((size, size // 3), text, font=fnt, fill=(255, 255, 255), **kw)
    return np.asarray(img)


def match(frame_mask: np.ndarray, ref: np.ndarray) -> float:
    """IoU of the two text masks, each cropped to its ink and the reference scaled onto the frame's."""
    import cv2

    a = crop(frame_mask)
    b = cv2.resize(crop(text_mask(ref)).astype(np.uint8), (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA) > 0
    return float((a & b).sum() / max(1, (a | b).sum()))


def burned_in(out: Path, cue: SubtitleCue, lang: str) -> np.ndarray:
    """The caption's box in a frame from the middle of the cue: the white fill of its one line."""
    frame = grab_frame(out / "movie.mp4", (cue.start + cue.end) / 2)
    style = CaptionStyle(1280, 720, lang)
    ov = style.render(cue.text)
    box = frame[ov.y: ov.y + ov.height, :]
    return text_mask(box)  # grab_frame gives RGB


@needs_espeak
@pytest.mark.parametrize("lang,iso", [("es", "spa"), ("hi", "hin")])
def test_a_film_in_spanish_and_in_hindi_offline(lang: str, iso: str, tmp_path: Path, env: dict[str, str]) -> None:
    out = make(lang, tmp_path, env, "--speech-provider", "espeak/ng")
    check_film(out, lang, iso)
    credits = json.loads((out / "film.json").read_text(encoding="utf-8"))
    assert credits["providers"]["speech"] == "espeak/ng"


@needs_espeak
def test_a_film_in_arabic_its_captions_joined_and_right_to_left(tmp_path: Path, env: dict[str, str]) -> None:
    out = make("ar", tmp_path, env, "--speech-provider", "espeak/ng")
    cues = check_film(out, "ar", "ara")
    assert (out / "movie.srt").read_text(encoding="utf-8").count("\u200f") >= len(cues)  # RLM starts each line
    cue = next(c for c in cues if "\n" not in c.text)
    mask = burned_in(out, cue, "ar")
    size = CaptionStyle(1280, 720, "ar").size
    shaped = match(mask, reference(cue.text, "ar", size, raqm=True))
    unshaped = match(mask, reference(cue.text, "ar", size, raqm=False))
    assert shaped > 0.5 and shaped > unshaped + 0.1, (shaped, unshaped)


def test_a_film_in_japanese_with_a_voice_from_the_openai_wire_format(tmp_path: Path, env: dict[str, str]) -> None:
    srv = OpenAIServer("ja", chars_per_second=3.8)
    try:
        e = {**env, "OPENAI_BASE_URL": srv.url, "OPENAI_API_KEY": "sk-test", "OPENAI_TTS_MODEL": "tts-1"}
        out = make("ja", tmp_path, e, "--speech-provider", "openai/speech")
    finally:
        srv.close()
    spoken = [s["body"]["input"] for s in srv.seen if s["path"].endswith("/audio/speech")]
    assert any("灯台守" in t for t in spoken)
    cues = check_film(out, "ja", "jpn")
    assert all(len(line) <= 13 for c in cues for line in c.text.split("\n"))
    assert not any(line.startswith(("、", "。")) for c in cues for line in c.text.split("\n"))
    cue = next(c for c in cues if "\n" not in c.text)
    mask = burned_in(out, cue, "ja")
    size = CaptionStyle(1280, 720, "ja").size
    right = match(mask, reference(cue.text, "ja", size, raqm=True))
    boxes = match(mask, reference(cue.text, "ja", size, raqm=True, font=str(font_path("Semibold"))))
    assert right > 0.5 and right > boxes + 0.1, (right, boxes)


@needs_espeak
def test_a_portuguese_prompt_with_accents_and_emoji_makes_a_film(tmp_path: Path, env: dict[str, str]) -> None:
    srv = OpenAIServer("pt-BR")
    try:
        e = {**env, "OPENAI_BASE_URL": srv.url, "OPENAI_API_KEY": "sk-test", "OPENAI_MODEL": "m"}
        out = tmp_path / "pt"
        proc = deepflix("make", "Uma avó 👵 e seu gato 🐈 atravessam São Paulo à noite ✨ — ação!", "--language",
                        "pt-br", "--scenes", "2", "--resolution", "720p", "--story-provider", "openai/chat",
                        "--speech-provider", "espeak/ng", "--out", str(out), env=e)
    finally:
        srv.close()
    assert proc.returncode == 0, proc.stderr[-2000:]
    asked = next(s["body"] for s in srv.seen if s["path"].endswith("/chat/completions"))
    prompt_text = json.dumps(asked, ensure_ascii=False)
    assert "Portuguese" in prompt_text and "👵" in prompt_text and "São Paulo" in prompt_text
    cues = check_film(out, "pt-BR", "por")
    assert any("🐈" in c.text or "😀" in c.text for c in cues)  # emoji stay in the soft subtitles (players draw them)
