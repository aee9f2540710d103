"""Tiny deterministic providers for the job system's tests, registered through
the real plugin hooks (in the test process, and in worker processes through
DEEPFLIX_PLUGINS=jobs_fake_providers with this folder on PYTHONPATH).

Each writes real files (PNG, WAV, bytes) that depend only on its request, so
a film's bytes are a function of the request chain. JOBSTEST_SLEEP makes each
stage take that long (so a test can kill a worker in the middle of it), and
JOBSTEST_MARKERS names a folder where each call leaves ``<stage>-<scene>-<pid>``;
with JOBSTEST_HOLD set it then waits inside the stage until ``<marker>.go`` exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import cv2
import numpy as np
from scipy.io import wavfile

from deepflix.cut.base import CutProvider, SegmentProvider
from deepflix.errors import ProviderUnavailable
from deepflix.hookspecs import hookimpl
from deepflix.models import (
    CutRequest,
    CutResult,
    PictureRequest,
    PictureResult,
    Scene,
    ScoreRequest,
    ScoreResult,
    Segment,
    SegmentRequest,
    SegmentResult,
    SpeechRequest,
    SpeechResult,
    Story,
    StoryRequest,
)
from deepflix.picture.base import PictureProvider
from deepflix.score.base import ScoreProvider
from deepflix.speech.base import SpeechProvider
from deepflix.story.base import StoryProvider


def _enter(stage: str, scene: int | None = None) -> None:
    markers = os.environ.get("JOBSTEST_MARKERS")
    if markers:
        marker = Path(markers, f"{stage}-{scene if scene is not None else 'x'}-{os.getpid()}")
        marker.touch()
        if os.environ.get("JOBSTEST_HOLD"):  # wait inside the stage until the test says go (or kills us)
            go, deadline = marker.with_name(marker.name + ".go"), time.monotonic() + 60
            while not go.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
    delay = float(os.environ.get("JOBSTEST_SLEEP", "0") or 0)
    if delay:
        time.sleep(delay)


def _digest(obj: object) -> bytes:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).digest()


class FakeStory(StoryProvider):
    provider_id = "jobstest/story"

    def generate(self, request: StoryRequest, ctx):  # type: ignore[no-untyped-def]
        _enter("story")
        scenes = [
            Scene(scene_description=f"scene {i + 1} of {request.prompt}", atmosphere="quiet", setting="coast",
                  narration=f"Part {i + 1}. {request.prompt} The seed is {request.seed}.")
            for i in range(request.num_scenes)
        ]
        return Story(title=f"Test film {request.seed}", genre=request.genre, prompt=request.prompt, seed=request.seed,
                     scenes=scenes)


class FakePicture(PictureProvider):
    provider_id = "jobstest/picture"

    def generate(self, request: PictureRequest, ctx):  # type: ignore[no-untyped-def]
        _enter("picture", request.scene_index)
        d = _digest(request.model_dump(mode="json"))
        img = np.zeros((request.height, request.width, 3), np.uint8)
        img[:] = (d[0], d[1], d[2])
        cv2.putText(img, str(request.scene_index), (10, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
        cv2.imwrite(str(ctx.out_dir / "picture.png"), img)
        return PictureResult(image="picture.png", width=request.width, height=request.height)


class RefPicture(FakePicture):
    """Conditions on the cast's portraits (as ComfyUI's reference workflows do): the picture's
    colour comes from the request and the bytes of every reference it was given."""

    provider_id = "jobstest/ref-picture"
    supports_references = True

    def generate(self, request: PictureRequest, ctx):  # type: ignore[no-untyped-def]
        _enter("picture", request.scene_index)
        d = hashlib.sha256(_digest(request.model_dump(mode="json")) +
                           b"".join(ctx.path(ref).read_bytes() for ref in request.references)).digest()
        img = np.zeros((request.height, request.width, 3), np.uint8)
        img[:] = (d[0], d[1], d[2])
        cv2.imwrite(str(ctx.out_dir / "picture.png"), img)
        return PictureResult(image="picture.png", width=request.width, height=request.height)


class FlakyPicture(FakePicture):
    """Fails transiently the first JOBSTEST_FLAKY times in this process."""

    provider_id = "jobstest/flaky-picture"
    failures = 0

    def generate(self, request: PictureRequest, ctx):  # type: ignore[no-untyped-def]
        if FlakyPicture.failures < int(os.environ.get("JOBSTEST_FLAKY", "1")):
            FlakyPicture.failures += 1
            raise ProviderUnavailable("the picture service is down (test)", retry_after=0.0)
        return super().generate(request, ctx)


class KillerPicture(FakePicture):
    """Kills the process that runs it: a task that always takes its worker down."""

    provider_id = "jobstest/killer-picture"

    def generate(self, request: PictureRequest, ctx):  # type: ignore[no-untyped-def]
        _enter("picture", request.scene_index)
        os.kill(os.getpid(), 9)
        raise AssertionError("unreachable")


class FakeSpeech(SpeechProvider):
    provider_id = "jobstest/speech"

    def generate(self, request: SpeechRequest, ctx):  # type: ignore[no-untyped-def]
        _enter("speech", request.scene_index)
        text = " ".join(line.text for line in request.lines)
        duration = round(0.25 * len(text.split()), 3)
        sr = 8000
        t = np.arange(int(sr * duration)) / sr
        wav = (0.2 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
        wavfile.write(ctx.out_dir / "speech.wav", sr, wav)
        return SpeechResult(audio="speech.wav", sample_rate=sr, duration=duration,
                            segments=[Segment(start=0.0, end=duration, text=text)])


class FakeScore(ScoreProvider):
    provider_id = "jobstest/score"

    def generate(self, request: ScoreRequest, ctx):  # type: ignore[no-untyped-def]
        _enter("score")
        sr = 8000
        t = np.arange(int(sr * request.duration)) / sr
        wav = (0.1 * np.sin(2 * np.pi * 110 * t) * 32767).astype(np.int16)
        wavfile.write(ctx.out_dir / "score.wav", sr, wav)
        return ScoreResult(audio="score.wav", sample_rate=sr, duration=request.duration)


class FakeSegment(SegmentProvider):
    provider_id = "jobstest/segment"

    def generate(self, request: SegmentRequest, ctx):  # type: ignore[no-untyped-def]
        _enter("segment", request.index)
        body = ctx.path(request.picture).read_bytes() + _digest(request.model_dump(mode="json"))
        (ctx.out_dir / "segment.bin").write_bytes(body)
        frames = round(request.duration * request.fps)
        return SegmentResult(video="segment.bin", frames=frames, duration=request.duration, width=request.width,
                             height=request.height)


class EncodingSegment(FakeSegment):
    """Runs a real ffmpeg first (a slow, cheap one: a tiny test pattern read in real time
    for JOBSTEST_FFMPEG_SECONDS), through the helper the built-in segment uses."""

    provider_id = "jobstest/encoding-segment"

    def generate(self, request: SegmentRequest, ctx):  # type: ignore[no-untyped-def]
        from deepflix.cut.ffmpeg.encode import run_ffmpeg

        seconds = os.environ.get("JOBSTEST_FFMPEG_SECONDS", "120")
        run_ffmpeg(["-re", "-f", "lavfi", "-i", "testsrc=size=32x18:rate=2", "-t", seconds, "-f", "null", "-"],
                   what="test encode")
        return super().generate(request, ctx)


class FakeCut(CutProvider):
    provider_id = "jobstest/cut"

    def generate(self, request: CutRequest, ctx):  # type: ignore[no-untyped-def]
        _enter("cut")
        parts = [ctx.path(ref).read_bytes() for ref in request.segments]
        parts += [ctx.path(sc.speech).read_bytes() for sc in request.scenes]
        if request.score:
            parts.append(ctx.path(request.score).read_bytes())
        parts.append(json.dumps(request.model_dump(mode="json"), sort_keys=True).encode())
        (ctx.out_dir / "movie.mp4").write_bytes(b"".join(parts))
        srt = "".join(f"{i + 1}\n00:00:0{i},000 --> 00:00:0{i},900\n{c.text}\n\n" for i, c in enumerate(request.subtitles))
        (ctx.out_dir / "movie.srt").write_text(srt)
        (ctx.out_dir / "movie.vtt").write_text("WEBVTT\n\n" + srt)
        (ctx.out_dir / "poster.jpg").write_bytes(ctx.path(request.scenes[0].picture).read_bytes())
        return CutResult(video="movie.mp4", srt="movie.srt", vtt="movie.vtt", poster="poster.jpg",
                         duration=request.duration, width=320, height=180)


FAKES = {"story": "jobstest/story", "picture": "jobstest/picture", "speech": "jobstest/speech",
         "score": "jobstest/score", "segment": "jobstest/segment", "cut": "jobstest/cut"}


@hookimpl
def register_story_providers(register):  # type: ignore[no-untyped-def]
    register(FakeStory)


@hookimpl
def register_picture_providers(register):  # type: ignore[no-untyped-def]
    register(FakePicture)
    register(RefPicture)
    register(FlakyPicture)
    register(KillerPicture)


@hookimpl
def register_speech_providers(register):  # type: ignore[no-untyped-def]
    register(FakeSpeech)


@hookimpl
def register_score_providers(register):  # type: ignore[no-untyped-def]
    register(FakeScore)


@hookimpl
def register_segment_providers(register):  # type: ignore[no-untyped-def]
    register(FakeSegment)
    register(EncodingSegment)


@hookimpl
def register_cut_providers(register):  # type: ignore[no-untyped-def]
    register(FakeCut)
