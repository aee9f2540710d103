"""builtin/ffmpeg: the offline cut, the default.

Frames are rendered with OpenCV/numpy (Ken Burns and parallax warped
sub-pixel, transitions, title card, credits, burned-in captions; see
render.py) and piped raw into ONE ffmpeg, which encodes the picture. Meanwhile a
thread mixes the sound (speech over the score, ducked and loudness-normalised by
``deepflix.score.mix``) into AAC and draws the poster; a stream-copy mux then
joins picture, sound and soft subtitles (mov_text) into a web-ready MP4 (H.264 +
AAC, yuv420p, faststart). Rendering and encoding overlap: a writer thread feeds
ffmpeg while the next frame is drawn.

When the request names pre-encoded scene segments (the segment stage), the
picture is those joined without re-encoding, and this stage only mixes the
sound, muxes the subtitles and writes the poster and preview.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import InvalidInput, ProviderError
from ..hookspecs import Register, hookimpl
from ..languages import iso639_2
from ..models import CutRequest, CutResult, frame_size
from ..provider import StageContext
from .base import CutProvider
from .ffmpeg.captions import Captions, CaptionStyle, write_subtitle_files
from .ffmpeg.encode import (
    COLOR_TAGS,
    FrameSink,
    check_preset,
    partial_name,
    run_ffmpeg,
    video_codec_args,
    wants_nvenc,
)
from .ffmpeg.poster import (
    POSTER_LONG_SIDE,
    PREVIEW_WINDOW,
    WEBP_ARGS,
    PreviewTap,
    kept_preview,
    make_poster,
    make_preview,
    preview_size,
    preview_windows,
)
from .ffmpeg.render import (
    TRANSITION_SECONDS,
    SegmentPlan,
    Shot,
    ShotSpec,
    Sink,
    one_opencv_thread,
    render_segment,
    transition_frames,
)

# the "fast" coder: a third of the CPU of the default two-loop search, and at 192 kb/s closer to
# the mix by waveform (42 dB SNR against 32 on the lighthouse film); loudness within 0.03 LU
AUDIO_ARGS = ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "192k"]
BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact"]  # same inputs, same bytes
# the poster's and the preview's keys as parts kept in the store (storage/parts.py): bump one when
# the same inputs would make a different file
POSTER_VERSION = 1
PREVIEW_VERSION = 1


def frame_edges(req: CutRequest) -> list[int]:
    """Frame index where each scene starts, plus the film's frame count: the film is
    exactly the sum of its scenes (rounded once, cumulatively, so errors never add up)."""
    edges, t = [0], 0.0
    for sc in req.scenes:
        t += sc.duration
        edges.append(round(t * req.fps))
    return edges


def film_plans(req: CutRequest, ctx: StageContext) -> list[SegmentPlan]:
    """One plan per scene, as the segment stage would cut the film."""
    edges = frame_edges(req)
    specs = [
        ShotSpec(picture=ctx.path(sc.picture), layers=tuple(ctx.path(r) for r in sc.layers),
                 clip=ctx.path(sc.clip) if sc.clip else None, move=sc.camera_move, clip_extend=sc.clip_extend or "hold")
        for sc in req.scenes
    ]
    plans = []
    n = len(req.scenes)
    for i, sc in enumerate(req.scenes):
        frames = edges[i + 1] - edges[i]
        last = i == n - 1
        kind = "fade_black" if last else sc.transition
        plans.append(SegmentPlan(
            shot=specs[i], frames=frames,
            title=req.title if i == 0 else None, logline=req.logline if i == 0 else "",
            title_duration=req.title_duration if i == 0 else 0.0,
            credits=req.credits if last else [], credits_duration=req.credits_duration if last else 0.0,
            next=None if last else specs[i + 1], transition=kind,
            transition_frames=transition_frames(kind, TRANSITION_SECONDS, frames, req.fps), fade_in=i == 0,
            language=req.language,
        ))
    return plans


def segment_clips(req: CutRequest, ctx: StageContext, edges: list[int], starts: list[float]) -> \
        list[tuple[Path, float, float, str]]:
    """The preview's windows as (segment, start within it, seconds, the segment's key): each
    inside its scene's segment."""
    clips = []
    for t in starts:
        i = max(k for k in range(len(req.scenes)) if edges[k] <= round(t * req.fps))
        local = t - edges[i] / req.fps
        d = min(PREVIEW_WINDOW, (edges[i + 1] - edges[i]) / req.fps - local)
        if d > 0.05:
            clips.append((ctx.path(req.segments[i]), local, d, req.segments[i].key))
    return clips


