"""Ken Burns paths, the fast exact resampler, parallax layers, and the jitter measurement."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import video_synth as vs

from deepflix.cut.ffmpeg.cards import title_card
from deepflix.cut.ffmpeg.jitter import jitter
from deepflix.cut.ffmpeg.motion import Camera, ease
from deepflix.cut.ffmpeg.planes import Frame, bgr_to_planes, planes_to_rgb
from deepflix.cut.ffmpeg.render import Shot, ShotSpec, new_frame
from deepflix.cut.ffmpeg.warp import PAD, TOL, Phases, _phase, resample

MOVES = ("push_in", "pull_out", "pan_left", "pan_right", "tilt_up", "tilt_down")


def test_ease_starts_and_ends_at_rest() -> None:
    assert ease(0) == 0 and ease(1) == 1
    d = 1e-4
    assert ease(d) / d < 1e-3 and (1 - ease(1 - d)) / d < 1e-3  # zero speed at both ends
    assert all(ease(a) < ease(b) for a, b in zip(np.linspace(0, 1, 50), np.linspace(0, 1, 50)[1:]))


@pytest.mark.parametrize("move", MOVES)
def test_views_stay_inside_the_canvas_and_never_enlarge(move: str) -> None:
    cam = Camera(move, 0.15, 1920, 1080, 2266, 1276)
    for u in np.linspace(0, 1, 41):
        v = cam.view(float(u))
        assert v.s > 1.0  # the canvas is only ever shrunk: no upscaling blur per frame
        assert v.ox >= -1e-9 and v.oy >= -1e-9
        assert v.ox + v.s * 1919 <= 2265 + 1e-9 and v.oy + v.s * 1079 <= 1275 + 1e-9


def test_opening_framing_does_not_depend_on_the_scene_length() -> None:
    for move in MOVES:
        short, long = Camera(move, 0.06, 640, 360, 756, 426), Camera(move, 0.15, 640, 360, 756, 426)
        assert short.view(0) == long.view(0)
        assert short.view(1) != long.view(1)


@pytest.mark.parametrize("s", [1.03, 1.0625, 1.1, 1.125, 1.17])
def test_fast_resample_matches_warp_affine(s: float) -> None:
    rng = np.random.default_rng(0)
    src = cv2.GaussianBlur((rng.random((300, 500)) * 255).astype(np.float32), (0, 0), 1.5)
    src = cv2.normalize(src, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    padded = cv2.copyMakeBorder(src, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)
    for ox, oy in ((3.37, 5.91), (0.0, 0.5), (10.123, 2.77)):
        out = np.empty((240, 400), np.uint8)
        resample(padded, PAD, s, ox, oy, out)
        ref = cv2.warpAffine(src, np.array([[s, 0, ox], [0, s, oy]]), (400, 240),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        diff = np.abs(out.astype(int) - ref.astype(int))
        assert diff.max() <= 2 and diff.mean() < 0.3, (ox, oy, diff.max(), diff.mean())


def test_phase_search_takes_the_least_extra_work() -> None:
    for s, o in ((1.0534, 140.37), (1.17, 161.9), (1.125, 170.25)):
        q, r, err = _phase(o, s)
        assert abs((q + 0.5) * s - 0.5 + r - o) == pytest.approx(abs(err), abs=1e-9)
        if abs(err) <= TOL:  # no smaller q would have done
            assert all(abs(v - round(v)) > TOL for v in (o - (k + 0.5) * s + 0.5 for k in range(q)))


def _render_alike(steady: Shot, direct: Shot, frames: int, step: int, most: int) -> None:
    """Every ``step``-th frame of a steady shot and of the same shot resampled frame by
    frame: at most ``most`` levels apart anywhere, 0.2 on average."""
    a, b = new_frame(steady.width, steady.height), new_frame(steady.width, steady.height)
    for shot in (steady, direct):
        shot.set_length(frames)
    for k in range(0, frames, step):
        steady.render(k, a)
        direct.render(k, b)
        diff = np.abs(a.buf.astype(int) - b.buf.astype(int))
        assert diff.max() <= most and diff.mean() < 0.2, (k, diff.max(), diff.mean())


@pytest.mark.parametrize("move", ["pan_left", "tilt_up"])
def test_a_steady_camera_crops_kept_phases_and_draws_the_same(tmp_path: Path, move: str) -> None:
    """A pan keeps one scale: its frames are crops of a few resampled copies (one per
    1/16 px phase), and match resampling each frame; a view off the pan's phases
    (a slide's shifted frames) is resampled directly, not kept."""
    w, h = 320, 180
    steady = Shot(ShotSpec(_textured(tmp_path), (), None, move), w, h, 30)
    direct = Shot(ShotSpec(_textured(tmp_path), (), None, move), w, h, 30)
    assert steady.base is not None and direct.base is not None and steady.base.steady
    direct.base.steady = False
    _render_alike(steady, direct, 90, 4, 4)  # 1/32 px on sharp edges
    a, b = new_frame(w, h), new_frame(w, h)
    kept = steady.base._phases
    assert set(kept) == {0, 1, 2} and all(1 < len(p.images) <= p.n + 1 for p in kept.values())
    for dy in (13.3, 40.7, 77.1):  # slide_up's shifted frames
        steady.render(30, a, dy)
        direct.render(30, b, dy)
        assert np.abs(a.buf.astype(int) - b.buf.astype(int)).max() <= 4
    assert all(len(p.images) <= p.n + 1 for p in kept.values())


def test_parallax_layers_of_a_pan_crop_kept_phases_too(tmp_path: Path) -> None:
    w, h = 320, 180
    sky = np.zeros((h, w, 4), np.uint8)
    sky[:, :, :3], sky[:, :, 3] = vs.COLOURS["blue"], 255
    fig = np.zeros((h, w, 4), np.uint8)
    cv2.rectangle(fig, (100, 90), (140, 170), (40, 40, 190, 255), -1)
    cv2.circle(fig, (220, 120), 25, (30, 160, 60, 200), -1)
    paths = [tmp_path / "layer0_sky.png", tmp_path / "layer1_figures.png"]
    cv2.imwrite(str(paths[0]), sky)
    cv2.imwrite(str(paths[1]), fig)
    cv2.imwrite(str(tmp_path / "image.png"), sky[:, :, :3])
    spec = ShotSpec(tmp_path / "image.png", tuple(paths), None, "pan_left")
    steady, direct = Shot(spec, w, h, 30), Shot(spec, w, h, 30)
    assert steady.layers and all(c.steady for c in (steady.layers[0].colour, steady.layers[0].alpha))
    for c in (direct.base, direct.layers[0].colour, direct.layers[0].alpha):
        c.steady = False  # type: ignore[union-attr]
    _render_alike(steady, direct, 60, 5, 8)  # 1/32 px of a hard edge
    assert steady.layers[0].colour._phases and steady.layers[0].alpha._phases


def test_kept_phases_are_sub_pixel_exact() -> None:
    rng = np.random.default_rng(2)
    src = cv2.GaussianBlur((rng.random((200, 320)) * 255).astype(np.uint8), (0, 0), 1.5)
    padded = cv2.copyMakeBorder(src, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)
    phases = Phases(padded, 1.0534, 16, zero=False)
    for ox in np.linspace(3.0, 9.0, 23):
        out, ref = np.empty((120, 200), np.uint8), np.empty((120, 200), np.uint8)
        assert phases.draw(float(ox), 4.2, out)
        resample(padded, PAD, 1.0534, float(ox), 4.2, ref)
        assert np.abs(out.astype(int) - ref.astype(int)).max() <= 2
    assert len(phases.images) <= 17


def test_an_overlay_moved_half_a_pixel_lies_between_its_whole_pixel_places() -> None:
    """The credits drift sub-pixel: half a pixel down is the mean of 0 and 1 pixel down."""
    card = title_card("The Keeper", "A lighthouse keeper finds a message.", 320, 180)
    frames = []
    for dy in (0.0, 0.5, 1.0):
        f = new_frame(320, 180)
        f.fill((60, 110, 150))
        card.draw(f, 1.0, dy)
        frames.append(f.buf.astype(int))
    assert np.abs(frames[0] - frames[2]).max() > 50  # the text moved
    assert np.abs(frames[1] - (frames[0] + frames[2]) / 2).max() <= 1.5


def test_colour_conversion_round_trips() -> None:
    rng = np.random.default_rng(1)
    bgr = cv2.GaussianBlur((rng.random((64, 96, 3)) * 255).astype(np.uint8), (0, 0), 2)
    rgb = planes_to_rgb(bgr_to_planes(bgr))
    assert np.abs(rgb[:, :, ::-1].astype(int) - bgr.astype(int)).mean() < 2.5


def _textured(tmp_path: Path) -> Path:
    return vs.picture(tmp_path / "tex.png", "amber", 640, 360, seed=3)


@pytest.mark.parametrize("move", ["push_in", "pan_right"])
def test_motion_follows_the_ideal_path_sub_pixel(tmp_path: Path, move: str) -> None:
    """Ours stays within 0.1 px RMS of the ideal path; rounding to whole pixels (what
    ffmpeg's zoompan does) is measured far off it, so the measurement can tell."""
    w, h = 320, 180
    shot = Shot(ShotSpec(_textured(tmp_path), (), None, move), w, h, 30)
    shot.set_length(60)
    canvas = shot.base.y[PAD:-PAD, PAD:-PAD]  # type: ignore[union-attr]
    frames, rounded, views = [], [], []
    for k in range(3, 60, 6):
        f = new_frame(w, h)
        shot.render(k, f)
        frames.append(f.y.copy())
        v = shot.camera.view(k / 59)
        views.append(v)
        x0, y0, cw, ch = round(v.ox), round(v.oy), round(w * v.s), round(h * v.s)
        rounded.append(cv2.resize(canvas[y0 : y0 + ch, x0 : x0 + cw], (w, h), interpolation=cv2.INTER_LINEAR))
    ours = jitter(frames, canvas, views)
    control = jitter(rounded, canvas, views)
    assert ours.rms < 0.1, str(ours)
    assert control.rms > 0.2, str(control)


def test_consecutive_frames_move_a_little(tmp_path: Path) -> None:
    shot = Shot(ShotSpec(_textured(tmp_path), (), None, "pan_left"), 320, 180, 30)
    shot.set_length(90)
    a, b = new_frame(320, 180), new_frame(320, 180)
    shot.render(45, a)
    shot.render(46, b)
    d = np.abs(a.y.astype(int) - b.y.astype(int)).mean()
    assert 0.2 < d < 12


def test_parallax_layers_move_at_different_rates(tmp_path: Path) -> None:
    """A sky layer and a figure layer: at the start they composite to the picture;
    at the end the figure has moved further across the frame than the sky."""
    w, h = 640, 360
    sky = np.zeros((h, w, 4), np.uint8)
    sky[:, :, :3] = vs.COLOURS["blue"]
    sky[:, :, 3] = 255
    cv2.circle(sky, (320, 90), 30, (190, 190, 120, 255), -1)  # a moon: the far marker
    fig = np.zeros((h, w, 4), np.uint8)
    cv2.rectangle(fig, (100, 200), (140, 330), (40, 40, 190, 255), -1)  # a figure: the near marker
    picture = sky[:, :, :3].copy()
    picture[fig[:, :, 3] > 0] = fig[fig[:, :, 3] > 0][:, :3]
    paths = [tmp_path / "layer0_sky.png", tmp_path / "layer1_figures.png"]
    cv2.imwrite(str(paths[0]), sky)
    cv2.imwrite(str(paths[1]), fig)
    cv2.imwrite(str(tmp_path / "image.png"), picture)
    flat = Shot(ShotSpec(tmp_path / "image.png", (), None, "pan_right"), w, h, 30)
    layered = Shot(ShotSpec(tmp_path / "image.png", tuple(paths), None, "pan_right"), w, h, 30)
    for s in (flat, layered):
        s.set_length(100)
    f0, f1 = new_frame(w, h), new_frame(w, h)
    layered.render(0, f0)
    flat.render(0, f1)
    assert np.abs(f0.y.astype(int) - f1.y.astype(int)).mean() < 0.5

    def centroid(frame: Frame, mask_fn) -> float:  # type: ignore[no-untyped-def]
        rgb = frame.to_rgb()
        _, xs = np.nonzero(mask_fn(rgb))
        return float(xs.mean())

    moon = lambda rgb: (rgb[:, :, 0] > 100) & (rgb[:, :, 2] > 150) & (rgb[:, :, 1] > 150)
    figure = lambda rgb: (rgb[:, :, 0] > 150) & (rgb[:, :, 2] < 80)
    start_moon, start_fig = centroid(f0, moon), centroid(f0, figure)
    layered.render(99, f0)
    moved_moon, moved_fig = abs(centroid(f0, moon) - start_moon), abs(centroid(f0, figure) - start_fig)
    assert moved_fig > 10 and moved_moon > 3
    assert moved_fig > moved_moon * 1.15


def test_encoder_keeps_the_drawn_yuv(tmp_path: Path) -> None:
    """The frames are BT.709 YUV and tagged so: ffmpeg encodes them as they are. (Untagged, it
    converted each frame to the output's BT.709 tags through RGB: slower, and colours moved.)"""
    import subprocess

    from deepflix.cut.ffmpeg.encode import COLOR_TAGS, FrameSink, ffmpeg_exe

    w, h = 64, 48
    out = tmp_path / "lossless.mp4"
    with FrameSink(w, h, 30, ["-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", *COLOR_TAGS, "-f", "mp4"],
                   out) as sink:
        for _ in range(3):
            buf = sink.buffer()
            buf[: w * h], buf[w * h : w * h * 5 // 4], buf[w * h * 5 // 4 :] = 100, 60, 200  # a saturated red
            sink.submit(buf)
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(out), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "yuv420p", "-"], capture_output=True, check=True).stdout
    got = np.frombuffer(raw, np.uint8)
    y, u, v = got[: w * h], got[w * h : w * h * 5 // 4], got[w * h * 5 // 4 :]
    assert abs(float(y.mean()) - 100) <= 1 and abs(float(u.mean()) - 60) <= 1 and abs(float(v.mean()) - 200) <= 1, \
        (y.mean(), u.mean(), v.mean())


def test_frames_cross_the_pipe_whole_with_vmsplice_and_without(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """write_all hands a frame bigger than the pipe to the reader byte for byte; into
    something that is not a pipe the kernel refuses vmsplice, and plain writes take over."""
    import os
    import threading

    from deepflix.cut.ffmpeg import encode

    monkeypatch.setattr(encode, "_splice_refused", False)
    frame = np.random.default_rng(1).integers(0, 256, 3 << 20, dtype=np.uint8)
    r, w = os.pipe()
    got = bytearray()
    reader = threading.Thread(target=lambda: [got.extend(c) for c in iter(lambda: os.read(r, 1 << 16), b"")])
    reader.start()
    encode.write_all(w, frame, splice=True)
    os.close(w)
    reader.join()
    os.close(r)
    assert bytes(got) == frame.tobytes()
    path = tmp_path / "frame.raw"
    with open(path, "wb") as f:
        encode.write_all(f.fileno(), frame, splice=True)
    assert path.read_bytes() == frame.tobytes()
    if encode._vmsplice() is not None:  # Linux: the file refused it, so it is off from now on
        assert encode._splice_refused
