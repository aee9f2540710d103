"""The film's frames, one stretch (a scene and its transition out) at a time.

A ``Shot`` is a scene's picture made ready once: its canvas (and parallax
layers, or its clip) as YUV planes with the zoom margin, and its camera. A
``SegmentPlan`` says what one scene's stretch of film shows: the shot, the
titles, credits and captions over it, and the transition into the next shot,
which plays over this scene's last frames with the next shot held at its
opening framing. ``render_segment`` renders those frames one by one into the
encoder's buffers: memory holds two shots and a few frames, however long the
film.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from ...models import SubtitleCue
from .captions import Captions, CaptionStyle
from .cards import Overlay, credits_card, title_card
from .clips import ClipReader
from .motion import STEADY_MOVES, Camera, canvas_size, move_amount, zoom_margin
from .planes import (
    Frame,
    Planes,
    bgr_to_planes,
    cover,
    fade_to,
    premultiplied_planes,
    read_image,
)
from .transitions import blend, slide_offsets, smooth
from .warp import Canvas, Layer

TRANSITION_SECONDS = 0.8  # as the pipeline's timeline plans for (the scenes' silent tails)
FADE_IN_SECONDS = 0.8


@dataclass(frozen=True)
class ShotSpec:
    picture: Path
    layers: tuple[Path, ...] = ()
    clip: Path | None = None
    move: str = "push_in"
    clip_extend: str = "hold"  # past the clip's end: hold its last frame, or push in on it ("kenburns")


@dataclass
class SegmentPlan:
    shot: ShotSpec
    frames: int
    subtitles: list[SubtitleCue] = field(default_factory=list)  # seconds from the segment's start
    title: str | None = None
    logline: str = ""
    title_duration: float = 0.0
    credits: list[str] = field(default_factory=list)
    credits_duration: float = 0.0
    next: ShotSpec | None = None
    transition: str = "cut"
    transition_frames: int = 0
    fade_in: bool = False
    language: str = "en"  # the title's, the credits' and the captions' script and direction


BACK_DEPTH = 0.8  # the distant scenery (sky, far hills) moves this much of the camera's move
_DISTANT = ("sky", "far", "back", "distant", "bg")


def _alpha3(a: np.ndarray) -> np.ndarray:
    return cv2.merge((a, a, a))


def _over(dst: np.ndarray, bgra: np.ndarray) -> np.ndarray:
    """bgra (straight alpha) over an opaque BGR image, uint8, with OpenCV's saturating ops."""
    a3 = _alpha3(bgra[:, :, 3])
    keep = cv2.multiply(dst, cv2.bitwise_not(a3), scale=1 / 255)
    return cv2.add(keep, cv2.multiply(np.ascontiguousarray(bgra[:, :, :3]), a3, scale=1 / 255))


def _depth_groups(spec: ShotSpec, cw: int, ch: int) -> tuple[Canvas, list[Layer]]:
    """The picture's layers in two depths: the distant scenery (the back layer and
    those named sky/far after it), composited once into the base, which lags
    behind the camera; and everything nearer (ground, figures, weather) as one
    layer that moves with it. Figures keep their feet on the ground they stand
    on, and only one layer costs a warp and a blend per frame. Composited at the
    pictures' own size (uint8, premultiplied for the front), then scaled once."""
    imgs = [read_image(p) for p in spec.layers]
    names = [p.stem.lower() for p in spec.layers]
    nback = 1
    while nback < len(imgs) - 1 and any(k in names[nback] for k in _DISTANT):
        nback += 1
    first = imgs[0]
    if first.shape[2] == 4 and int(first[:, :, 3].min()) == 255:
        back = np.ascontiguousarray(first[:, :, :3])
    else:  # a see-through back layer: the whole picture behind it
        back = read_image(spec.picture)[:, :, :3]
        back = cv2.resize(np.ascontiguousarray(back), (first.shape[1], first.shape[0]), interpolation=cv2.INTER_AREA)
        if first.shape[2] == 4:
            back = _over(back, first)
    for img in imgs[1:nback]:
        back = _over(back, img) if img.shape[2] == 4 else np.ascontiguousarray(img[:, :, :3])
    base = Canvas(bgr_to_planes(cover(back, cw, ch)), steady=spec.move in STEADY_MOVES)
    front = [img for img in imgs[nback:] if img.shape[2] == 4 and img.shape[:2] == back.shape[:2]]
    if not front:
        return base, []
    pm: np.ndarray = np.zeros_like(back)  # premultiplied colour and coverage of the nearer layers, "over" in order
    alpha: np.ndarray = np.zeros(back.shape[:2], np.uint8)
    for img in front:
        a = np.ascontiguousarray(img[:, :, 3])
        a3 = _alpha3(a)
        pm = cv2.add(cv2.multiply(pm, cv2.bitwise_not(a3), scale=1 / 255),
                     cv2.multiply(np.ascontiguousarray(img[:, :, :3]), a3, scale=1 / 255))
        alpha = cv2.add(cv2.multiply(alpha, cv2.bitwise_not(a), scale=1 / 255), a)
    pm, alpha = cover(pm, cw, ch), cover(alpha, cw, ch)
    return base, [Layer(premultiplied_planes(pm, alpha), 1.0, steady=spec.move in STEADY_MOVES)]