def picture_args(req: CutRequest, edges: list[int]) -> list[str]:
    """The encoder's output arguments for the film's picture (video only, MP4)."""
    _, vargs = video_codec_args(req.codec, req.crf, req.preset, req.fps, nvenc=wants_nvenc())
    keys = ",".join(f"{e / req.fps:.4f}" for e in edges[1:-1])  # scene starts: seekable, clean preview cuts
    return [*vargs, "-pix_fmt", "yuv420p", *COLOR_TAGS, *(["-force_key_frames", keys] if keys else []),
            "-an", *BITEXACT, "-f", "mp4"]


def draw_film(req: CutRequest, ctx: StageContext, sink: Sink, edges: list[int]) -> None:
    """Every frame of the film, scene by scene, into ``sink``."""
    plans = film_plans(req, ctx)
    captions = Captions(req.subtitles if req.burn_subtitles else [], CaptionStyle(sink.width, sink.height, req.language))
    live: list[Shot] = []  # at most this scene's and the next one's: memory stays flat
    try:
        live.append(Shot(plans[0].shot, sink.width, sink.height, req.fps))
        for i, plan in enumerate(plans):
            if plan.next is not None:
                live.append(Shot(plan.next, sink.width, sink.height, req.fps))
            nxt = live[1] if len(live) > 1 else None
            render_segment(plan, sink, live[0], nxt, captions=captions, t_offset=edges[i] / req.fps)
            live.pop(0).close()
            ctx.progress(0.05 + 0.85 * edges[i + 1] / edges[-1], f"scene {i + 1}/{len(plans)}")
    finally:
        for shot in live:
            shot.close()


def mix_sound(req: CutRequest, ctx: StageContext, duration: float, out: Path) -> Path:
    from ..score.mix import (
        mix_film_audio,  # the sound engineer's mixer; imported when needed
    )

    speech = [(ctx.path(sc.speech), sc.start + sc.speech_offset) for sc in req.scenes]
    score = ctx.path(req.score) if req.score is not None else None
    mix_film_audio(speech=speech, score=score, duration=duration, out=out, target_lufs=req.loudness_lufs)
    if not out.exists() or out.stat().st_size < 64:
        raise ProviderError(f"the sound mix wrote no audio to {out.name}")
    return out


