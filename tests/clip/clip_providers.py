"""Clip providers for the tests, registered through the real ``register_providers`` hook.

``cliptest/zoom`` is a real image-to-video provider without a model: ffmpeg moves
the start image (a slow zoom, and a bright bar sweeping across it) and encodes
an MP4 at the provider's own frame rate (16 fps by default, as Wan 2.2 14B
writes; the cut converts it to the film's), as many frames as a Wan model would
make (4n + 1, at most ``seconds``). The others fail: for good on odd scenes
(``cliptest/odd-fails``), for good always (``cliptest/broken``), or by taking
longer than any limit (``cliptest/slow``).
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, ConfigDict

from deepflix.clip.base import ClipProvider
from deepflix.cut.ffmpeg.encode import run_ffmpeg
from deepflix.errors import ProviderBadOutput
from deepflix.hookspecs import hookimpl
from deepflix.models import ClipRequest, ClipResult
from deepflix.provider import StageContext


class ZoomOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fps: int = 16
    seconds: float = 2.0  # the longest clip it makes (a model's limit)
    extend: Literal["hold", "kenburns"] = "hold"


class ZoomClip(ClipProvider):
    provider_id = "cliptest/zoom"
    Options = ZoomOptions
    supports_references = True

    def generate(self, request: ClipRequest, ctx: StageContext) -> ClipResult:
        o = self.options
        assert isinstance(o, ZoomOptions)
        ctx.progress(0.0, "starting")
        frames = 4 * int(min(request.duration, o.seconds) * o.fps / 4) + 1  # 4n + 1, as Wan makes them
        w, h = request.width, request.height
        out = ctx.out_dir / "clip.mp4"
        bar = max(8, w // 12)
        graph = (f"[0:v]scale={w * 2}:{h * 2},zoompan=z='1+0.004*on':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
                 f":d={frames}:s={w}x{h}:fps={o.fps},setsar=1[bg];"
                 f"[1:v]format=rgba,colorchannelmixer=aa=0.6[bar];"
                 f"[bg][bar]overlay=x='mod(t*{w}\,{w})':y=0:shortest=1,format=yuv420p[out]")
        ctx.progress(0.5, f"encoding {frames} frames")
        run_ffmpeg(["-loop", "1", "-i", str(ctx.path(request.image)),
                    "-f", "lavfi", "-i", f"color=c=white:s={bar}x{h}:r={o.fps}",
                    "-filter_complex", graph, "-map", "[out]", "-frames:v", str(frames),
                    "-r", str(o.fps), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-an", str(out)], what="test clip")
        ctx.progress(1.0, "done")
        return ClipResult(video="clip.mp4", width=w, height=h, fps=float(o.fps), frames=frames,
                          duration=round(frames / o.fps, 6), extend=o.extend)


class OddFails(ZoomClip):
    provider_id = "cliptest/odd-fails"

    def generate(self, request: ClipRequest, ctx: StageContext) -> ClipResult:
        if request.scene_index % 2:
            raise ProviderBadOutput(f"the model returned no frames for scene {request.scene_index + 1} (test)")
        return super().generate(request, ctx)


class Broken(ZoomClip):
    provider_id = "cliptest/broken"

    def generate(self, request: ClipRequest, ctx: StageContext) -> ClipResult:
        raise ProviderBadOutput("the model returned an empty video (test)")


class Slow(ZoomClip):
    provider_id = "cliptest/slow"

    def generate(self, request: ClipRequest, ctx: StageContext) -> ClipResult:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # a model that never finishes in time
            time.sleep(0.05)
        raise AssertionError("the time limit should have stopped this")


@hookimpl
def register_providers(register):  # type: ignore[no-untyped-def]
    for cls in (ZoomClip, OddFails, Broken, Slow):
        register(cls)
