"""Transitions, title/credits cards and captions, on frames in memory."""

import numpy as np
import pytest

from deepflix.cut.ffmpeg.captions import Captions, CaptionStyle
from deepflix.cut.ffmpeg.cards import credits_card, title_card
from deepflix.cut.ffmpeg.planes import BLACK, Frame
from deepflix.cut.ffmpeg.render import new_frame
from deepflix.cut.ffmpeg.transitions import blend, slide_join, smooth
from deepflix.models import SubtitleCue

W, H = 320, 180


def flat(y: int, u: int, v: int) -> Frame:
    f = new_frame(W, H)
    f.fill((y, u, v))
    return f


def test_crossfade_midpoint_is_the_average() -> None:
    a, b = flat(60, 100, 150), flat(200, 160, 110)
    blend("crossfade", a, b, 0.5)
    assert np.allclose(a.y, 130, atol=1) and np.allclose(a.u, 130, atol=1) and np.allclose(a.v, 130, atol=1)


def test_fade_black_passes_through_black() -> None:
    a, b = flat(180, 90, 170), flat(120, 140, 100)
    blend("fade_black", a, b, 0.5)
    assert np.allclose(a.y, BLACK[0], atol=1) and np.allclose(a.u, 128, atol=1)
    c = flat(180, 90, 170)
    blend("fade_black", c, b, 0.95)
    assert abs(float(c.y.mean()) - (16 + (120 - 16) * (1 - smooth(0.1)))) < 1.5  # nearly all the next scene


def test_wipe_left_reveals_the_next_scene_from_the_right() -> None:
    a, b = flat(50, 128, 128), flat(200, 128, 128)
    blend("wipe_left", a, b, 0.5)
    assert a.y[:, :40].mean() < 55 and a.y[:, -40:].mean() > 195
    edge = int(np.argmax(a.y[H // 2] > 125))
    assert abs(edge - W / 2) < 0.05 * W
    row = a.y[H // 2].astype(int)
    assert np.all(np.diff(row) >= 0)  # one soft edge, no steps back


def test_circle_opens_from_the_centre() -> None:
    a, b = flat(50, 128, 128), flat(200, 128, 128)
    blend("circle_open", a, b, 0.4)
    assert a.y[H // 2, W // 2] > 195 and a.y[0, 0] < 55


def test_slide_up_joins_at_the_moving_boundary() -> None:
    a, b = flat(50, 128, 128), flat(200, 128, 128)
    slide_join(a, b, 0.5)
    assert a.y[: H // 2 - 2].mean() < 55 and a.y[H // 2 + 2 :].mean() > 195


@pytest.mark.parametrize("size", [(640, 360), (360, 640), (360, 360)])
def test_cards_and_captions_fit_inside_the_frame(size: tuple[int, int]) -> None:
    w, h = size
    title = title_card("The Keeper of Grey Point and the Very Long Title", "A logline that wraps.", w, h)
    assert 0 <= title.y and title.y + title.height <= h and title.width <= w
    credits = credits_card(["Ada — the keeper", "", "Music: builtin/composer"], w, h)
    assert credits.height < h
    style = CaptionStyle(w, h)
    cap = style.render("A rather long line of dialogue that has to wrap onto a second line to fit")
    assert cap.y + cap.height <= h - style.bottom * 0.8  # clear of the bottom edge
    assert cap.y > h * 0.45  # in the lower part of the frame
    frame = new_frame(w, h)
    frame.fill((80, 128, 128))
    Captions([SubtitleCue(start=0, end=2, text="Hello there.")], style).draw(frame, 1.0)
    ys, xs = np.nonzero(frame.y > 200)
    assert len(xs) > 50  # white text drawn
    assert xs.min() > w * 0.04 and xs.max() < w * 0.96 and ys.max() < h - style.bottom * 0.8
    dark = frame.y[ys.min() : ys.max(), xs.min() : xs.max()]
    assert dark.min() < 40  # with a dark outline, readable on a white background too
