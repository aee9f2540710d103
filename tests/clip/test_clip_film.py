"""A film of four scenes, two of them generated motion (issue 19), made in process with the
real defaults (planner-free story, illustrator, Piper, composer, ffmpeg) and a real clip
provider that writes a moving 16 fps MP4 with ffmpeg. Beside it: the same story with no
clips, with clips that fail (the stills, with warnings), strict (the film fails) and with a
clip past its time limit."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from clip_story import four_scenes

from deepflix.cut.ffmpeg.probe import first_pts, grab_frames, mp4_layout, probe
from deepflix.errors import ProviderError
from deepflix.pipeline import FilmOptions, StageEvent, make_film
from deepflix.storage import LocalStore

FPS = 30


def _make(tmp: Path, name: str, **opts: Any) -> Any:
    events: list[StageEvent] = []
    res = make_film(None, story=four_scenes(), opts=FilmOptions(resolution="360p", **opts), out_dir=tmp / name,
                    store=LocalStore(tmp / "store"), on_event=events.append)
    res.events = events
    return res


@pytest.fixture(scope="module")
def films(clip_plugin: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("clipfilms")
    return {"tmp": tmp, "still": _make(tmp, "still"),
            "clips": _make(tmp, "clips", clips=2, providers={"clip": "cliptest/zoom"})}


def _starts(res: Any) -> list[int]:
    """Each scene's first frame in the film (scene lengths are whole frames)."""
    out, t = [], 0.0
    for s in res.story.scenes:
        out.append(round(t * FPS))
        t += s.duration
    return out + [round(t * FPS)]


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


def test_two_of_four_scenes_are_clips_in_a_web_ready_film(films: dict[str, Any]) -> None:
    res = films["clips"]
    assert [s.motion for s in res.story.scenes] == ["still", "clip", "clip", "still"]  # the 2 with most action
    assert res.computed["clip"] == 2 and res.warnings == []
    keys = res.keys["clips"]
    assert keys[0] is None and keys[1] and keys[2] and len(keys) == 3
    movie = res.files["movie"]
    info = probe(movie)
    v, a = info.first("video"), info.first("audio")
    assert v and a and info.first("subtitle")
    assert (v.codec, v.pix_fmt, v.width, v.height) == ("h264", "yuv420p", 640, 360)
    assert mp4_layout(movie).faststart
    assert abs(first_pts(movie, "v") - first_pts(movie, "a")) <= 0.040
    total = sum(s.duration for s in res.story.scenes)
    assert abs(info.duration - total) <= 1.5 / FPS  # the duration is the sum of the scenes
    manifest = json.loads(res.files["manifest"].read_text())
    assert manifest["artifacts"]["clips"] == keys and not _clip_warnings(manifest)
    assert [s.get("motion") for s in manifest["story"]["scenes"]] == [None, "clip", "clip", None]  # still: left out


def test_frames_inside_a_clip_move_and_differ_from_the_still(films: dict[str, Any]) -> None:
    clip, still = films["clips"], films["still"]
    starts = _starts(clip)
    assert starts == _starts(still)  # the same scenes, the same lengths
    for i in (1, 2):  # the clip scenes: 0.3 s, 1.0 s and 1.7 s in (the clip lasts 2.06 s)
        idx = [starts[i] + 9, starts[i] + 30, starts[i] + 51]
        got, ref = grab_frames(clip.files["movie"], idx), grab_frames(still.files["movie"], idx)
        for k in idx:
            assert _diff(got[k], ref[k]) > 4.0, f"scene {i + 1} frame {k} looks like the still"
        assert _diff(got[idx[0]], got[idx[1]]) > 2.0 and _diff(got[idx[1]], got[idx[2]]) > 2.0  # it moves
    # the still scenes outside the transitions are the stills' own frames
    for k in (starts[0] + 60, starts[3] + 60):
        a, b = grab_frames(clip.files["movie"], [k])[k], grab_frames(still.files["movie"], [k])[k]
        assert _diff(a, b) < 0.5


