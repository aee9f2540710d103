"""Subtitles: burned-in captions, and the .srt/.vtt files and mov_text stream.

A caption is white Source Sans Semibold with a dark outline and a soft shadow,
readable on any background, inside the title-safe area: for 9:16 it sits
higher, clear of the controls a phone player draws over the bottom. Each cue is
rendered once, when it first shows, and dropped when it ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...models import SubtitleCue
from ...subtitles import to_srt, to_vtt  # written alongside; imported late
from .cards import Overlay, balance, lang_font, text_image
from .planes import Frame

FADE = 0.08  # s: a cue eases in and out over a couple of frames instead of popping


@dataclass(frozen=True)
class CaptionStyle:
    width: int
    height: int
    language: str = "en"  # its script's font, and its shaping (right to left for Arabic)

    @property
    def size(self) -> int:
        return max(14, round(min(self.width, self.height) * 0.05))

    @property
    def max_width(self) -> float:
        """Inside the safe area, and about 42 characters at most (a line the eye takes in at once)."""
        return min(self.width * (0.86 if self.width >= self.height else 0.88), self.size * 21.0)

    @property
    def bottom(self) -> int:
        """Distance from the frame's bottom edge to the text block's bottom."""
        aspect = self.width / self.height
        share = 0.075 if aspect > 1.2 else (0.09 if aspect > 0.8 else 0.17)
        return round(self.height * share)

    def render(self, text: str) -> Overlay:
        fnt = lang_font("Semibold", self.size, self.language)
        lines = []
        for part in text.split("\n"):
            lines += balance(part.strip(), fnt, self.max_width)
        lines = lines[:3]
        stroke = max(1, round(self.size * 0.07))
        shadow = max(2, round(self.size * 0.1))
        img = text_image([(line, fnt) for line in lines], self.width, line_gap=1.22, stroke=stroke,
                         shadow=shadow, pad=shadow, language=self.language)
        return Overlay(img, 0, self.height - self.bottom - img.size[1] + shadow)


class Captions:
    """The cues of one stretch of film (times relative to its start), drawn by time."""

    def __init__(self, cues: Sequence[SubtitleCue], style: CaptionStyle) -> None:
        self.cues = sorted((c for c in cues if c.end > c.start and c.text.strip()), key=lambda c: c.start)
        self.style = style
        self._cache: dict[int, Overlay] = {}
        self._done = 0  # cues before this one have ended (time only moves forward)

    def draw(self, frame: Frame, t: float) -> None:
        while self._done < len(self.cues) and self.cues[self._done].end <= t:
            self._cache.pop(self._done, None)
            self._done += 1
        for i in range(self._done, len(self.cues)):
            cue = self.cues[i]
            if cue.start > t:
                break
            if t >= cue.end:
                self._cache.pop(i, None)
                continue
            ov = self._cache.get(i)
            if ov is None:
                ov = self._cache[i] = self.style.render(cue.text)
            fade = min(1.0, (t - cue.start) / FADE + 0.5, (cue.end - t) / FADE)
            ov.draw(frame, max(0.0, fade))


def write_subtitle_files(cues: Sequence[SubtitleCue], out_dir: Path, stem: str = "movie",
                         language: str = "en") -> tuple[str, str]:
    """movie.srt and movie.vtt (names relative to out_dir), the VTT tagged with the language."""

    srt, vtt = f"{stem}.srt", f"{stem}.vtt"
    (out_dir / srt).write_text(to_srt(list(cues), language), encoding="utf-8")
    (out_dir / vtt).write_text(to_vtt(list(cues), language), encoding="utf-8")
    return srt, vtt
