"""Issue 22: `deepflix export` writes the film's timeline for editors. The OTIO
opens with opentimelineio and its clip ranges are the film's scenes to the
frame (as the cut encoded them); FCPXML and EDL round-trip through their
adapters and are compared with what was written; media sit in media/ and are
referenced relative to the export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest

from deepflix.handoff.export import export_film
from deepflix.handoff.sources import from_film_dir
from deepflix.models import SegmentResult, SpeechResult
from deepflix.storage import open_store


@pytest.fixture(scope="module")
def sources(tiny_film: Path):  # type: ignore[no-untyped-def]
    return from_film_dir(tiny_film, open_store())


@pytest.fixture(scope="module")
def exported(tiny_film: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three exports through the real CLI, into one folder outside the film's."""
    out = tmp_path_factory.mktemp("export")
    paths = {}
    for fmt in ("otio", "fcpxml", "edl"):
        proc = subprocess.run([sys.executable, "-m", "deepflix", "export", str(tiny_film), "--format", fmt,
                               "--out", str(out)], capture_output=True, text=True, env=os.environ.copy(), timeout=120)
        assert proc.returncode == 0, proc.stderr
        paths[fmt] = Path(proc.stdout.strip().splitlines()[-1])
        assert paths[fmt].parent == out and paths[fmt].suffix == {"otio": ".otio", "fcpxml": ".fcpxml", "edl": ".edl"}[fmt]
    return paths


def scene_frames(tiny_film: Path, store) -> list[int]:  # type: ignore[no-untyped-def]
    """The frames the cut encoded for each scene (its segments), and the story's timed durations."""
    manifest = json.loads((tiny_film / "film.json").read_text())
    frames = [SegmentResult.model_validate(store.load_result(k)["result"]).frames for k in manifest["artifacts"]["segments"]]
    assert frames == [round(s["duration"] * 30) for s in manifest["story"]["scenes"]]
    return frames


def test_otio_clips_are_the_scenes_to_the_frame(tiny_film: Path, exported: dict[str, Path], sources) -> None:  # type: ignore[no-untyped-def]
    tl = otio.adapters.read_from_file(str(exported["otio"]))
    frames = scene_frames(tiny_film, sources.store)
    video = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video]
    assert [t.name for t in video] == ["Picture"]
    clips = list(video[0].find_clips())
    assert [c.source_range.duration.value for c in clips] == frames
    assert all(c.source_range.duration.rate == 30 for c in clips)
    starts = [video[0].range_of_child(c).start_time.value for c in clips]
    assert starts == [sum(frames[:i]) for i in range(len(frames))]
    assert tl.duration().value == sum(frames)
    story = sources.story
    for i, c in enumerate(clips):
        meta = c.metadata["deepflix"]
        assert meta["scene"] == i + 1 and meta["camera_move"] in ("push_in", "pull_out", "pan_left", "pan_right",
                                                                  "tilt_up", "tilt_down", "static")
        assert meta["setting"] == story.scenes[i].setting
        media = exported["otio"].parent / c.media_reference.target_url
        assert not Path(c.media_reference.target_url).is_absolute() and media.is_file() and media.stat().st_size > 1000
    # the transition between the two scenes plays over the first scene's last 0.8 s
    trans = [x for x in video[0] if isinstance(x, otio.schema.Transition)]
    assert len(trans) == 1 and trans[0].in_offset.value == 24 and trans[0].out_offset.value == 0

    # subtitles: one marker per cue of the film's SRT, on the clip the cue falls in
    srt = (tiny_film / "movie.srt").read_text().strip().split("\n\n")
    texts = [" ".join(b.splitlines()[2:]) for b in srt]
    assert [m.name for c in clips for m in c.markers] == texts

    # speech: a track per voice; every line's clip starts where the film speaks it
    audio = {t.name: t for t in tl.tracks if t.kind == otio.schema.TrackKind.Audio}
    assert "Narrator" in audio and "Score" in audio
    names = {c.id: c.name for c in story.characters}
    speakers = {seg.speaker for s in sources.speech for seg in s.result.segments}
    assert set(audio) == {"Score"} | {"Narrator" if s == "narrator" else names[s] for s in speakers}
    lines = [c for name, t in audio.items() if name != "Score" for c in t.find_clips()]
    assert sum(len(SpeechResult.model_validate(s.result).segments) for s in sources.speech) == len(lines)
    first = min(lines, key=lambda c: c.range_in_parent().start_time.value)
    seg0 = sources.speech[0].result.segments[0]
    assert first.metadata["deepflix"]["text"] == seg0.text
    assert first.range_in_parent().start_time.value == round((3.5 + 0.6 + seg0.start) * 30)  # title + lead
    score = list(audio["Score"].find_clips())
    assert len(score) == 1 and score[0].source_range.duration.value == sum(frames)


