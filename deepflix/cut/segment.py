"""builtin/ffmpeg-segment: one scene's stretch of the film's picture, encoded alone.

The same renderer as the cut (render.py): Ken Burns and parallax, the title
over the first scene, captions, credits over the last, and the transition into
the next scene over this one's tail. Every segment is encoded with the same
settings from an IDR frame, so the cut joins them with ffmpeg's concat demuxer
without re-encoding, and an edit re-encodes only the scenes it touches.
"""

from __future__ import annotations

from pydantic import BaseModel

from ..errors import InvalidInput
from ..hookspecs import Register, hookimpl
from ..models import PictureStretches, SegmentRequest, SegmentResult
from ..provider import StageContext
from .base import SegmentProvider
from .ffmpeg import detect
from .ffmpeg.encode import COLOR_TAGS, FrameSink, check_preset, video_codec_args, wants_nvenc
from .ffmpeg.render import (
    SegmentPlan,
    Shot,
    ShotSpec,
    one_opencv_thread,
    render_segment,
    transition_frames,
)
from .ffmpeg.transitions import KINDS


def segment_frames(req: SegmentRequest) -> int:
    return max(1, round(req.duration * req.fps))


class FFmpegSegment(SegmentProvider):
    provider_id = "builtin/ffmpeg-segment"
    version = "3"  # 2: frames encoded as drawn (BT.709-tagged input); 3: pans cropped from kept phases

    def cache_identity(self) -> dict[str, object]:
        return {**super().cache_identity(), "encoder": "nvenc" if wants_nvenc() else "software"}

    def check_inputs(self, request: BaseModel) -> None:
        assert isinstance(request, SegmentRequest)
        check_preset(request.preset)
        video_codec_args(request.codec, request.crf, request.preset, request.fps)
        if request.width % 2 or request.height % 2:
            raise InvalidInput(f"frame size must be even for yuv420p, got {request.width}x{request.height}")
        if request.transition not in KINDS:
            raise InvalidInput(f"unknown transition {request.transition!r}")

    def generate(self, request: SegmentRequest, ctx: StageContext) -> SegmentResult:
        w, h, fps = request.width, request.height, request.fps
        n = segment_frames(request)
        spec = ShotSpec(picture=ctx.path(request.picture), layers=tuple(ctx.path(r) for r in request.layers),
                        clip=ctx.path(request.clip) if request.clip else None, move=request.camera_move,
                        clip_extend=request.clip_extend or "hold")
        nxt = request.next
        next_spec = ShotSpec(picture=ctx.path(nxt.picture), layers=tuple(ctx.path(r) for r in nxt.layers),
                             clip=ctx.path(nxt.clip) if nxt.clip else None, move=nxt.camera_move) if nxt else None
        plan = SegmentPlan(
            shot=spec, frames=n, subtitles=list(request.subtitles) if request.burn_subtitles else [],
            title=request.title, logline=request.logline, title_duration=request.title_duration,
            credits=list(request.credits), credits_duration=request.credits_duration, next=next_spec,
            transition=request.transition,
            transition_frames=transition_frames(request.transition, request.transition_duration, n, fps),
            fade_in=request.fade_in, language=request.language,
        )
        _, vargs = video_codec_args(request.codec, request.crf, request.preset, fps, nvenc=wants_nvenc())
        out = ctx.out_dir / "segment.mp4"
        # the QA's black and frozen detectors on the frames as they go to the encoder (they pass them on
        # unchanged: the file is the same bytes), so no one decodes the segment again to measure it
        out_args = ["-map", "0:v:0", "-vf", detect.detectors(), *vargs, "-pix_fmt", "yuv420p", *COLOR_TAGS, "-an",
                    "-map_metadata", "-1", "-fflags", "+bitexact", "-f", "mp4"]
        shots = [Shot(spec, w, h, fps)]
        try:
            if next_spec is not None:
                shots.append(Shot(next_spec, w, h, fps))
            with one_opencv_thread(), FrameSink(w, h, fps, out_args, out, cwd=ctx.out_dir) as sink:
                render_segment(plan, sink, shots[0], shots[1] if len(shots) > 1 else None)
        finally:
            for shot in shots:
                shot.close()
        seconds = round(n / fps, 6)
        marks = ctx.out_dir / detect.FOUND
        found = detect.read_found(marks, seconds)
        marks.unlink()  # what it found is in the result
        return SegmentResult(video=out.name, frames=n, duration=seconds, width=w, height=h,
                             stretches=PictureStretches(**found, measured_by=detect.MEASURED_BY))


@hookimpl
def register_segment_providers(register: Register) -> None:
    register(FFmpegSegment)
