"""The segment stage (one scene's picture, encoded alone) and the cut joining segments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import video_synth as vs

from deepflix.cut.ffmpeg.encode import video_codec_args
from deepflix.cut.ffmpeg.probe import count_frames, grab_frames, mp4_layout, probe
from deepflix.cut.ffmpeg_cut import FFmpegCut
from deepflix.cut.segment import FFmpegSegment
from deepflix.errors import InvalidInput
from deepflix.models import ArtifactRef, SubtitleCue
from deepflix.pipeline import FilmOptions, segment_requests

CUES = [SubtitleCue(start=2.3, end=3.1, text="Salt on the glass.", scene_index=1)]


def _segments(tmp: Path, req):  # type: ignore[no-untyped-def]
    refs = []
    for i, sreq in enumerate(segment_requests(req, FilmOptions(resolution="360p"))):
        out = tmp / f"seg{i}"
        res = FFmpegSegment().generate(sreq, vs.ctx_for(out))
        assert res.frames == round(req.scenes[i].duration * 30)
        refs.append(ArtifactRef(key="test", name=str(out / res.video)))
    return refs


def test_segments_join_into_the_same_film(tmp_path: Path) -> None:
    req = vs.request(tmp_path / "in", [1.5, 2.0, 1.5], ["red", "blue", "green"], cues=CUES,
                     transitions=["crossfade", "slide_up", "cut"])
    refs = _segments(tmp_path, req)
    joined = FFmpegCut().generate(req.model_copy(update={"segments": refs}), vs.ctx_for(tmp_path / "joined"))
    whole = FFmpegCut().generate(req, vs.ctx_for(tmp_path / "whole"))
    a, b = tmp_path / "joined" / joined.video, tmp_path / "whole" / whole.video
    assert count_frames(a) == count_frames(b) == 150
    info = probe(a)
    assert info.first("audio") and info.first("subtitle") and mp4_layout(a).faststart
    assert info.duration == pytest.approx(5.0, abs=0.05)
    idx = [10, 44, 60, 80, 105, 140]  # mid-scene, mid-transition (crossfade, slide), the cue, the credits
    fa, fb = grab_frames(a, idx), grab_frames(b, idx)
    for k in idx:  # the same picture, encoded twice
        mse = np.mean((fa[k].astype(float) - fb[k].astype(float)) ** 2)
        assert 10 * np.log10(255**2 / max(mse, 1e-9)) > 35, k
    # the preview, cut from the segments beside the sound, shows what the whole film's preview shows
    # (frame counts may differ: the encoder merges repeated frames)
    pa, pb = ([f.mean(axis=(0, 1)) for f in _webp_frames(tmp_path / d / "preview.webp")] for d in ("joined", "whole"))
    assert len(pa) >= 12
    for x in pa:
        assert min(np.abs(x - y).max() for y in pb) < 12, x  # sampled a few frames apart
    assert len({int(np.argmax(x)) for x in pa}) >= 2  # more than one scene: red, blue, green


def _webp_frames(path: Path) -> list[np.ndarray]:
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        return [np.asarray(f.convert("RGB"), dtype=float) for f in ImageSequence.Iterator(im)]


def test_segment_is_deterministic_and_closed(tmp_path: Path) -> None:
    req = vs.request(tmp_path / "in", [1.0, 1.0], ["amber", "green"], transitions=["circle_open", "cut"])
    sreq = segment_requests(req, FilmOptions(resolution="360p"))[0]
    one = FFmpegSegment().generate(sreq, vs.ctx_for(tmp_path / "a"))
    two = FFmpegSegment().generate(sreq, vs.ctx_for(tmp_path / "b"))
    data = (tmp_path / "a" / one.video).read_bytes()
    assert data == (tmp_path / "b" / two.video).read_bytes()  # same request, same bytes
    info = probe(tmp_path / "a" / one.video)
    assert [s.kind for s in info.streams] == ["video"] and info.first("video").codec == "h264"  # type: ignore[union-attr]
    frames = grab_frames(tmp_path / "a" / one.video, [0, 29])
    assert frames[0].max() < 40  # the film comes up from black
    assert frames[29].mean() > 40


def test_other_codecs(tmp_path: Path) -> None:
    req = vs.request(tmp_path / "in", [0.5], ["amber"])
    for codec, name in (("h265", "hevc"), ("av1", "av1")):
        try:
            video_codec_args(codec, 20, "veryfast", 30)
        except InvalidInput:  # this ffmpeg lacks the encoder, and says so before any work
            continue
        sreq = segment_requests(req, FilmOptions(resolution="360p"))[0].model_copy(update={"codec": codec})
        res = FFmpegSegment().generate(sreq, vs.ctx_for(tmp_path / codec))
        v = probe(tmp_path / codec / res.video).first("video")
        assert v and v.codec == name and v.pix_fmt == "yuv420p"


def test_nvenc_falls_back_to_x264_without_a_gpu_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepflix.cut.ffmpeg import encode

    monkeypatch.setenv("DEEPFLIX_VIDEO_ENCODER", "nvenc")
    assert encode.wants_nvenc()
    name, _ = video_codec_args("h264", 20, "veryfast", 30, nvenc=encode.wants_nvenc())
    assert name == ("h264_nvenc" if encode.encoder_works("h264_nvenc") else "libx264")


def test_bad_settings_are_refused_before_work() -> None:
    req = vs.request(Path("/tmp"), [0.5], ["amber"]).model_copy(update={"preset": "warp9"})
    with pytest.raises(InvalidInput, match="warp9"):
        FFmpegCut().check_inputs(req)