def test_transitions_into_and_out_of_a_clip_blend(films: dict[str, Any]) -> None:
    res = films["clips"]
    starts = _starts(res)
    for cut in (starts[1], starts[3]):  # still -> clip, clip -> still (crossfades of 0.8 s: 24 frames)
        before, mid, after = cut - 30, cut - 12, cut
        f = grab_frames(res.files["movie"], [before, mid, after])
        assert _diff(f[mid], f[before]) > 3.0 and _diff(f[mid], f[after]) > 3.0
        # a blend: the middle frame lies between the two sides, not beyond them
        lo = np.minimum(f[before], f[after]).astype(np.int16) - 24
        hi = np.maximum(f[before], f[after]).astype(np.int16) + 24
        inside = np.mean((f[mid] >= lo) & (f[mid] <= hi))
        assert inside > 0.9, inside


def test_a_clip_re_encodes_only_its_segment_and_the_one_before(films: dict[str, Any]) -> None:
    clip, still = films["clips"].keys, films["still"].keys
    for stage in ("cast", "speech", "pictures", "score"):
        assert clip[stage] == still[stage], stage
    same = [a == b for a, b in zip(clip["segments"], still["segments"])]
    assert same == [False, False, False, True]  # scene 1 leads into a clip; scene 4 follows one, unchanged
    assert films["clips"].computed["segment"] == 3


def test_the_default_film_has_no_clip_rows(films: dict[str, Any]) -> None:
    res = films["still"]
    assert "clip" not in res.computed and "clip" not in res.cached
    manifest = json.loads(res.files["manifest"].read_text())
    assert manifest["artifacts"]["clips"] == [] and not _clip_warnings(manifest)
    assert all("motion" not in s for s in manifest["story"]["scenes"])
    assert not [e for e in res.events if e.stage == "clip"]


def test_the_clip_providers_progress_reaches_the_events(films: dict[str, Any]) -> None:
    prog = [e for e in films["clips"].events if e.stage == "clip" and e.status == "progress"]
    assert {e.index for e in prog} == {1, 2}
    assert any(e.fraction == 0.5 and "encoding 33 frames" in e.message for e in prog)


def test_a_failing_clip_falls_back_to_the_still_with_a_warning(films: dict[str, Any]) -> None:
    res = _make(films["tmp"], "broken", clips=2, providers={"clip": "cliptest/broken"})
    assert [w["scene"] for w in res.warnings] == [1, 2]
    assert all("empty video" in w["message"] and "still picture" in w["message"] for w in res.warnings)
    manifest = json.loads(res.files["manifest"].read_text())
    assert _clip_warnings(manifest) == res.warnings and manifest["artifacts"]["clips"] == []
    assert res.keys["cut"] == films["still"].keys["cut"]  # the film of the stills, to the byte


def test_strict_clips_fail_the_film(films: dict[str, Any]) -> None:
    with pytest.raises(ProviderError, match="empty video"):
        _make(films["tmp"], "strict", clips=2, providers={"clip": "cliptest/broken"}, strict_clips=True)


def test_a_clip_past_its_time_limit_is_stopped_and_falls_back(films: dict[str, Any],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPFLIX_TIME_LIMIT_CLIP", "1")
    t0 = time.monotonic()
    res = _make(films["tmp"], "slow", clips=1, providers={"clip": "cliptest/slow"})
    assert time.monotonic() - t0 < 30  # the provider would take 60 s
    assert len(res.warnings) == 1 and "time limit of 1 s" in res.warnings[0]["message"]
    assert res.keys["cut"] == films["still"].keys["cut"]


def _clip_warnings(manifest: dict) -> list[dict]:
    """film.json's warnings of the clip stage (the story checker's findings are rows there too)."""
    return [w for w in manifest.get("warnings", []) if w["stage"] == "clip"]
