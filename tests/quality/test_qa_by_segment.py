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


def test_the_detectors_mark_stretches_as_frames_pass_and_one_open_at_the_end_runs_to_it(tmp_path: Path) -> None:
    from deepflix.cut.ffmpeg import detect

    parts = ["color=c=black:size=160x90:rate=30:duration=1", "testsrc2=size=160x90:rate=30:duration=1",
             "color=c=black:size=160x90:rate=30:duration=0.5"]
    clip = _clip(tmp_path / "c.mp4", parts)
    # the detectors in an encoder's graph, as the segment stage runs them: the output is untouched
    plain, marked = tmp_path / "plain.mp4", tmp_path / "marked.mp4"
    enc = ["-c:v", "libx264", "-preset", "superfast", "-crf", "22", "-fflags", "+bitexact", "-map_metadata", "-1"]
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(clip), *enc, str(plain)], check=True, timeout=60)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(clip), "-vf", detect.detectors(), *enc, str(marked)],
                   check=True, timeout=60, cwd=tmp_path)
    assert plain.read_bytes() == marked.read_bytes()
    found = detect.read_found(tmp_path / detect.FOUND, 2.5)
    assert found["black"] == [[0.0, 1.0], [2.0, 2.5]]  # the last still black at the end: to the end
    assert found == by_segment.segment_stretches(clip, 2.5)  # decoded, the same
    with pytest.raises(OSError):
        detect.read_found(tmp_path / "none.txt", 2.5)  # no file: not "nothing found"


def test_a_film_made_here_decodes_no_picture_for_its_qa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path / "store")
    res = make_film(StoryRequest(prompt="A lighthouse keeper finds a message in a bottle", num_scenes=2),
                    opts=FilmOptions(resolution="360p"), out_dir=tmp_path / "film", store=store)
    segs = by_segment.film_segments(res.out_dir, store)
    assert segs is not None
    decoded = {key: by_segment.segment_stretches(video, seconds) for key, video, seconds in segs}
    for key, _, _ in segs:  # what the segment stage found as it encoded: what a decode finds
        stretches = store.load_result(key)["result"]["stretches"]  # type: ignore[index]
        assert stretches["black"] == decoded[key]["black"] and stretches["black"]  # the fade from black
        # frozen: the same time, within a frame; split elsewhere, as freezedetect restarts its reference
        # frame where the drift from it passes -60 dB, and the decoded frames carry the coder's noise
        covered = [sum(b - a for a, b in found) for found in (stretches["frozen"], decoded[key]["frozen"])]
        assert covered[0] > 5 and abs(covered[0] - covered[1]) <= 1.01 / 30
        store.delete(by_segment.stretches_key(key))

    def no_decode(video: Path, seconds: float) -> None:
        raise AssertionError(f"{video.name} decoded")

    monkeypatch.setattr(by_segment, "segment_stretches", no_decode)
    found = by_segment.picture_stretches(store, segs, 1.0, 2.0)
    assert found == {"black": [], "frozen": []}
    # a segment measured with other detector settings is decoded again
    key, video, seconds = segs[0]
    older = json.loads(json.dumps(store.load_result(key)))
    older["result"]["stretches"]["measured_by"] = "older detectors"
    monkeypatch.setattr(store, "load_result", lambda k: older if k == key else None)
    with pytest.raises(AssertionError, match="decoded"):
        by_segment.remembered_stretches(store, key, video, seconds)