def transition_frames(kind: str, seconds: float, frames: int, fps: int) -> int:
    """Frames of the transition at a segment's end: none for a cut, never most of the scene."""
    if kind == "cut" or seconds <= 0:
        return 0
    return max(1, min(round(seconds * fps), int(frames * 0.45)))


def new_frame(width: int, height: int) -> Frame:
    return Frame(np.empty(width * height * 3 // 2, np.uint8), width, height)


class Shot:
    """A scene's picture, ready to be filmed.

    A scene with a clip plays the clip in place of the camera move: its frames fill the
    frame as they are (the motion is the clip's own). Past the clip's end the scene holds
    its last frame (``hold``) or, with ``kenburns``, pushes in slowly on it from the whole
    frame (a push-in starts at the whole picture, so there is no jump) until the scene ends."""

    def __init__(self, spec: ShotSpec, width: int, height: int, fps: int) -> None:
        self.spec, self.width, self.height, self.fps = spec, width, height, fps
        move = "static" if spec.clip is not None else spec.move
        cw, ch = canvas_size(width, height, zoom_margin(move))
        self.camera = Camera(move, move_amount(4.0), width, height, cw, ch)
        self.frames = 1
        self.layers: list[Layer] = []
        self.clip: ClipReader | None = None
        self.base: Canvas | None = None
        self._tail: tuple[Canvas, Camera, int] | None = None  # kenburns past a clip's end: canvas, camera, first frame
        if spec.clip is not None:
            self.clip = ClipReader(spec.clip, width, height, fps)
        elif len(spec.layers) >= 2 and spec.move != "static":  # a still camera has no parallax
            self.base, self.layers = _depth_groups(spec, cw, ch)
        else:
            img = cover(read_image(spec.picture), cw, ch)
            self.base = Canvas(bgr_to_planes(np.ascontiguousarray(img[:, :, :3])), steady=spec.move in STEADY_MOVES)
        self._opening: Frame | None = None

    def set_length(self, frames: int) -> None:
        """The scene's length decides how far the camera goes (not where it starts)."""
        self.frames = max(1, frames)
        self.camera.amount = move_amount(frames / self.fps)

    def _clip_tail(self, k: int) -> tuple[Canvas, Camera, int] | None:
        """The push-in over a clip's last frame, once frame k is past its end (kenburns)."""
        assert self.clip is not None
        last = self.clip.last
        if self.spec.clip_extend != "kenburns" or last is None or k <= last or last >= self.frames - 1:
            return None
        if self._tail is None:
            end = self.clip.frame(last)
            cw, ch = canvas_size(self.width, self.height, zoom_margin("push_in"))
            up = Planes(cv2.resize(end.y, (cw, ch), interpolation=cv2.INTER_CUBIC),
                        cv2.resize(end.u, (cw // 2, ch // 2), interpolation=cv2.INTER_CUBIC),
                        cv2.resize(end.v, (cw // 2, ch // 2), interpolation=cv2.INTER_CUBIC))
            cam = Camera("push_in", move_amount((self.frames - 1 - last) / self.fps), self.width, self.height, cw, ch)
            self._tail = (Canvas(up), cam, last)
        return self._tail

    def render(self, k: int, frame: Frame, dy: float = 0.0) -> None:
        """Frame k of the scene into ``frame``, its content shifted down by ``dy`` px."""
        u = k / (self.frames - 1) if self.frames > 1 else 0.0
        if self.clip is not None:
            planes = self.clip.frame(k)
            tail = self._clip_tail(k)
            if tail is not None:
                canvas, cam, last = tail
                canvas.draw(cam.view((k - last) / (self.frames - 1 - last)).matrix(0.0, dy), frame)
                return
            if dy == 0.0:  # the clip's frame is the frame
                for src, dst in zip((planes.y, planes.u, planes.v), frame.planes):
                    np.copyto(dst, src)
            else:  # a slide's shifted frame
                Canvas(planes).draw(self.camera.view(0.0).matrix(0.0, dy), frame)
            return
        canvas = self.base
        assert canvas is not None
        depth = BACK_DEPTH if self.layers else 1.0
        canvas.draw(self.camera.view(u, depth).matrix(0.0, dy), frame)
        for layer in self.layers:
            layer.composite(self.camera.view(u, layer.depth).matrix(0.0, dy), frame)

    def opening(self) -> Frame:
        """The first frame (rendered once): what a transition into this scene shows."""
        if self._opening is None:
            self._opening = new_frame(self.width, self.height)
            self.render(0, self._opening)
        return self._opening

    def close(self) -> None:
        if self.clip is not None:
            self.clip.close()


def _title_opacity(t: float, duration: float) -> float:
    """In over 0.7 s from 0.3 s, out over the last 0.7 s of the title's time."""
    if duration <= 0:
        return 0.0
    ramp = min(0.7, duration / 3)
    return max(0.0, min(1.0, (t - 0.3) / ramp, (duration - t) / ramp))


class Credits:
    """The credits over the film's tail: the picture dims, the block fades in and
    drifts up (or rolls through, when it is taller than the frame)."""

    def __init__(self, lines: Sequence[str], start: float, duration: float, width: int, height: int,
                 language: str = "en") -> None:
        self.lines, self.start, self.duration, self.language = list(lines), start, duration, language
        self.width, self.height = width, height
        self._card: Overlay | None = None

    def draw(self, frame: Frame, t: float) -> None:
        if not self.lines or t < self.start:
            return
        if self._card is None:
            self._card = credits_card(self.lines, self.width, self.height, self.language)
        card = self._card
        q = min(1.0, (t - self.start) / max(1e-6, self.duration))
        fade = smooth(min(1.0, (t - self.start) / min(0.8, self.duration / 3)))
        fade_to(frame, 0.55 * fade)
        if card.height <= self.height * 0.82:  # fits: a gentle drift up
            dy = self.height * 0.03 * (1 - 2 * q)
        else:  # roll from below the middle to above it
            travel = card.height - self.height * 0.6
            dy = travel / 2 - travel * q
        card.draw(frame, fade, dy)


class Sink(Protocol):
    """Where frames go: the encoder (encode.FrameSink) or something in front of it."""

    width: int
    height: int
    fps: int

    def buffer(self) -> np.ndarray: ...

    def submit(self, buf: np.ndarray) -> None: ...


@contextmanager
def one_opencv_thread() -> Iterator[None]:
    """Render with OpenCV on one thread: the encoder keeps the other cores busy, and
    splitting each small resize across threads costs ~30% more CPU in all (measured:
    2.4 vs 3.1-3.7 ms per 1080p frame). OpenCV's setting is process-wide, so it is
    put back afterwards."""
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def render_segment(plan: SegmentPlan, sink: Sink, shot: Shot, next_shot: Shot | None = None,
                   captions: Captions | None = None, t_offset: float = 0.0) -> None:
    """Render the plan's frames into the sink. ``captions`` (drawn at ``t_offset + t``)
    replaces the plan's own subtitles when one caption track runs across segments."""
    w, h, fps = sink.width, sink.height, sink.fps
    n, nt = plan.frames, min(plan.transition_frames, plan.frames)
    shot.set_length(n)
    if captions is None:
        captions = Captions(plan.subtitles, CaptionStyle(w, h, plan.language))
        t_offset = 0.0
    title = title_card(plan.title, plan.logline, w, h, plan.language) if plan.title and plan.title_duration > 0 \
        else None
    credits = Credits(plan.credits, n / fps - plan.credits_duration, plan.credits_duration, w, h, plan.language) \
        if plan.credits and plan.credits_duration > 0 else None
    scratch = new_frame(w, h) if plan.transition == "slide_up" and next_shot is not None else None
    fade_in = min(FADE_IN_SECONDS, n / fps / 3) if plan.fade_in else 0.0
    for k in range(n):
        frame = Frame(sink.buffer(), w, h)
        t = k / fps
        j = k - (n - nt)  # index into the transition, when >= 0
        if next_shot is not None and j >= 0 and plan.transition != "cut":
            p = (j + 1) / (nt + 1)  # the next segment's first frame is p = 1
            if scratch is not None:
                da, db = slide_offsets(p, h)
                shot.render(k, frame, da)
                next_shot.render(0, scratch, db)
                blend("slide_up", frame, scratch, p)
            else:
                shot.render(k, frame)
                blend(plan.transition, frame, next_shot.opening(), p)
        else:
            shot.render(k, frame)
        if fade_in > 0 and t < fade_in:
            fade_to(frame, 1.0 - smooth(t / fade_in))
        if title is not None:
            title.draw(frame, _title_opacity(t, plan.title_duration))
        captions.draw(frame, t_offset + t)
        if credits is not None:
            credits.draw(frame, t)
        if next_shot is None and plan.transition == "fade_black" and j >= 0 and nt > 0:
            fade_to(frame, smooth((j + 1) / nt))  # the film's end: the last frame is black
        sink.submit(frame.buf)
