"""Subtitles: the builder follows the Netflix English rules and the checker catches breaking them."""

from __future__ import annotations

import pytest

from deepflix.models import Segment, SubtitleCue, Word
from deepflix.subtitles import MAX_LINE, break_lines, build_cues, check_rules, to_srt, to_vtt

FPS = 30


def timed(text: str, start: float, seconds_per_char: float = 1 / 14, speaker: str = "narrator",
          pause_after: float = 0.0) -> Segment:
    """A segment whose words take time by their length (the provider's job), then ``pause_after``."""
    words, t = [], start
    for w in text.split():
        d = len(w) * seconds_per_char
        words.append(Word(start=round(t, 4), end=round(t + d, 4), text=w))
        t += d + seconds_per_char  # the space
    return Segment(start=start, end=round(t + pause_after, 4), text=text, speaker=speaker, words=words)


def test_break_lines_keeps_short_text_on_one_line_and_breaks_at_the_comma() -> None:
    assert break_lines("The bottle was green.") == "The bottle was green."
    text = "When the tide went out at last, the bottle lay on the sand."
    top, bottom = break_lines(text).split("\n")  # type: ignore[union-attr]
    assert top == "When the tide went out at last," and bottom == "the bottle lay on the sand."
    assert break_lines("x" * 30 + " " + "y" * 50) is None  # no break fits 42 + 42


def test_break_lines_prefers_a_bottom_heavy_pyramid_and_never_strands_an_article() -> None:
    two = break_lines("He walked along the shore and looked for the light in the fog")
    assert two is not None
    top, bottom = two.split("\n")
    assert len(top) <= len(bottom) + 2
    assert not top.lower().endswith((" the", " a", " of", " to"))


def test_a_long_sentence_becomes_several_readable_events_timed_by_its_words() -> None:
    text = ("The keeper climbed the stairs at dusk, carrying a lamp that had burned every night for forty years, "
            "through storms and calms alike, and at the top he found a green bottle wedged between the rocks.")
    seg = timed(text, 1.0, pause_after=0.5)
    cues = build_cues([(0.0, seg.end + 1.0, [seg])], fps=FPS)
    assert len(cues) >= 3
    assert " ".join(c.text.replace("\n", " ") for c in cues) == text
    assert check_rules(cues, [(0.0, seg.end + 1.0)], fps=FPS) == []
    # each event appears with its first word (to the frame) and splits fall at punctuation
    words = seg.words
    i = 0
    for c in cues:
        n = len(c.text.split())
        assert c.start == pytest.approx(int(words[i].start * FPS) / FPS, abs=1 / FPS + 1e-6)
        i += n
    assert all(c.text.rstrip().endswith((",", ".")) for c in cues[:-1]) or len(cues) > 4


def test_fast_speech_borrows_the_silence_after_it_to_stay_under_20_cps() -> None:
    text = "Run to the boat, take the rope, and do not look back at the light!"  # 66 characters
    seg = timed(text, 2.0, seconds_per_char=1 / 40, pause_after=2.0)  # said at 40 characters a second
    cues = build_cues([(0.0, 8.0, [seg])], fps=FPS)
    assert check_rules(cues, [(0.0, 8.0)], fps=FPS) == []
    chars = sum(len(c.text.replace("\n", "")) for c in cues)
    assert chars / sum(c.end - c.start for c in cues) <= 20.0
    assert cues[0].start == pytest.approx(2.0, abs=0.04)


def test_fast_speech_with_no_room_is_reported_by_the_checker() -> None:
    a = timed("Run to the boat and take the rope with you now!", 1.0, seconds_per_char=1 / 45)
    b = timed("Do not look back at the light, whatever it shows!", a.words[-1].end + 0.1, seconds_per_char=1 / 45)
    cues = build_cues([(0.0, b.words[-1].end + 0.2, [a, b])], fps=FPS)
    problems = check_rules(cues, [(0.0, b.words[-1].end + 0.2)], fps=FPS)
    assert problems and all("characters a second" in p for p in problems)
    assert check_rules(cues, [(0.0, b.words[-1].end + 0.2)], fps=FPS, max_cps=None) == []


def test_no_event_crosses_a_scene_cut_and_each_names_its_scene() -> None:
    s1 = timed("The lamp went dark just as the ship came round the point.", 4.0)
    cut = round(s1.words[-1].end + 0.3, 1)  # the cut comes right after the words
    s2 = timed("Morning.", cut + 0.6)
    cues = build_cues([(0.0, cut, [s1]), (cut, cut + 4.0, [s2])], fps=FPS)
    assert check_rules(cues, [(0.0, cut), (cut, cut + 4.0)], fps=FPS) == []
    first = [c for c in cues if c.scene_index == 0]
    assert first and first[-1].end <= cut - 2 / FPS + 1e-6
    last = [c for c in cues if c.scene_index == 1]
    assert last[0].start >= cut and last[0].end - last[0].start >= 5 / 6 - 1e-3  # "Morning." held long enough


def test_two_quick_lines_from_two_speakers_share_one_event() -> None:
    a = timed("Yes?", 1.0, speaker="mara")
    b = timed("No.", a.words[-1].end + 0.25, speaker="tom")
    cues = build_cues([(0.0, 5.0, [a, b])], fps=FPS)
    assert len(cues) == 1 and cues[0].text == "-Yes?\n-No."
    assert check_rules(cues, [(0.0, 5.0)], fps=FPS) == []


