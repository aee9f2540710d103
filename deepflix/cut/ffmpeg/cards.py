"""Text on the picture: the title card, the end credits, and the ``Overlay`` they
and the subtitles share.

Text is drawn once with Pillow (Source Sans Pro, SIL OFL, from the
font-source-sans-pro package) into an RGBA image, converted to planes once, and
then alpha-blended each frame over its own box only: no per-frame text
rendering, no full-frame work for a line of text.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .fonts import drawable, layout, script_font
from .planes import Frame, Planes, premultiplied_planes

WHITE = (255, 255, 255, 255)


@lru_cache(maxsize=32)
def font(style: str, size: int) -> ImageFont.FreeTypeFont:
    """Source Sans Pro in a style (Regular, Semibold, Bold, Light, It, SemiboldIt...)."""
    path = resources.files("font_source_sans_pro") / "files" / f"SourceSansPro-{style}.ttf"
    with resources.as_file(path) as p:
        return ImageFont.truetype(str(p), size)


def lang_font(style: str, size: int, language: str = "en") -> ImageFont.FreeTypeFont:
    """The style's font for the film's language (English: Source Sans Pro, as always)."""
    return font(style, size) if language == "en" else script_font(style, size, language)


def wrap(text: str, fnt: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy word wrap by measured width; explicit line breaks are kept."""
    lines: list[str] = []
    for para in text.split("\n"):
        words = para.split()
        if not words:
            lines.append("")
            continue
        line = words[0]
        for w in words[1:]:
            if fnt.getlength(line + " " + w) <= max_width:
                line += " " + w
            else:
                lines.append(line)
                line = w
        lines.append(line)
    return lines


