"""Text normalisation and sentence splitting before speech."""

from __future__ import annotations

import pytest

from deepflix.speech import numbers as num
from deepflix.speech.text import normalize, normalize_tokens, sentences
from deepflix.speech.timing import prepare, words_from_phonemes, words_proportional


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"), (7, "seven"), (15, "fifteen"), (21, "twenty-one"), (100, "one hundred"),
        (101, "one hundred one"), (999, "nine hundred ninety-nine"), (1000, "one thousand"),
        (1_250, "one thousand two hundred fifty"), (2_000_003, "two million three"), (-4, "minus four"),
    ],
)
def test_cardinals(n: int, words: str) -> None:
    assert num.cardinal(n) == words


@pytest.mark.parametrize(("n", "words"), [(1, "first"), (2, "second"), (3, "third"), (5, "fifth"), (12, "twelfth"),
                                          (20, "twentieth"), (21, "twenty-first"), (103, "one hundred third")])
def test_ordinals(n: int, words: str) -> None:
    assert num.ordinal(n) == words


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("In 1987 it rained.", "In nineteen eighty-seven it rained."),
        ("Born in 2005, gone by 2024.", "Born in two thousand five, gone by twenty twenty-four."),
        ("By 1900 the town was built.", "By nineteen hundred the town was built."),
        ("She came 3rd, he came 21st.", "She came third, he came twenty-first."),
        ("Pi is 3.14.", "Pi is three point one four."),
        ("It cost $5.20.", "It cost five dollars and twenty cents."),
        ("Only $1 and 50¢.", "Only one dollar and fifty cents."),
        ("A £3 fee and €0.50 tip.", "A three pounds fee and fifty cents tip."),
        ("They paid $3.5 million.", "They paid three point five million dollars."),
        ("Up 50% or 12.5%.", "Up fifty percent or twelve point five percent."),
        ("Meet at 10:30, not 10:05 or 10:00.", "Meet at ten thirty, not ten oh five or ten o'clock."),
        ("Leave at 7:15 p.m. sharp.", "Leave at seven fifteen p m sharp."),
        ("On March 3, 2024 we sailed.", "On March third, twenty twenty-four we sailed."),
        ("Dated 2024-03-14.", "Dated March fourteenth, twenty twenty-four."),
        ("Dated 7/4/1776.", "Dated July fourth, seventeen seventy-six."),
        ("Dr. Smith met Mr. Jones on Elm St. at noon.", "Doctor Smith met Mister Jones on Elm Street at noon."),
        ("St. Peter's gate.", "Saint Peter's gate."),
        ("Tools, e.g. hammers, i.e. things.", "Tools, for example hammers, that is things."),
        ("Salt & pepper, 2 + 2, 30°C.", "Salt and pepper, two plus two, thirty degrees Celsius."),
        ("Room #4 holds 1,250 people.", "Room number four holds one thousand two hundred fifty people."),
        ("Walk 5 km or 1 mile.", "Walk five kilometers or one mile."),
        ("The 1980s and the '90s.", "The nineteen eighties and the nineties."),
        ("Pages 10-12 are torn.", "Pages ten to twelve are torn."),
        ("Half is 1/2.", "Half is one half."),
        ("It dropped to -5 degrees.", "It dropped to minus five degrees."),
        ("Stop—now.", "Stop, now."),
        ("Rock & roll - forever.", "Rock and roll, forever."),
    ],
)
def test_normalize(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


def test_tokens_keep_the_written_word_next_to_its_spoken_form() -> None:
    toks = normalize_tokens("It cost $3 million, Dr. Lee.")
    assert [t.text for t in toks] == "It cost $3 million, Dr. Lee.".split()
    assert [t.spoken for t in toks] == ["It", "cost", "three million dollars,", "", "Doctor", "Lee."]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Who met Mr. J. R. R. Tolkien. They talked!", ["Dr. Who met Mr. J. R. R. Tolkien.", "They talked!"]),
        ("It was 3.5 miles. Then it rained.", ["It was 3.5 miles.", "Then it rained."]),
        ('"Run!" she said. He ran.', ['"Run!" she said.', "He ran."]),
        ("Wait... what? Yes.", ["Wait... what?", "Yes."]),
        ("Apples, pears, etc. were sold. Then nothing.", ["Apples, pears, etc. were sold.", "Then nothing."]),
        ("He left at 5 p.m. Then she came.", ["He left at 5 p.m.", "Then she came."]),
        ("Tools, e.g. Hammers, stay.", ["Tools, e.g. Hammers, stay."]),
        ("First part\n\nSecond part", ["First part", "Second part"]),
        ("No end punctuation", ["No end punctuation"]),
        ("... ", []),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_proportional_words_cover_the_span_one_per_written_word() -> None:
    (sent,) = prepare("It cost $5.20, friend.")
    words = words_proportional(sent, 1.0, 3.0)
    assert [w.text for w in words] == ["It", "cost", "$5.20,", "friend."]
    assert words[0].start == pytest.approx(1.0) and words[-1].end <= 3.0
    # "$5.20" is said as five words: it takes most of the time
    assert words[2].end - words[2].start > 2 * (words[3].end - words[3].start)


def test_phoneme_alignment_puts_the_comma_pause_between_words() -> None:
    (sent,) = prepare("Yes, go.")
    # "jˈɛs, ɡˈoʊ." with a long pause at the comma: 100 samples a phoneme at 1 kHz, 900 for ","
    phonemes = ["^", "j", "ˈ", "ɛ", "s", ",", " ", "ɡ", "ˈ", "o", "ʊ", ".", "$"]
    samples = [100, 100, 100, 100, 100, 900, 100, 100, 100, 100, 100, 100, 100]
    words = words_from_phonemes(sent, phonemes, samples, 1000)
    assert [w.text for w in words] == ["Yes,", "go."]
    assert words[0].start == pytest.approx(0.1) and words[0].end == pytest.approx(0.5)
    assert words[1].start == pytest.approx(1.5) and words[1].end == pytest.approx(1.9)