def test_close_events_chain_two_frames_apart() -> None:
    a = timed("The bottle was green.", 1.0)
    b = timed("Inside was a letter.", a.words[-1].end + 0.4)
    c1, c2 = build_cues([(0.0, 10.0, [a, b])], fps=FPS)
    assert c2.start - c1.end == pytest.approx(2 / FPS, abs=1e-3)


def test_segments_without_words_are_timed_by_characters() -> None:
    seg = Segment(start=1.0, end=9.0, text="A sentence that is long enough to be split into two events, "
                                            "since it has far more than eighty-four characters in it.")
    cues = build_cues([(0.0, 10.0, [seg])], fps=FPS)
    assert len(cues) == 2 and cues[0].start == pytest.approx(1.0) and cues[1].end <= 10.0
    assert check_rules(cues, [(0.0, 10.0)], fps=FPS) == []


@pytest.mark.parametrize(
    ("cue", "problem"),
    [
        (SubtitleCue(start=1.0, end=3.0, text="x" * (MAX_LINE + 1)), "characters (max 42)"),
        (SubtitleCue(start=1.0, end=3.0, text="one\ntwo\nthree"), "3 lines"),
        (SubtitleCue(start=1.0, end=1.5, text="Hi."), "min 0.833"),
        (SubtitleCue(start=1.0, end=9.0, text="Too long."), "max 7"),
        (SubtitleCue(start=1.0, end=2.0, text="Far too many words for one second on screen."), "characters a second"),
        (SubtitleCue(start=4.0, end=6.0, text="Across the cut."), "crosses the scene cut at 5.000"),
        (SubtitleCue(start=1.0, end=2.0, text="Wrong scene.", scene_index=1), "outside its scene 2"),
        (SubtitleCue(start=1.0, end=2.0, text="   "), "is empty"),
    ],
)
def test_the_checker_names_each_broken_rule(cue: SubtitleCue, problem: str) -> None:
    problems = check_rules([cue], [(0.0, 5.0), (5.0, 10.0)], fps=FPS)
    assert any(problem in p for p in problems), problems


def test_the_checker_wants_two_frames_between_events() -> None:
    cues = [SubtitleCue(start=1.0, end=2.0, text="One."), SubtitleCue(start=2.03, end=3.0, text="Two.")]
    assert any("min 2 frames" in p for p in check_rules(cues, [(0.0, 5.0)], fps=FPS))


def test_srt_and_vtt() -> None:
    cues = [SubtitleCue(start=1.0, end=2.5, text="Salt & light"), SubtitleCue(start=3661.25, end=3663.0, text="a\n<b>")]
    assert to_srt(cues) == ("1\n00:00:01,000 --> 00:00:02,500\nSalt & light\n\n"
                            "2\n01:01:01,250 --> 01:01:03,000\na\n<b>\n\n")
    assert to_vtt(cues) == ("WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.500\nSalt &amp; light\n\n"
                            "2\n01:01:01.250 --> 01:01:03.000\na\n&lt;b&gt;\n\n")


def test_words_left_relative_to_the_scene_audio_are_moved_with_their_segments() -> None:
    rel = [timed("The bottle was green and old.", 0.0, pause_after=0.4)]
    rel.append(timed("Inside was a letter, folded twice, addressed to him by name.", rel[0].end))
    base = 12.5  # the scene's speech starts here on the film's timeline; only start/end were moved
    film = [s.model_copy(update={"start": s.start + base, "end": s.end + base}) for s in rel]
    cues = build_cues([(12.0, film[-1].end + 1.0, film)], fps=FPS)
    assert check_rules(cues, [(12.0, film[-1].end + 1.0)], fps=FPS) == []
    assert cues[0].start == pytest.approx(base + rel[0].words[0].start, abs=1 / FPS)
    assert cues[1].start == pytest.approx(base + rel[1].words[0].start, abs=1 / FPS)


def test_a_name_is_not_broken_across_lines() -> None:
    one = break_lines("The lighthouse keeper Nadia Novak used to find that comforting.")
    two = break_lines("and the estranged father Tom Okonkwo stares at the floor.")
    assert one == "The lighthouse keeper Nadia Novak\nused to find that comforting."
    assert two == "and the estranged father\nTom Okonkwo stares at the floor."


def test_a_fast_event_between_slow_ones_borrows_reading_time_from_both() -> None:
    a = timed("The keeper read the letter very slowly.", 1.0, seconds_per_char=1 / 9)
    b = timed("Then he ran down all the stairs fast", a.words[-1].end + 0.05, seconds_per_char=1 / 26)  # 36 chars
    c = timed("and out into the cold grey morning.", b.words[-1].end + 0.05, seconds_per_char=1 / 9)
    cues = build_cues([(0.0, 20.0, [a, b, c])], fps=FPS)
    assert [q.text.replace("\n", " ") for q in cues] == [a.text, b.text, c.text]
    assert check_rules(cues, [(0.0, 20.0)], fps=FPS) == []
    fast = cues[1]
    assert fast.start < b.words[0].start and cues[2].start > c.words[0].start  # earlier in, later out
    assert fast.start >= b.words[0].start - 0.3 - 1 / FPS and cues[2].start <= c.words[0].start + 0.3 + 1 / FPS