def balance(text: str, fnt: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Wrap, then even out two-line breaks (a long line over a one-word line reads badly)."""
    lines = wrap(text, fnt, max_width)
    if len(lines) == 2 and "\n" not in text:
        words = text.split()
        best = lines
        best_cost = max(fnt.getlength(line) for line in lines)
        for i in range(1, len(words)):
            a, b = " ".join(words[:i]), " ".join(words[i:])
            cost = max(fnt.getlength(a), fnt.getlength(b))
            if cost < best_cost:
                best, best_cost = [a, b], cost
        lines = best
    return lines


class Overlay:
    """An RGBA picture as premultiplied planes, cropped to where it is not transparent
    and placed at (x, y) on the frame (even, so chroma lines up). Blending is two
    saturating uint8 operations per plane over that box: a fraction of a
    millisecond for a caption at 1080p."""

    def __init__(self, rgba: Image.Image, x: int, y: int) -> None:
        arr = np.asarray(rgba.convert("RGBA"))
        ys, xs = np.nonzero(arr[:, :, 3])
        if len(xs):  # crop to the visible box, on even coordinates
            x0, y0 = int(xs.min()) & ~1, int(ys.min()) & ~1
            x1, y1 = int(xs.max()) + 1, int(ys.max()) + 1
            x1, y1 = x1 + x1 % 2, y1 + y1 % 2
            arr = arr[y0:y1, x0:x1]
        else:
            x0 = y0 = 0
            arr = np.zeros((2, 2, 4), np.uint8)
        if arr.shape[0] % 2 or arr.shape[1] % 2:
            arr = np.pad(arr, ((0, arr.shape[0] % 2), (0, arr.shape[1] % 2), (0, 0)))
        alpha = np.ascontiguousarray(arr[:, :, 3])
        pm = cv2.multiply(np.ascontiguousarray(arr[:, :, 2::-1]), cv2.merge((alpha, alpha, alpha)), scale=1 / 255)
        self.planes: Planes = premultiplied_planes(pm, alpha)
        self.x, self.y = (x + x0) & ~1, (y + y0) & ~1
        self.height, self.width = arr.shape[:2]
        self._pad: tuple[np.ndarray, ...] | None = None

    def _padded(self) -> tuple[np.ndarray, ...]:
        """y, u, v, a, a2 with one transparent row above and two below: each row of a
        shifted copy then blends two of these (a tenth of warpAffine's CPU)."""
        if self._pad is None:
            p = self.planes
            self._pad = tuple(cv2.copyMakeBorder(img, 1, 2, 0, 0, cv2.BORDER_CONSTANT, value=0)
                              for img in (p.y, p.u, p.v, p.a, p.a2))
        return self._pad

    def draw(self, frame: Frame, opacity: float = 1.0, dy: float = 0.0) -> None:
        """Blend onto the frame, moved down by ``dy`` output pixels (sub-pixel: the
        credits roll smoothly); the part outside the frame is skipped."""
        if opacity <= 0.002:
            return
        p = self.planes
        assert p.a is not None and p.a2 is not None
        y = self.y + dy
        y0 = math.floor(y) & ~1
        frac = y - y0
        if frac > 1e-6:  # sub-pixel: the overlay 2 rows taller, moved down by frac (linear, as a warp would)
            h = self.height + 2
            src = Planes(*(cv2.addWeighted(pad[1 : 1 + n], 1.0 - f, pad[:n], f, 0.0)
                           for pad, n, f in zip(self._padded(), (h, h // 2, h // 2, h, h // 2),
                                                (frac, frac / 2, frac / 2, frac, frac / 2), strict=True)))
        else:
            src, h = p, self.height
        x0 = self.x
        fx0, fy0 = max(0, x0), max(0, y0)  # clip to the frame
        fx1, fy1 = min(frame.width, x0 + self.width), min(frame.height, y0 + h)
        if fx1 <= fx0 or fy1 <= fy0:
            return
        sx, sy = fx0 - x0, fy0 - y0
        sw, sh = fx1 - fx0, fy1 - fy0
        assert src.a is not None and src.a2 is not None
        full_box, src_box = (slice(fy0, fy1), slice(fx0, fx1)), (slice(sy, sy + sh), slice(sx, sx + sw))
        half_box = (slice(fy0 // 2, fy1 // 2), slice(fx0 // 2, fx1 // 2))
        src_half = (slice(sy // 2, (sy + sh) // 2), slice(sx // 2, (sx + sw) // 2))
        over(frame.y[full_box], src.y[src_box], src.a[src_box], opacity)
        over(frame.u[half_box], src.u[src_half], src.a2[src_half], opacity)
        over(frame.v[half_box], src.v[src_half], src.a2[src_half], opacity)


def over(dst: np.ndarray, pm: np.ndarray, alpha: np.ndarray, opacity: float) -> None:
    """dst = dst * (1 - alpha * opacity) + pm * opacity, in place; pm is premultiplied."""
    if opacity >= 0.999:
        keep = cv2.bitwise_not(alpha)
    else:
        keep = cv2.convertScaleAbs(alpha, alpha=-opacity, beta=255.0)
        pm = cv2.convertScaleAbs(pm, alpha=opacity)
    cv2.multiply(dst, keep, dst=dst, scale=1 / 255)
    cv2.add(dst, pm, dst=dst)


def text_image(lines: list[tuple[str, ImageFont.FreeTypeFont]], width: int, *, line_gap: float = 1.25,
               stroke: int = 0, shadow: int = 0, pad: int = 0, language: str = "en") -> Image.Image:
    """Centred lines of white text on transparency, with an optional dark outline
    and a soft drop shadow: readable on any background. Shaped for the language
    (fonts.layout); characters the font cannot draw are left out, not drawn as boxes."""
    shaping = layout(language)
    heights = [round(f.size * line_gap) for _, f in lines]
    height = sum(heights) + 2 * pad
    img = Image.new("RGBA", (width, height + 2 * shadow), (0, 0, 0, 0))
    shade = Image.new("L", img.size, 0)
    draw, sdraw = ImageDraw.Draw(img), ImageDraw.Draw(shade)
    y = pad
    for (text, fnt), lh in zip(lines, heights):
        text = drawable(text, fnt)
        if text:
            x = width / 2
            top = y + (lh - fnt.size) / 2
            if shadow:
                sdraw.text((x + shadow * 0.5, top + shadow), text, font=fnt, fill=255, anchor="mt",
                           stroke_width=stroke + shadow // 2, stroke_fill=255, **shaping)
            draw.text((x, top), text, font=fnt, fill=WHITE, anchor="mt", stroke_width=stroke,
                      stroke_fill=(0, 0, 0, 255), **shaping)
        y += lh
    if shadow:
        soft = shade.filter(ImageFilter.GaussianBlur(shadow))
        base = Image.new("RGBA", img.size, (0, 0, 0, 0))
        base.putalpha(soft.point(lambda v: int(v * 0.75)))
        img = Image.alpha_composite(base, img)
    return img


def _veil(width: int, height: int, strength: float) -> Image.Image:
    """Black with a soft vertical falloff, so titles read over bright pictures."""
    yy = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
    alpha = strength * np.clip(1.0 - yy**2, 0, 1) ** 1.5
    a = np.repeat((alpha * 255).astype(np.uint8), width, axis=1)
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[:, :, 3] = a
    return Image.fromarray(rgba, "RGBA")


def title_card(title: str, logline: str, width: int, height: int, language: str = "en") -> Overlay:
    """The film's title and logline, centred on a soft dark band."""
    short = min(width, height)
    max_w = width * 0.84
    tsize = max(14, round(short * 0.095))
    tfont = lang_font("Semibold", tsize, language)
    while tsize > 14 and max(tfont.getlength(w) for w in title.split() or [title]) > max_w:
        tsize = int(tsize * 0.9)  # one very long word: shrink until it fits
        tfont = lang_font("Semibold", tsize, language)
    lines = [(line, tfont) for line in balance(title, tfont, max_w)]
    if logline.strip():
        lfont = lang_font("LightIt", max(12, round(short * 0.04)), language)
        lines.append(("", font("Regular", max(6, round(short * 0.012)))))
        lines += [(line, lfont) for line in wrap(logline.strip(), lfont, width * 0.72)][:4]
    shadow = max(2, round(short * 0.006))
    text = text_image(lines, width, line_gap=1.18, stroke=0, shadow=shadow, language=language)
    band_h = min(height, int(text.size[1] * 1.9) + 2 * shadow)
    band = _veil(width, band_h, 0.62)
    band.alpha_composite(text, (0, (band_h - text.size[1]) // 2))
    return Overlay(band, 0, (height - band_h) // 2)


def credits_card(lines: list[str], width: int, height: int, language: str = "en") -> Overlay:
    """The credits lines as one centred block (the cast, who made the film)."""
    short = min(width, height)
    size = max(12, round(short * 0.042))
    body = lang_font("Regular", size, language)
    head = lang_font("Semibold", round(size * 1.08), language)
    rows: list[tuple[str, ImageFont.FreeTypeFont]] = []
    first = True
    for line in lines:
        if not line.strip():
            rows.append(("", font("Regular", max(6, size // 2))))
            first = True
            continue
        for part in wrap(line, body, width * 0.8):
            rows.append((part, head if first else body))
            first = False
    shadow = max(2, round(short * 0.004))
    img = text_image(rows, width, line_gap=1.3, shadow=shadow, language=language)
    return Overlay(img, 0, (height - img.size[1]) // 2)
