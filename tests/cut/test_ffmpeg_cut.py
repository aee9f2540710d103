"""The cut, end to end on short synthetic films: what ffprobe would check, and what
frames taken mid-scene, mid-transition and at a cue show."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import video_synth as vs

from deepflix.cut.ffmpeg import encode
from deepflix.cut.ffmpeg.probe import ffmpeg_exe, first_pts, grab_frames, mp4_layout, probe
from deepflix.cut.ffmpeg.transitions import smooth
from deepflix.cut.ffmpeg_cut import FFmpegCut
from deepflix.errors import ProviderError
from deepflix.models import SubtitleCue

FPS = 30
DURATIONS = [2.0, 2.0, 2.5]
CUES = [
    SubtitleCue(start=2.2, end=3.0, text="Salt on the glass.", scene_index=1),
    SubtitleCue(start=4.4, end=5.2, text="Then nothing, for a long while.", scene_index=2),
]


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    tmp = tmp_path_factory.mktemp("film")
    req = vs.request(tmp / "in", DURATIONS, ["red", "blue", "green"], moves=["push_in", "pan_right", "pull_out"],
                     transitions=["crossfade", "wipe_left", "fade_black"], cues=CUES)
    ctx = vs.ctx_for(tmp / "out")
    prov = FFmpegCut()
    prov.check_inputs(req)
    res = prov.generate(req, ctx)
    return tmp / "out", res


def white(rgb: np.ndarray) -> np.ndarray:
    return rgb.min(axis=2) > 225


def test_result_names_the_files(film: tuple[Path, object]) -> None:
    out, res = film
    assert (res.width, res.height) == (640, 360)  # type: ignore[attr-defined]
    assert res.duration == pytest.approx(sum(DURATIONS))  # type: ignore[attr-defined]
    for name in ("movie.mp4", "movie.srt", "movie.vtt", "poster.jpg", "preview.webp"):
        assert (out / name).stat().st_size > 100, name
    assert not list(out.glob(".*partial*"))
    assert (out / "poster.jpg").read_bytes()[:2] == b"\xff\xd8"
    webp = (out / "preview.webp").read_bytes()
    assert webp[:4] == b"RIFF" and webp[8:12] == b"WEBP" and b"ANIM" in webp[:64]
    assert len(webp) < 2_000_000


def test_probe_codecs_faststart_duration_and_sync(film: tuple[Path, object]) -> None:
    movie = film[0] / "movie.mp4"
    info = probe(movie)
    v, a, s = info.first("video"), info.first("audio"), info.first("subtitle")
    assert v and v.codec == "h264" and v.pix_fmt == "yuv420p" and (v.width, v.height) == (640, 360) and v.fps == 30
    assert v.colour == "bt709"  # matrix, primaries and transfer all tagged: players need not guess
    assert a and a.codec == "aac"
    assert s and s.codec == "mov_text"
    assert info.duration == pytest.approx(sum(DURATIONS), abs=0.05)
    layout = mp4_layout(movie)
    assert layout.faststart, layout.top_level
    vt, at = layout.track("vide"), layout.track("soun")
    assert vt and at and vt.codec == "avc1" and at.codec == "mp4a"
    assert vt.samples == round(sum(DURATIONS) * FPS)  # CFR, every frame there
    assert vt.media_duration / vt.timescale == pytest.approx(sum(DURATIONS), abs=0.05)
    assert abs(vt.start(layout.timescale) - at.start(layout.timescale)) <= 0.040
    assert abs(first_pts(movie, "v") - first_pts(movie, "a")) <= 0.040


def test_soft_subtitles_and_files_carry_the_cues(film: tuple[Path, object]) -> None:
    out = film[0]
    srt, vtt = (out / "movie.srt").read_text(), (out / "movie.vtt").read_text()
    assert "Salt on the glass." in srt and "00:00:02,200 --> 00:00:03,000" in srt
    assert vtt.startswith("WEBVTT") and "00:00:04.400 --> 00:00:05.200" in vtt
    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(out / "movie.mp4"), "-map", "0:s:0", "-f", "srt", "-"],
                          capture_output=True, text=True, check=True)
    assert "Then nothing, for a long while." in proc.stdout


def test_ken_burns_moves_every_frame(film: tuple[Path, object]) -> None:
    frames = grab_frames(film[0] / "movie.mp4", [28, 29, 88, 89, 150, 151])  # mid-scene
    for k in (28, 88, 150):
        d = np.abs(frames[k].astype(int) - frames[k + 1].astype(int)).mean()
        assert 0.15 < d < 12, (k, d)  # it moves, smoothly


def test_mid_crossfade_frame_is_a_blend_of_both_scenes(film: tuple[Path, object]) -> None:
    # scene 1 ends at frame 60; its 24-frame cross-fade runs over frames 36..59 (p = (j+1)/25)
    frames = grab_frames(film[0] / "movie.mp4", [34, 48, 60])
    a, mid, b = (frames[k].astype(float) for k in (34, 48, 60))
    e = smooth(13 / 25)
    expected = (1 - e) * a + e * b
    assert np.abs(mid - expected).mean() < 5
    assert np.abs(mid - a).mean() > 25 and np.abs(mid - b).mean() > 25
    red_a, blue_b = a[:, :, 0].mean() - a[:, :, 2].mean(), b[:, :, 2].mean() - b[:, :, 0].mean()
    assert red_a > 40 and blue_b > 40  # the two scenes are told apart by colour, and mid is between
    assert abs(mid[:, :, 0].mean() - mid[:, :, 2].mean()) < 0.5 * max(red_a, blue_b)


def test_title_subtitles_and_credits_show_in_the_frames(film: tuple[Path, object]) -> None:
    frames = grab_frames(film[0] / "movie.mp4", [22, 45, 78, 93, 160, 172])
    title, no_title = frames[22], frames[45]
    band = slice(100, 260)
    assert white(title[band]).sum() > 400 and white(no_title[band]).sum() < 20
    cue, no_cue = frames[78], frames[93]  # the cue 2.2-3.0 s: frame 78 (2.6 s) shows it, 93 (3.1 s) does not
    bottom = slice(240, 360)
    assert white(cue[bottom]).sum() > 200 and white(no_cue[bottom]).sum() < 20
    credits = frames[172]  # the last scene's tail
    assert white(credits).sum() > 200 and white(frames[160]).sum() < 20


def test_failing_ffmpeg_on_bad_input_leaves_no_movie(tmp_path: Path) -> None:
    bad = tmp_path / "in" / "clip.mp4"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"this is not a video" * 100)
    req = vs.request(tmp_path / "in", [1.0, 1.0], ["red", "blue"], clip={1: bad})
    out = tmp_path / "out"
    with pytest.raises(ProviderError) as err:
        FFmpegCut().generate(req, vs.ctx_for(out))
    assert "Invalid data found when processing input" in str(err.value)  # ffmpeg's own words
    assert not (out / "movie.mp4").exists() and not list(out.glob(".*partial*"))


def test_full_disk_leaves_no_movie(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encode, "FILE_SIZE_LIMIT", 40_000)  # writes past 40 kB fail as on a full disk
    req = vs.request(tmp_path / "in", [1.5, 1.5], ["red", "blue"])
    out = tmp_path / "out"
    with pytest.raises(ProviderError) as err:
        FFmpegCut().generate(req, vs.ctx_for(out))
    assert "File too large" in str(err.value)
    assert not (out / "movie.mp4").exists() and not list(out.glob(".*partial*"))


@pytest.mark.parametrize("aspect,size", [("9:16", (360, 640)), ("1:1", (360, 360))])
def test_portrait_and_square(tmp_path: Path, aspect: str, size: tuple[int, int]) -> None:
    cues = [SubtitleCue(start=0.2, end=1.4, text="A line long enough to need two lines on a phone.")]
    req = vs.request(tmp_path / "in", [1.5], ["amber"], moves=["tilt_up"], cues=cues, aspect=aspect,
                     title_duration=0.0, credits_duration=0.0)
    res = FFmpegCut().generate(req, vs.ctx_for(tmp_path / "out"))
    movie = tmp_path / "out" / "movie.mp4"
    v = probe(movie).first("video")
    assert v and (v.width, v.height) == size == (res.width, res.height)
    frame = grab_frames(movie, [24])[24]
    ys, xs = np.nonzero(white(frame))
    w, h = size
    assert len(xs) > 150
    assert xs.min() > 0.04 * w and xs.max() < 0.96 * w  # inside the safe margins
    assert ys.max() < 0.93 * h and ys.min() > 0.5 * h
    if aspect == "9:16":
        assert ys.max() < 0.85 * h  # clear of a phone player's controls


def test_sound_is_the_mix_loud_enough_and_in_sync(film: tuple[Path, object]) -> None:
    """The AAC track is the mixer's: at the requested loudness, and each scene's speech
    starts where the timeline puts it (scene 2: 2.0 s + 0.4 s offset)."""
    import pyloudnorm

    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(film[0] / "movie.mp4"), "-map", "0:a:0", "-f", "f32le",
                           "-ac", "2", "-ar", "48000", "-"], capture_output=True, check=True)
    x = np.frombuffer(proc.stdout, np.float32).reshape(-1, 2)
    assert len(x) / 48000 == pytest.approx(sum(DURATIONS), abs=0.05)
    assert pyloudnorm.Meter(48000).integrated_loudness(x.astype(np.float64)) == pytest.approx(-16.0, abs=1.5)
    # speech is voiced noise: its 3-8 kHz energy switches on where the speech starts
    mono = x.mean(axis=1)
    spec = np.abs(np.fft.rfft(mono[: len(mono) // 480 * 480].reshape(-1, 480) * np.hanning(480), axis=1))
    hiss = (spec[:, 30:80] ** 2).sum(axis=1)  # 3-8 kHz, per 10 ms
    t = np.arange(len(hiss)) / 100
    window = (t > 2.1) & (t < 2.8)
    onset = t[window][np.argmax(hiss[window] > 0.25 * np.percentile(hiss, 95))]
    assert onset == pytest.approx(2.4, abs=0.04)


def test_a_scene_with_a_video_clip(tmp_path: Path) -> None:
    """An image-to-video clip plays in its scene (shorter than the scene: its last frame
    holds while the camera keeps moving); the still scenes around it are unchanged."""
    clip = tmp_path / "in" / "clip.mp4"
    clip.parent.mkdir(parents=True)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=480x270:rate=24:duration=0.8",
                    "-pix_fmt", "yuv420p", str(clip)], check=True)
    req = vs.request(tmp_path / "in", [1.0, 1.5, 1.0], ["red", "blue", "green"], clip={1: clip},
                     transitions=["cut", "cut", "cut"], title_duration=0.0, credits_duration=0.0)
    FFmpegCut().generate(req, vs.ctx_for(tmp_path / "out"))
    frames = grab_frames(tmp_path / "out" / "movie.mp4", [15, 33, 34, 60, 61, 80])
    clip_frame = frames[33]
    assert clip_frame.std() > 50  # testsrc2's colour bars, not a flat blue picture
    assert np.abs(frames[33].astype(int) - frames[34].astype(int)).mean() > 2  # the clip plays
    held = np.abs(frames[60].astype(int) - frames[61].astype(int)).mean()
    assert 0 < held < 3  # past its end: the last frame, still moving a little with the camera
    assert frames[15][:, :, 0].mean() > frames[15][:, :, 2].mean() + 30  # scene 1 is the red still
    assert frames[80][:, :, 1].mean() > frames[80][:, :, 2].mean()  # scene 3 the green one
