"""QA by segment: the film's black and frozen stretches are its segments', joined across
cuts, each segment's kept in the store so a second look decodes nothing; a movie that is
not the store's cut is measured whole."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from deepflix.cut.ffmpeg.probe import ffmpeg_exe
from deepflix.film.options import FilmOptions
from deepflix.models import StoryRequest
from deepflix.pipeline.film import make_film
from deepflix.quality import by_segment, media
from deepflix.quality.qa import run_qa
from deepflix.storage.local import LocalStore


def _clip(path: Path, parts: list[str]) -> Path:
    """An H.264 clip of the lavfi sources in ``parts``, one after the other, 30 fps."""
    args, n = [], len(parts)
    for p in parts:
        args += ["-f", "lavfi", "-i", p]
    graph = "".join(f"[{i}:v]" for i in range(n)) + f"concat=n={n}:v=1[v]"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args, "-filter_complex", graph, "-map", "[v]",
                    "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", str(path)], check=True, timeout=60)
    return path


def test_a_freeze_across_a_cut_is_one_stretch_and_each_segment_is_measured_once(tmp_path: Path) -> None:
    moving, still = "testsrc2=size=160x90:rate=30:duration=1", "color=c=gray:size=160x90:rate=30:duration=1.2"
    a = _clip(tmp_path / "a.mp4", [moving, still])  # 1.2 s still at its tail
    b = _clip(tmp_path / "b.mp4", [still, moving])  # and 1.2 s at its head: 2.4 s frozen across the cut
    store = LocalStore(tmp_path / "store")
    segs = [("a" * 64, a, 2.2), ("b" * 64, b, 2.2)]
    found = by_segment.picture_stretches(store, segs, black_s=1.0, frozen_s=2.0)
    (start, end), = found["frozen"]
    assert 0.9 < start < 1.1 and 3.3 < end < 3.5
    assert found["black"] == []
    # alone, neither segment's stillness is long enough
    assert by_segment.picture_stretches(store, segs[:1], 1.0, 2.0)["frozen"] == []
    # remembered: with the files gone, the same answer (nothing decoded)
    a.unlink()
    b.unlink()
    assert by_segment.picture_stretches(store, segs, 1.0, 2.0) == found


def test_join_keeps_stretches_apart_that_do_not_meet_at_the_cut() -> None:
    joined = by_segment.join([(0.0, 2.0, [[0.5, 1.5]]), (2.0, 2.0, [[0.4, 1.9]])], 1.0)
    assert joined == [[0.5, 1.5], [2.4, 3.9]]
    assert by_segment.join([(0.0, 2.0, [[1.0, 2.0]]), (2.0, 2.0, [[0.0, 0.5]])], 1.4) == [[1.0, 2.5]]


def test_a_made_film_reads_the_same_by_segment_as_whole_and_a_copy_is_measured_whole(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    res = make_film(StoryRequest(prompt="A lighthouse keeper finds a message in a bottle", num_scenes=2),
                    opts=FilmOptions(resolution="360p"), out_dir=tmp_path / "film", store=store)
    film = res.out_dir
    segs = by_segment.film_segments(film, store)
    assert segs is not None and [k for k, _, _ in segs] == json.loads((film / "film.json").read_text())[
        "artifacts"]["segments"]
    audio, found = by_segment.measured(store, segs, film / "movie.mp4", 1.0, 2.0, 1.5, -50.0)
    whole = media.detect(film / "movie.mp4", 1.0, 2.0, 1.5, -50.0)
    assert found == whole
    assert np.array_equal(audio, media.decode_audio(film / "movie.mp4"))
    by_seg = run_qa(film, hearing=False, store=store)
    assert {c["name"]: c["value"] for c in by_seg["checks"]} == \
        {c["name"]: c["value"] for c in run_qa(film, hearing=False)["checks"]}
    # a movie that is not the store's file (copied, re-encoded) is not read by segment
    copy = tmp_path / "copy"
    shutil.copytree(film, copy)
    assert by_segment.film_segments(copy, store) is None


def test_the_job_systems_segment_stage_measures_its_own_picture(tmp_path: Path) -> None:
    from deepflix.jobs.compute import segment_qa
    from deepflix.models import SegmentResult
    from deepflix.runner import StageOutcome

    store = LocalStore(tmp_path / "store")
    key = "c" * 64
    staging = store.staging(key)
    _clip(staging.dir / "segment.mp4", ["color=c=black:size=160x90:rate=30:duration=1.5",
                                         "testsrc2=size=160x90:rate=30:duration=1"])
    staging.publish({"result": {"video": "segment.mp4", "frames": 75, "duration": 2.5, "width": 160, "height": 90}})
    res = SegmentResult(video="segment.mp4", frames=75, duration=2.5, width=160, height=90)
    segment_qa(store, StageOutcome("segment", key, res, cached=False, seconds=1.0, provider="builtin/ffmpeg-segment"))
    kept = store.load_result(by_segment.stretches_key(key))
    assert kept is not None and kept["result"]["black"] and kept["result"]["black"][0][0] == 0.0
    # what the cut reads later is that record: the file itself is no longer needed
    store.local_path(key, "segment.mp4").unlink()
    assert by_segment.picture_stretches(store, [(key, Path("gone.mp4"), 2.5)], 1.0, 2.0)["black"] == [[0.0, 1.5]]
    # a segment that cannot be measured costs its stage nothing: the cut measures it then
    missing = StageOutcome("segment", "d" * 64, res, cached=False, seconds=1.0, provider="builtin/ffmpeg-segment")
    segment_qa(store, missing)
    assert store.load_result(by_segment.stretches_key("d" * 64)) is None


def test_the_sound_is_read_from_the_pipe_as_ffmpeg_wrote_it(tmp_path: Path) -> None:
    clip = tmp_path / "tone.m4a"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
                    "-c:a", "aac", str(clip)], check=True, timeout=60)
    whole = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(clip), "-vn", "-ac", "2", "-ar", str(media.RATE),
                            "-f", "f32le", "-"], capture_output=True, check=True).stdout
    audio, log = media.decode_sound(clip, "silencedetect=n=-50dB:d=0.5")
    assert audio.shape[1] == 2 and audio.tobytes() == whole
    assert "Stream #0" in log  # ffmpeg's log comes back for the filters' findings
    silent = tmp_path / "silent.mp4"  # a picture with no sound: a clear error
    _clip(silent, ["color=c=gray:size=160x90:rate=30:duration=0.5"])
    with pytest.raises(ValueError, match="no audio decoded"):
        media.decode_sound(silent)
