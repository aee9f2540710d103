"""Subtitles from the speech's own timing, by the Netflix timed-text rules of the film's language.

``build_cues`` turns each scene's sentence segments (already on the film's
timeline) into events: at most 2 lines of at most 42 characters (broken at
natural points, bottom-heavy), at least 5/6 s each, at most 7 s, at most 20
characters a second where the silence around the words allows it, at least 2
frames between events, and never across a scene cut (they end 2 frames before
it). Long sentences are split at punctuation or phrase boundaries and timed by
their words. Times are whole frames. ``check_rules`` reports what breaks those
rules; ``to_srt`` / ``to_vtt`` write the files.

Other languages take their own line length and reading speed from
``languages.subtitle_rules`` (13 full-width characters a line and 4 a second for
Japanese, 16 and 9 for Chinese, 17 a second for Spanish...). Japanese and Chinese
have no spaces: their lines break between characters, after 、。 where it can,
and never before a mark that may not start a line (kinsoku); half-width
characters count half. Arabic and Hebrew lines start with a right-to-left mark
in the files, so a line that begins with a Latin name or a digit still reads
right to left.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from .languages import SubtitleRules, is_rtl, subtitle_rules
from .models import Segment, SubtitleCue

MAX_LINE = 42
MAX_LINES = 2
MIN_DURATION = 5 / 6
MAX_DURATION = 7.0
MAX_CPS = 20.0
GAP_FRAMES = 2
CHAIN_GAP = 0.5  # a gap shorter than this closes to 2 frames (no flicker between events)
MAX_LEAD = 0.3  # an event may appear this much before its words, to get its reading time
TOL = 0.002

_CONJ = {"and", "but", "or", "so", "because", "which", "that", "who", "when", "while", "where", "although",
         "though", "if", "then", "until", "unless", "as", "before", "after", "since", "whose", "yet", "nor"}
_PREP = {"in", "on", "at", "from", "with", "without", "of", "for", "by", "into", "onto", "over", "under",
         "through", "across", "behind", "beyond", "toward", "towards", "against", "between", "along", "past"}
_GLUE = {"a", "an", "the", "my", "your", "his", "her", "its", "our", "their", "this", "that", "these", "those",
         "mr.", "mrs.", "ms.", "dr.", "st.", "to", "not", "very", "is", "was", "be", "i", "we", "you", "he", "she",
         "they", "it"} | _PREP  # a line or event should not end on these


_ABBREV = {"mr.", "mrs.", "ms.", "dr.", "st.", "prof.", "mt.", "a.m.", "p.m.", "e.g.", "i.e.", "vs.", "u.s.", "u.k.",
           "jr.", "sr.", "no.", "capt.", "gen.", "lt.", "sgt."}  # their period ends no sentence


ENGLISH = SubtitleRules(MAX_LINE, MAX_CPS)
# the rules of the film being subtitled; a context variable, so films subtitled at once on
# different threads each keep their own
_RULES: ContextVar[SubtitleRules] = ContextVar("subtitle_rules", default=ENGLISH)
RLM = "\u200f"
_NO_LINE_START = set("、。，．！？：；）」』】〉》ー〜・…ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ")
_NO_LINE_END = set("（「『【〈《")


@contextmanager
def using(language: str | SubtitleRules) -> Iterator[SubtitleRules]:
    rules = language if isinstance(language, SubtitleRules) else subtitle_rules(language)
    token = _RULES.set(rules)
    try:
        yield rules
    finally:
        _RULES.reset(token)


def text_length(text: str) -> float:
    """Characters as the rules count them: no format marks (RLM); for Japanese and Chinese,
    half-width characters (Latin letters, digits) count half."""
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    if not _RULES.get().unspaced:
        return len(text)
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in text)


def _split(text: str) -> list[str]:
    """The units a line breaks between: words, or characters where the script has no spaces."""
    return list(text) if _RULES.get().unspaced else text.split(" ")


def _bare(w: str) -> str:
    return w.lower().strip("\"'“”‘’()[]")


def _join(words: Sequence[str]) -> str:
    return ("" if _RULES.get().unspaced else " ").join(words)


def _cjk_score(left: str, right: str) -> float:
    if right in _NO_LINE_START or left in _NO_LINE_END or (left.isascii() and right.isascii() and left.isalnum()
                                                           and right.isalnum()):
        return -20.0  # kinsoku, and never inside a Latin word or a number
    if left in "。！？":
        return 4.0
    if left in "、，；：":
        return 3.0
    return 0.0


def _boundary_score(left: str, right: str) -> float:
    """How natural a break between these two words is."""
    if _RULES.get().unspaced:
        return _cjk_score(left, right)
    score = 0.0
    if re.search(r"[.!?…][\"'”’)]*$", left) and _bare(left).rstrip(",;:") not in _ABBREV:
        score += 4
    elif re.search(r"[;:][\"'”’)]*$", left):
        score += 3.5
    elif re.search(r"[,—–-][\"'”’)]*$", left) or right in ("—", "–", "-"):
        score += 3
    elif _bare(right) in _CONJ:
        score += 1.5
    elif _bare(right) in _PREP:
        score += 1
    if _bare(left) in _GLUE and not re.search(r"[^\w']$", left):
        score -= 3
    if left[:1].isupper() and right[:1].isupper() and left[-1:].isalpha():
        score -= 2.5  # inside a name: "Nadia | Novak"
    return score


def break_lines(text: str) -> str | None:
    """One line if it fits, else the best two-line break; None if it cannot fit in two lines."""
    max_line = _RULES.get().max_line
    if text_length(text) <= max_line:
        return text
    words = _split(text)
    best: tuple[float, str] | None = None
    for k in range(1, len(words)):
        top, bottom = _join(words[:k]).strip(), _join(words[k:]).strip()
        ltop, lbottom = text_length(top), text_length(bottom)
        if ltop > max_line or lbottom > max_line or not top or not bottom:
            continue
        score = _boundary_score(words[k - 1], words[k]) - 2.0 * abs(ltop - lbottom) / max_line
        if ltop > lbottom + 2:  # bottom-heavy pyramid preferred
            score -= 0.75
        if best is None or score > best[0]:
            best = (score, f"{top}\n{bottom}")
    return best[1] if best else None


def split_words(words: list[str], spans: list[tuple[float, float]] | None = None) -> list[tuple[int, int]]:
    """[i, j) word ranges, each fitting two lines (and, when timed, under 7 s), cut at natural points."""
    n = len(words)
    too_long = spans is not None and n > 1 and spans[-1][1] - spans[0][0] > MAX_DURATION - 0.3
    if n <= 1 or (break_lines(_join(words)) is not None and not too_long):
        return [(0, n)]
    total = text_length(_join(words)) or 1
    best_k, best = 1, -math.inf
    for k in range(1, n):
        left = text_length(_join(words[:k]))
        score = _boundary_score(words[k - 1], words[k]) - 4.0 * abs(left - (total - left - 1)) / total
        if score > best:
            best_k, best = k, score
    a = split_words(words[:best_k], spans[:best_k] if spans else None)
    b = split_words(words[best_k:], spans[best_k:] if spans else None)
    return a + [(i + best_k, j + best_k) for i, j in b]


@dataclass
class _Event:
    start: int  # frames
    speech_end: int
    text: str
    speaker: str
    end: int = 0

    @property
    def chars(self) -> float:
        return text_length(self.text.replace("\n", ""))


def _pieces(seg: Segment, fps: float) -> list[_Event]:
    unspaced = _RULES.get().unspaced
    words = list(seg.text.strip()) if unspaced else seg.text.split()
    timed = len(seg.words) == len(words) and len(words) > 0 and not unspaced  # Words are per token
    spans = [(w.start, w.end) for w in seg.words] if timed else None
    events = []
    for i, j in split_words(words, spans):
        if spans:
            a, b = spans[i][0], max(spans[j - 1][1], spans[i][0])
        else:  # by characters over the segment
            total = len(seg.text) or 1
            before = len(_join(words[:i])) + (1 if i and not unspaced else 0)
            a = seg.start + (seg.end - seg.start) * before / total
            b = seg.start + (seg.end - seg.start) * (before + len(_join(words[i:j]))) / total
        piece = _join(words[i:j]).strip()
        text = break_lines(piece) or piece
        events.append(_Event(math.floor(a * fps + 1e-6), math.ceil(b * fps - 1e-6), text, seg.speaker))
    return events


def _merge(a: _Event, b: _Event) -> str | None:
    """Two short events as one: dual speakers one per line, with a hyphen (Netflix style)."""
    sep = _join(["", ""])
    if a.speaker != b.speaker:
        top, bottom = f"-{a.text.replace(chr(10), sep)}", f"-{b.text.replace(chr(10), sep)}"
        max_line = _RULES.get().max_line
        return f"{top}\n{bottom}" if text_length(top) <= max_line and text_length(bottom) <= max_line else None
    return break_lines(f"{a.text.replace(chr(10), sep)}{sep}{b.text.replace(chr(10), sep)}")


def _time_scene(events: list[_Event], lo: int, hi: int, fps: float) -> None:
    """Set each event's start and end (frames) inside the scene's frames [lo, hi)."""
    gap = GAP_FRAMES
    min_f = math.ceil(MIN_DURATION * fps - 1e-6)
    max_f = int(MAX_DURATION * fps)
    lead = int(MAX_LEAD * fps)
    said = []  # when each event's words begin
    need = []  # frames each event needs on screen: 5/6 s, and 20 characters a second
    for e in events:
        e.start = max(e.start, lo)
        said.append(e.start)
        need.append(min(max_f, max(min_f, math.ceil(e.chars / _RULES.get().max_cps * fps - 1e-6))))
    # ends: hold each event for its words and its reading time, chained to the next when close
    for i, e in enumerate(events):
        limit = (events[i + 1].start if i + 1 < len(events) else hi) - gap
        end = max(e.speech_end, e.start + need[i])
        if limit - end < CHAIN_GAP * fps:
            end = limit
        e.end = min(end, limit, e.start + max_f)
    # an event still short of its reading time takes a little from its neighbours' spare time:
    # it may appear up to MAX_LEAD before its words, or the next one up to MAX_LEAD after its own
    for i, e in enumerate(events):
        short = need[i] - (e.end - e.start)
        if short <= 0:
            continue
        prev = events[i - 1] if i else None
        floor = lo if prev is None else max(prev.start + need[i - 1], prev.speech_end - lead) + gap
        new_start = max(floor, e.start - short, said[i] - lead)
        if new_start < e.start:
            e.start = new_start
            if prev is not None:
                prev.end = min(prev.end, e.start - gap)
        short = need[i] - (e.end - e.start)
        if short > 0 and i + 1 < len(events):
            nxt = events[i + 1]
            ceiling = min(said[i + 1] + lead, nxt.end - need[i + 1]) - gap
            new_end = min(e.end + short, ceiling, e.start + max_f)
            if new_end > e.end:
                e.end = new_end
                nxt.start = e.end + gap


def _words_on_timeline(segments: list[Segment]) -> list[Segment]:
    """Words must lie inside their segments. When a caller moved the segments onto the film's timeline
    but not their words, the words are still relative to the scene's audio, whose first segment starts
    at 0 (render_scene's layout): move them by the first segment's start."""

    def inside(segs: list[Segment]) -> bool:
        return all(s.start - 0.05 <= w.start and w.end <= s.end + 0.05 for s in segs for w in s.words)

    if not segments or inside(segments):
        return segments
    base = segments[0].start
    moved = [s.model_copy(update={"words": [w.model_copy(update={"start": w.start + base, "end": w.end + base})
                                            for w in s.words]}) for s in segments]
    if inside(moved):
        return moved
    return [s.model_copy(update={"words": []}) for s in segments]  # unusable: time by characters


def build_cues(per_scene: Sequence[tuple[float, float, Sequence[Segment]]], fps: float = 30.0,
               language: str = "en") -> list[SubtitleCue]:
    """``per_scene``: (scene start, scene end, its segments on the film timeline), scenes in order."""
    with using(language):
        return _build_cues(per_scene, fps)


def _build_cues(per_scene: Sequence[tuple[float, float, Sequence[Segment]]], fps: float) -> list[SubtitleCue]:
    cues: list[SubtitleCue] = []
    for index, (s0, s1, segments) in enumerate(per_scene):
        lo, hi = round(s0 * fps), round(s1 * fps)
        events: list[_Event] = []
        for seg in _words_on_timeline(sorted(segments, key=lambda s: s.start)):
            if seg.text.strip():
                events += _pieces(seg, fps)
        events.sort(key=lambda e: e.start)
        # two events too close to read apart become one, when both fit
        min_f = math.ceil(MIN_DURATION * fps - 1e-6)
        i = 0
        while i + 1 < len(events):
            a, b = events[i], events[i + 1]
            merged = _merge(a, b) if b.start - GAP_FRAMES - a.start < min_f else None
            if merged:
                events[i : i + 2] = [_Event(a.start, max(a.speech_end, b.speech_end), merged, a.speaker)]
            else:
                i += 1
        _time_scene(events, lo, hi, fps)
        for e in events:
            if e.end > e.start:
                cues.append(SubtitleCue(start=round(e.start / fps, 3), end=round(e.end / fps, 3), text=e.text,
                                        scene_index=index))
    return cues


def check_rules(
    cues: Sequence[SubtitleCue],
    scene_bounds: Sequence[tuple[float, float]],
    fps: float = 30.0,
    max_cps: float | None = MAX_CPS,
    language: str = "en",
) -> list[str]:
    """Every broken rule, one line each; empty when the subtitles are fine. ``max_cps`` is the
    English rule; another ``language`` checks its own line length and reading speed
    (``max_cps=None`` skips the reading speed)."""
    with using(language) as rules:
        if language != "en" and max_cps is not None:
            max_cps = rules.max_cps
        return _check(cues, scene_bounds, fps, max_cps, rules)


def _check(cues: Sequence[SubtitleCue], scene_bounds: Sequence[tuple[float, float]], fps: float,
           max_cps: float | None, rules: SubtitleRules) -> list[str]:
    bad: list[str] = []
    cuts = sorted({round(b, 3) for s, e in scene_bounds for b in (s, e)})
    for n, c in enumerate(cues, 1):
        where = f"cue {n} ({c.start:.3f}-{c.end:.3f})"
        lines = c.text.split("\n")
        dur = c.end - c.start
        if not c.text.strip():
            bad.append(f"{where} is empty")
        if len(lines) > MAX_LINES:
            bad.append(f"{where} has {len(lines)} lines (max {MAX_LINES})")
        for k, line in enumerate(lines, 1):
            if text_length(line) > rules.max_line:
                bad.append(f"{where} line {k} has {text_length(line):g} characters (max {rules.max_line}): {line!r}")
        if dur < MIN_DURATION - TOL:
            bad.append(f"{where} lasts {dur:.3f}s (min {MIN_DURATION:.3f}s)")
        if dur > MAX_DURATION + TOL:
            bad.append(f"{where} lasts {dur:.3f}s (max {MAX_DURATION:.0f}s)")
        chars = text_length(c.text.replace("\n", ""))
        if max_cps is not None and dur > 0 and chars / dur > max_cps + 0.05:
            bad.append(f"{where} needs {chars / dur:.1f} characters a second (max {max_cps:g})")
        if not 0 <= c.scene_index < len(scene_bounds):
            bad.append(f"{where} names scene {c.scene_index + 1} of {len(scene_bounds)}")
        else:
            s, e = scene_bounds[c.scene_index]
            if c.start < s - TOL or c.end > e + TOL:
                bad.append(f"{where} is outside its scene {c.scene_index + 1} ({s:.3f}-{e:.3f})")
        crossed = [t for t in cuts if c.start + TOL < t < c.end - TOL]
        if crossed:
            bad.append(f"{where} crosses the scene cut at {crossed[0]:.3f}")
    for n, (a, b) in enumerate(zip(cues, cues[1:]), 1):
        if b.start - a.end < GAP_FRAMES / fps - TOL:
            bad.append(f"cues {n} and {n + 1} are {b.start - a.end:.3f}s apart (min {GAP_FRAMES} frames)")
    return bad


def _stamp(t: float, sep: str) -> str:
    ms = int(round(max(t, 0.0) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _lines(text: str, language: str) -> str:
    """Right-to-left lines start with a right-to-left mark, so a line that opens with a Latin
    name or a digit is still laid out right to left by every player."""

    if language == "en" or not is_rtl(language):
        return text
    return "\n".join(RLM + line if line and not line.startswith(RLM) else line for line in text.split("\n"))


def to_srt(cues: Sequence[SubtitleCue], language: str = "en") -> str:
    return "".join(f"{n}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{_lines(c.text, language)}\n\n"
                   for n, c in enumerate(cues, 1))


def to_vtt(cues: Sequence[SubtitleCue], language: str = "en") -> str:
    """WebVTT; a film in another language than English says so in the header (``Language: ja``)."""
    def esc(t: str) -> str:
        return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    body = "".join(f"{n}\n{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{esc(_lines(c.text, language))}\n\n"
                   for n, c in enumerate(cues, 1))
    header = "WEBVTT" if language == "en" else f"WEBVTT\nLanguage: {language}"
    return header + "\n\n" + body
