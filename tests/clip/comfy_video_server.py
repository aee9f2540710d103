"""The ComfyUI-protocol test server (tests/picture/comfy_fake_server.py) with video nodes: it runs an
image-to-video workflow's sampling passes in dependency order (a ``progress`` series per pass, as
the real server's sampler nodes send), makes a real small MP4 (or animated WebP) from the uploaded
start image at the workflow's width, height, length and fps, and records it in ``/history`` the way
the real nodes do: SaveVideo ``{"images": [...], "animated": [true]}`` (comfy_api ``ui.PreviewVideo``),
SaveAnimatedWEBP the same with a .webp, VHS_VideoCombine ``{"gifs": [{..., "format", "frame_rate"}]}``.
"""

from __future__ import annotations

import asyncio
import io
import sys
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "picture"))
from comfy_fake_server import CORE_NODES, FakeComfy, pointed_at, serve, wait_idle  # noqa: E402,F401 (pointed_at: for the tests)

__all__ = ["FakeVideoComfy", "serve", "wait_idle", "VIDEO_NODES"]

VIDEO_NODES = ["UNETLoader", "CLIPLoader", "VAELoader", "LoraLoaderModelOnly", "ModelSamplingSD3", "KSamplerAdvanced",
               "WanImageToVideo", "Wan22ImageToVideoLatent", "WanVaceToVideo", "TrimVideoLatent", "LTXVImgToVideo",
               "LTXVConditioning", "LTXVScheduler", "LTXVPreprocess", "KSamplerSelect", "SamplerCustom", "CreateVideo",
               "SaveVideo", "SaveAnimatedWEBP", "VHS_VideoCombine", "PrimitiveInt", "SolidMask"]
SAMPLING = ("KSampler", "KSamplerAdvanced", "SamplerCustom")
LATENTS = ("WanImageToVideo", "Wan22ImageToVideoLatent", "WanVaceToVideo", "LTXVImgToVideo")


class FakeVideoComfy(FakeComfy):
    def reset(self) -> None:
        super().reset()
        self.nodes = list(CORE_NODES) + VIDEO_NODES
        self.output_nodes.update({"SaveVideo": "output", "SaveAnimatedWEBP": "output", "VHS_VideoCombine": "output"})
        self.history_style = "real"  # real | none (a server that records no video file)

    async def execute(self, item: list[Any]) -> dict[str, Any]:
        _, pid, wf, extra, outputs = item
        cid = extra["client_id"]
        await self.send("execution_start", {"prompt_id": pid, "timestamp": 0}, cid)
        for node_id in _order(wf):
            await self.send("executing", {"node": node_id, "display_node": node_id, "prompt_id": pid}, cid)
            if wf[node_id]["class_type"] in SAMPLING:
                steps = _steps(wf, node_id)
                for i in range(1, steps + 1):
                    await asyncio.sleep(self.step_s)
                    await self.send("progress", {"value": i, "max": steps, "prompt_id": pid, "node": node_id}, cid)
        out_all: dict[str, Any] = {}
        for out_id in outputs:
            out = await asyncio.to_thread(self.save, wf, out_id) if self.history_style == "real" else {}
            await self.send("executed", {"node": out_id, "display_node": out_id, "output": out, "prompt_id": pid}, cid)
            out_all[out_id] = out
        await self.send("execution_success", {"prompt_id": pid, "timestamp": 0}, cid)
        return {"status_str": "success", "completed": True, "messages": [["execution_success", {"prompt_id": pid}]],
                "outputs": out_all}

    def save(self, wf: dict[str, Any], out_id: str) -> dict[str, Any]:
        """The clip the workflow describes, as the real save node would write and record it."""
        latent = next(n["inputs"] for n in wf.values() if n["class_type"] in LATENTS)
        w, h, length = (_value(wf, latent[k]) for k in ("width", "height", "length"))
        fps = next(float(_value(wf, n["inputs"][k])) for n in wf.values() for k in ("fps", "frame_rate")
                   if n["class_type"] in ("CreateVideo", "VHS_VideoCombine", "SaveAnimatedWEBP") and k in n["inputs"])
        frames = self.frames(wf, latent, int(w), int(h), int(length))
        node = wf[out_id]["class_type"]
        n = len(self.images)
        if node == "SaveAnimatedWEBP":
            from PIL import Image

            buf = io.BytesIO()
            pics = [Image.fromarray(f[:, :, ::-1]) for f in frames]
            pics[0].save(buf, "WEBP", save_all=True, append_images=pics[1:], duration=round(1000 / fps), lossless=True)
            name = f"deepflix_{n:05d}_.webp"
            self.images[name] = buf.getvalue()
            return {"images": [{"filename": name, "subfolder": "", "type": "output"}], "animated": [True]}
        name = f"deepflix_{n:05d}_.mp4"
        self.images[name] = _mp4(frames, fps)
        if node == "VHS_VideoCombine":
            return {"gifs": [{"filename": name, "subfolder": "", "type": "output", "format": "video/h264-mp4",
                              "frame_rate": fps, "workflow": name.replace(".mp4", ".png"), "fullpath": f"/out/{name}"}]}
        return {"images": [{"filename": name, "subfolder": "video", "type": "output"}], "animated": [True]}

    def frames(self, wf: dict[str, Any], latent: dict[str, Any], w: int, h: int, length: int) -> list[np.ndarray]:
        """The start image (the LoadImage the latent node reads) drifting right a pixel a frame."""
        src = latent.get("start_image") or latent.get("image") or latent.get("control_video")
        while src and wf[src[0]]["class_type"] != "LoadImage":  # through LTXVPreprocess and the like
            src = next((v for v in wf[src[0]]["inputs"].values() if isinstance(v, list)), None)
        data = self.uploads.get(wf[src[0]]["inputs"]["image"]) if src else None
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
        base = cv2.resize(img, (w, h)) if img is not None else np.full((h, w, 3), 90, np.uint8)
        return [np.roll(base, i, axis=1) for i in range(length)]


def _mp4(frames: list[np.ndarray], fps: float) -> bytes:
    import imageio_ffmpeg

    h, w = frames[0].shape[:2]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "clip.mp4"
        writer = imageio_ffmpeg.write_frames(str(path), (w, h), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                             macro_block_size=1, output_params=["-preset", "ultrafast"])
        writer.send(None)
        for f in frames:
            writer.send(np.ascontiguousarray(f[:, :, ::-1]))
        writer.close()
        return path.read_bytes()


def _value(wf: dict[str, Any], v: Any) -> Any:
    """A literal, or the value of the primitive node it is wired to."""
    return wf[v[0]]["inputs"]["value"] if isinstance(v, list) else v


def _order(wf: dict[str, Any]) -> list[str]:
    """Nodes in dependency order, as the real executor runs them."""
    done: list[str] = []

    def visit(k: str) -> None:
        if k in done:
            return
        for v in wf[k].get("inputs", {}).values():
            if isinstance(v, list) and len(v) == 2 and v[0] in wf:
                visit(v[0])
        done.append(k)

    for k in wf:
        visit(k)
    return done


def _steps(wf: dict[str, Any], key: str) -> int:
    """The steps a sampler node reports: KSamplerAdvanced only its own share, SamplerCustom its sigmas'."""
    inputs = wf[key]["inputs"]
    if wf[key]["class_type"] == "SamplerCustom":
        return int(wf[inputs["sigmas"][0]]["inputs"]["steps"])
    steps = int(inputs["steps"])
    if wf[key]["class_type"] == "KSamplerAdvanced":
        return min(int(inputs["end_at_step"]), steps) - int(inputs["start_at_step"])
    return steps