def test_fcpxml_round_trips_through_its_adapter(exported: dict[str, Path], tiny_film: Path, sources) -> None:  # type: ignore[no-untyped-def]
    back = otio.adapters.read_from_file(str(exported["fcpxml"]), adapter_name="fcpx_xml")
    orig = otio.adapters.read_from_file(str(exported["otio"]))
    frames = scene_frames(tiny_film, sources.store)

    def clips(tl, kind):  # type: ignore[no-untyped-def]
        return [(c.media_reference.target_url, t.range_of_child(c).start_time.value, c.source_range.duration.value)
                for t in tl.tracks if t.kind == kind for c in t.find_clips()]

    video = clips(back, otio.schema.TrackKind.Video)
    assert [d for _, _, d in video] == frames
    assert video == clips(orig, otio.schema.TrackKind.Video)
    # the adapter's reader truncates float seconds to frames (int(n / d * fps)), so a connected
    # clip may come back one frame early; the media, the order and the lengths must hold
    got, want = sorted(clips(back, otio.schema.TrackKind.Audio)), sorted(clips(orig, otio.schema.TrackKind.Audio))
    assert len(got) == len(want) == sum(len(s.result.segments) for s in sources.speech) + 1  # + the score
    for (gu, gs, gd), (wu, ws, wd) in zip(got, want):
        assert gu == wu and abs(gs - ws) <= 1 and abs(gd - wd) <= 1, (got, want)
    assert [m.name for c in back.find_clips() for m in c.markers] == [m.name for c in orig.find_clips() for m in c.markers]


def test_edl_round_trips_through_its_adapter(exported: dict[str, Path], tiny_film: Path, sources) -> None:  # type: ignore[no-untyped-def]
    back = otio.adapters.read_from_file(str(exported["edl"]), adapter_name="cmx_3600", rate=30)
    frames = scene_frames(tiny_film, sources.store)
    (track,) = back.tracks
    clips = list(track.find_clips())
    assert [c.metadata["cmx_3600"]["reel"] for c in clips] == ["scene01", "scene02"]
    # CMX 3600 starts an event where its dissolve starts: the 24 frames of the transition
    # belong to the incoming scene there, so the boundary moves 24 frames but the film's total does not
    (dissolve,) = [x for x in track if isinstance(x, otio.schema.Transition)]
    assert dissolve.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve
    assert dissolve.out_offset.value == 24
    assert [c.source_range.duration.value for c in clips] == [frames[0] - 24, frames[1] + 24]
    assert track.duration().value == sum(frames)
    # subtitles come back as LOC markers (EDL upper-cases comments)
    srt = (tiny_film / "movie.srt").read_text().strip().split("\n\n")
    texts = {" ".join(b.splitlines()[2:]).upper() for b in srt}
    assert {m.name for c in clips for m in c.markers} == texts


def test_bad_format_and_folder_are_refused(tiny_film: Path, tmp_path: Path) -> None:
    for args, words in ((["export", str(tiny_film), "--format", "aaf"], "unknown export format 'aaf'"),
                        (["export", str(tmp_path)], "holds no film.json")):
        proc = subprocess.run([sys.executable, "-m", "deepflix", *args], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2 and words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_export_is_the_same_from_the_film_and_in_process(sources, tmp_path: Path, exported: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    path = export_film(sources, "otio", tmp_path)
    assert path.read_text() == exported["otio"].read_text()
    assert sorted(p.name for p in (tmp_path / "media").iterdir()) == sorted(p.name for p in (exported["otio"].parent / "media").iterdir())
