"""The cut keeps its poster and its preview's windows in the store by what they are made
from (storage/parts.py): a cut whose one segment changed copies the poster and decodes
that segment's window only, and writes the same bytes as a cut made from nothing."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import pytest
import video_synth as vs

from deepflix.cut import ffmpeg_cut
from deepflix.cut.ffmpeg import poster
from deepflix.cut.ffmpeg_cut import FFmpegCut
from deepflix.cut.segment import FFmpegSegment
from deepflix.models import ArtifactRef, SubtitleCue
from deepflix.pipeline import FilmOptions, segment_requests
from deepflix.provider import StageContext
from deepflix.storage import LocalStore
from deepflix.storage.parts import remembered


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _segments(tmp: Path, req, tag: str) -> list[ArtifactRef]:  # type: ignore[no-untyped-def]
    refs = []
    for i, sreq in enumerate(segment_requests(req, FilmOptions(resolution="360p"))):
        out = tmp / f"seg{i}-{tag}"
        res = FFmpegSegment().generate(sreq, vs.ctx_for(out))
        # a segment's key is its content's: the same request, the same key
        refs.append(ArtifactRef(key=hashlib.sha256(sreq.model_dump_json().encode()).hexdigest(),
                                name=str(out / res.video)))
    return refs


@pytest.fixture()
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[object]]:
    """What the cut made itself: every preview window it decoded, every poster it drew."""
    calls: dict[str, list[object]] = {"windows": [], "posters": []}
    window, draw = poster.window_frames, ffmpeg_cut.make_poster

    def window_frames(video: Path, *a: object, **k: object) -> None:
        calls["windows"].append(video)
        window(video, *a, **k)  # type: ignore[arg-type]

    def make_poster(*a: object, **k: object) -> None:
        calls["posters"].append(a[0])
        draw(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(poster, "window_frames", window_frames)
    monkeypatch.setattr(ffmpeg_cut, "make_poster", make_poster)
    return calls


def _cut(req, out: Path, store: LocalStore | None) -> Path:  # type: ignore[no-untyped-def]
    out.mkdir(parents=True)
    ctx = StageContext(out_dir=out, resolve=lambda ref: Path(ref.name),
                       remember=functools.partial(remembered, store) if store is not None else None)
    FFmpegCut().generate(req, ctx)
    return out


def test_an_edited_cut_reuses_the_poster_and_the_unchanged_windows(tmp_path: Path,
                                                                  counted: dict[str, list[object]]) -> None:
    store = LocalStore(tmp_path / "store")
    cues = [SubtitleCue(start=2.7, end=3.9, text="Salt on the glass.", scene_index=1)]
    first = vs.request(tmp_path / "in", [2.5, 2.0, 2.0], ["red", "blue", "green"], cues=cues,
                       transitions=["crossfade", "slide_up", "cut"])
    req1 = first.model_copy(update={"segments": _segments(tmp_path, first, "a")})
    a = _cut(req1, tmp_path / "a", store)
    # three scenes: the preview shows the first two (poster.preview_windows)
    assert counted["windows"] == [Path(r.name) for r in req1.segments[:2]] and len(counted["posters"]) == 1

    # scene 2's subtitle edited: its segment is new, the others are the same segments
    edited_cues = [cues[0].model_copy(update={"text": "Salt on the window."})]
    second = first.model_copy(update={"subtitles": edited_cues})
    segs = _segments(tmp_path, second, "b")
    assert [s.key == t.key for s, t in zip(segs, req1.segments)] == [True, False, True]
    req2 = second.model_copy(update={"segments": segs})
    counted["windows"].clear(), counted["posters"].clear()
    b = _cut(req2, tmp_path / "b", store)
    assert counted["posters"] == []  # the poster's scene (the middle one's picture), title and logline: unchanged
    assert counted["windows"] == [Path(segs[1].name)]  # only the re-encoded segment's moment was decoded
    assert _sha(b / "poster.jpg") == _sha(a / "poster.jpg")

    # what was kept makes the same files as a cut that keeps nothing (make_preview in one ffmpeg)
    fresh = _cut(req2, tmp_path / "fresh", None)
    for name in ("poster.jpg", "preview.webp", "movie.mp4"):
        assert _sha(b / name) == _sha(fresh / name), name
    assert _sha(b / "preview.webp") != _sha(a / "preview.webp")  # and it shows the edit

    # the same cut again: the whole preview comes from the store, nothing decoded
    counted["windows"].clear()
    c = _cut(req2, tmp_path / "c", store)
    assert counted["windows"] == [] and _sha(c / "preview.webp") == _sha(b / "preview.webp")


def test_a_broken_kept_part_is_made_again(tmp_path: Path, counted: dict[str, list[object]]) -> None:
    store = LocalStore(tmp_path / "store")
    req = vs.request(tmp_path / "in", [1.5, 1.5], ["red", "blue"])
    req = req.model_copy(update={"segments": _segments(tmp_path, req, "a")})
    a = _cut(req, tmp_path / "a", store)
    for kept in (tmp_path / "store").glob("*/*/poster.jpg"):
        kept.write_bytes(b"not a jpeg")  # truncated, or swapped: its recorded hash says so
    counted["posters"].clear()
    b = _cut(req, tmp_path / "b", store)
    assert len(counted["posters"]) == 1 and _sha(b / "poster.jpg") == _sha(a / "poster.jpg")