class FFmpegCut(CutProvider):
    provider_id = "builtin/ffmpeg"
    # 2: frames encoded as drawn (BT.709-tagged input); 3: pans cropped from kept phases; 4: AAC's fast coder
    version = "4"

    def cache_identity(self) -> dict[str, Any]:
        return {**super().cache_identity(), "encoder": "nvenc" if wants_nvenc() else "software"}

    def check_inputs(self, request: BaseModel) -> None:
        assert isinstance(request, CutRequest)
        check_preset(request.preset)
        video_codec_args(request.codec, request.crf, request.preset, request.fps)  # codec available here
        t = 0.0
        for i, sc in enumerate(request.scenes):
            if abs(sc.start - t) > 0.5 / request.fps:
                raise InvalidInput(f"scene {i + 1} starts at {sc.start:.3f}s but the scenes before it end at "
                                   f"{t:.3f}s: scenes must follow each other on the film's timeline")
            t += sc.duration
        if request.segments and len(request.segments) != len(request.scenes):
            raise InvalidInput(f"{len(request.segments)} segments for {len(request.scenes)} scenes")

    def generate(self, request: CutRequest, ctx: StageContext) -> CutResult:
        width, height = frame_size(request.aspect, request.resolution)
        edges = frame_edges(request)
        duration = edges[-1] / request.fps
        out = ctx.out_dir
        movie = out / "movie.mp4"
        srt, vtt = write_subtitle_files(request.subtitles, out, language=request.language)
        windows = preview_windows([e / request.fps for e in edges[:-1]], duration, request.title_duration)
        # The sound (mix, AAC) and the poster are made on a thread while the picture is
        # drawn and encoded (or, from segments, while the preview is cut from them), then
        # one stream-copy mux joins them: the mix costs no wall time.
        with tempfile.TemporaryDirectory(prefix="deepflix-cut-") as tmp_dir, \
                ThreadPoolExecutor(2, thread_name_prefix="deepflix-cut") as pool:
            tmp = Path(tmp_dir)
            sound = pool.submit(self._sound, request, ctx, duration, tmp, width, height)
            ctx.progress(0.02, "picture")
            preview = None
            if request.segments:
                video_in = ["-f", "concat", "-safe", "0", "-i", str(self._listing(request, ctx, tmp))]
                preview = pool.submit(self._preview, ctx, segment_clips(request, ctx, edges, windows), width,
                                      height, out / "preview.webp")
            else:
                video = tmp / "video.mp4"
                self._render(request, ctx, width, height, edges, video, windows, out / "preview.webp")
                video_in = ["-i", str(video)]
            audio = sound.result()
            ctx.progress(0.92, "muxing")
            self._mux(video_in, audio, out / srt if request.subtitles else None, movie, request.language)
            if preview is not None:
                preview.result()
        ctx.progress(1.0, "done")
        return CutResult(video=movie.name, srt=srt, vtt=vtt, poster="poster.jpg", preview="preview.webp",
                         duration=round(duration, 6), width=width, height=height)

    def _sound(self, req: CutRequest, ctx: StageContext, duration: float, tmp: Path, width: int,
               height: int) -> Path:
        """The mixed sound as AAC in an M4A (its priming delay recorded, so a stream copy
        keeps it in sync), and the poster."""
        wav = mix_sound(req, ctx, duration, tmp / "mix.wav")
        audio = tmp / "audio.m4a"
        run_ffmpeg(["-i", str(wav), "-map", "0:a:0", *AUDIO_ARGS, *BITEXACT, "-f", "mp4", "-y",
                    str(partial_name(audio))], final=audio, what="encoding the sound")
        self._poster(req, ctx, width, height)
        return audio

    def _poster(self, req: CutRequest, ctx: StageContext, width: int, height: int) -> None:
        """The poster, kept in the store by what it shows: an edit that leaves its scene's
        picture, the title and the logline as they were copies it."""
        ref = req.scenes[len(req.scenes) // 2].picture
        ident = {"part": "poster", "version": POSTER_VERSION, "picture": [ref.key, ref.name], "title": req.title,
                 "logline": req.logline, "size": [width, height], "long_side": POSTER_LONG_SIDE,
                 "language": req.language}
        ctx.reuse(ident, ctx.out_dir / "poster.jpg", lambda p: make_poster(
            ctx.path(ref), req.title, req.logline, width, height, p, req.language))

    def _preview(self, ctx: StageContext, clips: list[tuple[Path, float, float, str]], width: int, height: int,
                 out: Path) -> None:
        """The preview cut from the segments, kept in the store by the windows it shows; each
        window's frames kept by its segment, so an edit decodes the re-encoded segments' only."""
        ident = {"part": "preview", "version": PREVIEW_VERSION, "size": list(preview_size(width, height)),
                 "windows": [[key, video.name, round(t, 3), round(d, 3)] for video, t, d, key in clips],
                 "webp": WEBP_ARGS}
        remember = ctx.remember
        if remember is None:
            make_preview([(video, t, d) for video, t, d, _ in clips], width, height, out)
            return
        ctx.reuse(ident, out, lambda p: kept_preview(clips, width, height, p, remember))

    def _mux(self, video_in: list[str], audio: Path, srt: Path | None, movie: Path, language: str = "en") -> None:
        """Picture, sound and soft subtitles into the web-ready MP4 (moov first), copying
        the streams: a fraction of a second however long the film. The subtitle track
        (and, in another language than English, the sound) carries the film's ISO 639-2 code."""

        code = iso639_2(language)
        subs_in, subs = ([], []) if srt is None else (
            ["-i", str(srt)], ["-map", "2:s:0", "-c:s", "mov_text", "-metadata:s:s:0", f"language={code}"])
        voice = [] if language == "en" else ["-metadata:s:a:0", f"language={code}"]
        run_ffmpeg([*video_in, "-i", str(audio), *subs_in, "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy",
                    "-c:a", "copy", *subs, *voice, "-movflags", "+faststart", *BITEXACT, "-f", "mp4", "-y",
                    str(partial_name(movie))], final=movie, what="muxing the movie")

    def _render(self, req: CutRequest, ctx: StageContext, width: int, height: int, edges: list[int],
                video: Path, windows: list[float], preview: Path) -> None:
        """The picture: every frame drawn and piped into one encoder (video only)."""
        with one_opencv_thread(), FrameSink(width, height, req.fps, picture_args(req, edges), video) as encoder, \
                PreviewTap(encoder, windows, preview) as sink:
            draw_film(req, ctx, sink, edges)

    def _listing(self, req: CutRequest, ctx: StageContext, tmp: Path) -> Path:
        """The concat demuxer's list of the pre-encoded scene segments."""
        listing = tmp / "segments.txt"
        lines = []
        for ref in req.segments:
            p = ctx.path(ref).resolve()
            lines.append("file '" + str(p).replace("'", "'\\''") + "'")
        listing.write_text("\n".join(lines) + "\n")
        return listing


@hookimpl
def register_cut_providers(register: Register) -> None:
    register(FFmpegCut)
