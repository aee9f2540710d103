"""How a segment plays a clip: in place of the camera move, converted to the film's frame
rate, and past its end held (``hold``) or pushed in on (``kenburns``)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from deepflix.cut.ffmpeg.encode import run_ffmpeg
from deepflix.cut.ffmpeg.render import Shot, ShotSpec, new_frame

W, H, FPS = 320, 180, 30


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 1 s clip at 16 fps (17 frames: 4n + 1) of a moving test pattern, and a still."""
    tmp = tmp_path_factory.mktemp("cliprender")
    out = tmp / "clip.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate=16", "-frames:v", "17", "-c:v", "libx264",
                "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out)], what="test clip")
    still = tmp / "still.png"
    cv2.imwrite(str(still), np.full((H, W, 3), 90, np.uint8))
    return out, still


def _frames(spec: ShotSpec, n: int, ks: list[int]) -> dict[int, np.ndarray]:
    """Frames ks of the shot; under -1, the clip's last frame's index at the film's rate."""
    shot = Shot(spec, W, H, FPS)
    shot.set_length(n)
    out: dict[int, np.ndarray] = {}
    try:
        for k in range(max(ks) + 1):
            f = new_frame(W, H)
            shot.render(k, f)
            if k in ks:
                out[k] = f.buf.copy()
        assert shot.clip is not None
        out[-1] = np.array(shot.clip.last)
    finally:
        shot.close()
    return out


def test_the_clip_plays_at_the_films_rate_then_holds(clip: tuple[Path, Path]) -> None:
    path, still = clip
    n = 60  # a 2 s scene; the clip (17 frames at 16 fps: 1.06 s) covers 32 of the film's 30 fps frames
    got = _frames(ShotSpec(picture=still, clip=path, clip_extend="hold"), n, [0, 10, 20, 33, 45, 59])
    assert int(got[-1]) == 31
    assert not np.array_equal(got[0], got[10]) and not np.array_equal(got[10], got[20])  # it moves
    assert np.array_equal(got[33], got[45]) and np.array_equal(got[45], got[59])  # held past its end


def test_kenburns_pushes_in_on_the_last_frame_without_a_jump(clip: tuple[Path, Path]) -> None:
    path, still = clip
    n = 60
    held = _frames(ShotSpec(picture=still, clip=path, clip_extend="hold"), n, [32, 45, 59])
    moved = _frames(ShotSpec(picture=still, clip=path, clip_extend="kenburns"), n, [32, 33, 45, 59])

    def d(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(np.abs(a.astype(int) - b.astype(int))))

    assert d(moved[32], held[32]) < 3.0  # it starts from the whole last frame
    assert d(moved[32], moved[33]) < 3.0  # and eases in
    assert d(moved[45], held[45]) > 3.0 and d(moved[59], moved[45]) > 1.0  # then moves on
