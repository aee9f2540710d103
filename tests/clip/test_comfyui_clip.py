"""The comfyui/clip provider's real client against the local ComfyUI-protocol server with video
nodes (comfy_video_server): each bundled workflow filled in, its clip fetched from /history and
/view and probed, progress over two passes, missing nodes, workflows without a video, references."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

pytest.importorskip("websockets")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

import imageio_ffmpeg
from comfy_video_server import FakeVideoComfy, pointed_at, serve

from deepflix.clip.comfyui import ComfyClip
from deepflix.core import config
from deepflix.errors import InvalidInput, ProviderError
from deepflix.models import ArtifactRef, ClipRequest
from deepflix.provider import StageContext


@pytest.fixture(scope="module")
def comfy() -> Any:
    yield from serve(FakeVideoComfy())


@pytest.fixture
def use(comfy: FakeVideoComfy, monkeypatch: pytest.MonkeyPatch) -> Any:
    yield from pointed_at(comfy, monkeypatch)


def _picture(path: Path, w: int = 320, h: int = 180, colour: tuple[int, int, int] = (40, 120, 200)) -> None:
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = colour
    cv2.rectangle(img, (w // 4, h // 4), (w // 2, h // 2), (250, 250, 250), -1)  # something to move
    cv2.imwrite(str(path), img)


def _ctx(tmp: Path, seen: list[tuple[float, str]] | None = None) -> StageContext:
    out = tmp / "out"
    out.mkdir(exist_ok=True)
    return StageContext(out_dir=out, resolve=lambda ref: tmp / ref.name,
                        progress=(lambda f, m="": seen.append((f, m))) if seen is not None else (lambda f, m="": None))


def _request(tmp: Path, **kw: Any) -> ClipRequest:
    _picture(tmp / "picture.png")
    base: dict[str, Any] = dict(image=ArtifactRef(key="pic", name="picture.png"), prompt="the keeper lifts the lantern, slow push in",
                                duration=1.0, width=256, height=144, fps=30, seed=7)
    base.update(kw)
    return ClipRequest(**base)


def _probe(path: Path) -> tuple[int, float, tuple[int, int]]:
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    return frames, float(meta["fps"]), tuple(meta["size"])


@pytest.mark.parametrize("workflow,size,frames,fps,extend", [
    ("wan22_ti2v_5b", (256, 128), 25, 24, "kenburns"),
    ("wan22_i2v_14b_lightx2v", (256, 144), 17, 16, "kenburns"),
    ("wan21_vace_1_3b", (256, 144), 17, 16, "kenburns"),
    ("ltxv_i2v", (256, 128), 25, 25, "hold"),
])
def test_each_bundled_workflow_is_filled_in_and_its_clip_probed(use: Any, tmp_path: Path, workflow: str, size: tuple[int, int],
                                                                frames: int, fps: int, extend: str) -> None:
    res = ComfyClip({"workflow": workflow}).generate(_request(tmp_path), _ctx(tmp_path))
    wf = use.prompts[-1]["workflow"]
    start = next(n for n in wf.values() if n["_meta"]["title"] == "start image")
    assert start["inputs"]["image"] in use.uploads  # uploaded, then wired by its server name
    uploaded = cv2.imdecode(np.frombuffer(use.uploads[start["inputs"]["image"]], np.uint8), cv2.IMREAD_COLOR)
    assert uploaded.shape[:2] == (size[1], size[0])  # cover-cropped to the snapped size
    pos = next(n for n in wf.values() if n["_meta"]["title"] == "positive")
    assert pos["inputs"]["text"] == "the keeper lifts the lantern, slow push in"
    latent = next(n["inputs"] for n in wf.values() if "length" in n["inputs"])
    assert (latent["width"], latent["height"], latent["length"]) == (*size, frames)
    seeds = [n["inputs"].get("seed", n["inputs"].get("noise_seed")) for n in wf.values()
             if n["class_type"] in ("KSampler", "KSamplerAdvanced", "SamplerCustom")]
    assert seeds and set(seeds) == {7}
    fps_in = [n["inputs"].get("fps", n["inputs"].get("frame_rate")) for n in wf.values()
              if n["class_type"] in ("CreateVideo", "LTXVConditioning")]
    assert fps_in and set(fps_in) == {fps}
    # the result is what the file holds
    got_frames, got_fps, got_size = _probe(tmp_path / "out" / res.video)
    assert (res.frames, res.fps, (res.width, res.height)) == (got_frames, got_fps, got_size) == (frames, fps, size)
    assert res.duration == pytest.approx(frames / fps) and res.extend == extend
    assert res.video == "clip.mp4"


def test_sizes_and_lengths_follow_each_models_rules(tmp_path: Path) -> None:
    film = _request(tmp_path, width=1920, height=1080, duration=12.0)
    assert ComfyClip({"workflow": "wan22_ti2v_5b"}).plan(film)[:3] == (1280, 704, 121)  # capped at 5 s
    assert ComfyClip({"workflow": "wan22_i2v_14b_lightx2v"}).plan(film)[:3] == (848, 480, 81)
    assert ComfyClip({"workflow": "ltxv_i2v"}).plan(film)[:3] == (832, 480, 161)
    portrait = _request(tmp_path, width=720, height=1280, duration=2.0)
    w, h, n, _ = ComfyClip({"workflow": "ltxv_i2v"}).plan(portrait)
    assert (w % 32, h % 32, (n - 1) % 8) == (0, 0, 0) and (w, h, n) == (480, 832, 57)
    assert ComfyClip({"workflow": "wan22_ti2v_5b", "max_frames": 50}).plan(film)[2] == 49
    assert ComfyClip({"workflow": "wan22_i2v_14b_lightx2v"}).plan(_request(tmp_path, duration=0.1))[2] == 5


def test_two_passes_are_weighted_into_one_progress(use: Any, tmp_path: Path) -> None:
    seen: list[tuple[float, str]] = []
    ComfyClip({"workflow": "wan22_i2v_14b_lightx2v", "steps": 6}).generate(_request(tmp_path), _ctx(tmp_path, seen))
    wf = use.prompts[-1]["workflow"]
    assert [(wf[k]["inputs"]["start_at_step"], wf[k]["inputs"]["end_at_step"]) for k in ("57", "58")] == [(0, 3), (3, 10000)]
    steps = [(f, m) for f, m in seen if "step" in m]
    assert [f for f, _ in steps] == pytest.approx([i / 6 for i in range(1, 7)])
    assert steps[0][1] == "pass 1/2 step 1/3" and steps[-1][1] == "pass 2/2 step 3/3"


def test_models_come_from_the_settings_and_options(use: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPFLIX_COMFYUI_CLIP_WAN14B_HIGH", "my_high.safetensors")
    config.reload_settings()
    clip = ComfyClip({"workflow": "wan22_i2v_14b_lightx2v", "models": {"vae": "my_vae.safetensors"}})
    clip.generate(_request(tmp_path), _ctx(tmp_path))
    wf = use.prompts[-1]["workflow"]
    assert wf["37"]["inputs"]["unet_name"] == "my_high.safetensors"
    assert wf["39"]["inputs"]["vae_name"] == "my_vae.safetensors"
    assert wf["92"]["inputs"]["lora_name"] == "wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors"
    ident = clip.cache_identity()["options"]
    assert "timeout_s" not in ident and ident["models"]["high noise model"] == "my_high.safetensors"
    again = ComfyClip({"workflow": "wan22_i2v_14b_lightx2v", "models": {"vae": "my_vae.safetensors"}, "timeout_s": 5})
    assert again.cache_identity() == clip.cache_identity() != ComfyClip({"workflow": "wan22_i2v_14b_lightx2v"}).cache_identity()


def test_a_missing_node_fails_before_any_upload_naming_it(use: Any, tmp_path: Path) -> None:
    use.nodes.remove("Wan22ImageToVideoLatent")
    with pytest.raises(ProviderError, match="Wan22ImageToVideoLatent") as err:
        ComfyClip({"workflow": "wan22_ti2v_5b"}).generate(_request(tmp_path), _ctx(tmp_path))
    assert not isinstance(err.value, InvalidInput)
    assert use.uploads == {} and use.prompts == []


def _user_workflow(tmp: Path, saver: dict[str, Any], *, refs: int = 0) -> Path:
    """A user's Wan VACE workflow, its inputs found by title, its length from a titled primitive."""
    wf = json.loads((Path(__file__).parents[2] / "deepflix/clip/workflows/wan22_i2v_14b_lightx2v.json").read_text())
    wf["50"] = {"class_type": "WanVaceToVideo", "_meta": {"title": "vace"},
                "inputs": {"width": 832, "height": 480, "length": ["70", 0], "batch_size": 1, "strength": 1.0,
                           "positive": ["6", 0], "negative": ["7", 0], "vae": ["39", 0], "control_video": ["52", 0]}}
    wf["70"] = {"class_type": "PrimitiveInt", "_meta": {"title": "length"}, "inputs": {"value": 33}}
    for i in range(refs):
        key = str(80 + i)
        wf[key] = {"class_type": "LoadImage", "_meta": {"title": "reference" + (f" {i + 1}" if i else "")}, "inputs": {"image": "x.png"}}
    if refs:
        wf["50"]["inputs"]["reference_image"] = ["80", 0]
    del wf["60"], wf["61"]
    wf.update(saver)
    path = tmp / "my_workflow.json"
    path.write_text(json.dumps(wf))
    return path


VHS = {"90": {"class_type": "VHS_VideoCombine", "_meta": {"title": "Video Combine"},
              "inputs": {"frame_rate": 12, "loop_count": 0, "filename_prefix": "x", "format": "video/h264-mp4",
                         "pingpong": False, "save_output": True, "images": ["8", 0]}}}
WEBP = {"90": {"class_type": "SaveAnimatedWEBP", "_meta": {"title": "save"},
               "inputs": {"fps": 20.0, "lossless": True, "quality": 80, "method": "default", "filename_prefix": "x", "images": ["8", 0]}}}


def test_a_users_workflow_by_titles_with_a_vhs_output_and_references(use: Any, tmp_path: Path) -> None:
    path = _user_workflow(tmp_path, VHS, refs=1)
    for name, colour in (("a.png", (0, 0, 255)), ("b.png", (0, 255, 0))):
        _picture(tmp_path / name, 64, 96, colour)
    refs = [ArtifactRef(key="cast", name="a.png"), ArtifactRef(key="cast", name="b.png")]
    clip = ComfyClip({"workflow": str(path)})
    assert clip.supports_references and not ComfyClip({"workflow": "wan22_ti2v_5b"}).supports_references
    res = clip.generate(_request(tmp_path, references=refs, duration=2.0), _ctx(tmp_path))
    wf = use.prompts[-1]["workflow"]
    assert wf["70"]["inputs"]["value"] == 25 and wf["90"]["inputs"]["frame_rate"] == 12  # the file's own fps, 2 s
    assert (wf["50"]["inputs"]["width"], wf["50"]["inputs"]["height"]) == (256, 144)
    ref = cv2.imdecode(np.frombuffer(use.uploads[wf["80"]["inputs"]["image"]], np.uint8), cv2.IMREAD_COLOR)
    assert ref.shape[:2] == (96, 128)  # both portraits side by side in the one reference slot
    assert tuple(ref[48, 10]) == (0, 0, 255) and tuple(ref[48, 100]) == (0, 255, 0)
    assert (res.frames, res.fps) == _probe(tmp_path / "out" / res.video)[:2] == (25, 12)
    assert res.extend == "hold"


def test_an_edited_user_workflow_is_a_new_clip(tmp_path: Path) -> None:
    path = _user_workflow(tmp_path, VHS)
    before = ComfyClip({"workflow": str(path)}).cache_identity()
    wf = json.loads(path.read_text())
    wf["3"] = {"class_type": "KSampler", "_meta": {"title": "KSampler"}, "inputs": {"steps": 12}}
    path.write_text(json.dumps(wf))
    assert ComfyClip({"workflow": str(path)}).cache_identity() != before


def test_reference_slots_without_portraits_are_taken_out(use: Any, tmp_path: Path) -> None:
    ComfyClip({"workflow": str(_user_workflow(tmp_path, VHS, refs=1))}).generate(_request(tmp_path), _ctx(tmp_path))
    wf = use.prompts[-1]["workflow"]
    assert "80" not in wf and "reference_image" not in wf["50"]["inputs"]


def test_an_animated_webp_output_becomes_an_mp4(use: Any, tmp_path: Path) -> None:
    res = ComfyClip({"workflow": str(_user_workflow(tmp_path, WEBP)), "extend": "kenburns"}).generate(
        _request(tmp_path), _ctx(tmp_path))
    assert res.video == "clip.mp4" and (res.frames, res.fps) == _probe(tmp_path / "out" / "clip.mp4")[:2] == (21, 20)
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "out" / "clip.mp4"), pix_fmt="bgr24")
    next(reader)  # the meta
    frame = np.frombuffer(next(reader), np.uint8).reshape(144, 256, 3)
    reader.close()
    assert abs(int(frame[5, 5, 0]) - 40) < 12 and res.extend == "kenburns"  # the start image's colour


def test_a_workflow_without_a_video_output_fails_at_once(tmp_path: Path) -> None:
    path = _user_workflow(tmp_path, {})
    with pytest.raises(InvalidInput, match="no video output"):
        ComfyClip({"workflow": str(path)})
    wf = json.loads(_user_workflow(tmp_path, VHS).read_text())
    wf["52"]["_meta"]["title"], wf["53"] = "first", {"class_type": "LoadImage", "_meta": {"title": "other"}, "inputs": {"image": "y"}}
    path.write_text(json.dumps(wf))
    with pytest.raises(InvalidInput, match="start image"):
        ComfyClip({"workflow": str(path)})


def test_a_server_that_records_no_video_is_bad_input(use: Any, tmp_path: Path) -> None:
    use.history_style = "none"
    with pytest.raises(InvalidInput, match="recorded no video"):
        ComfyClip({"workflow": "ltxv_i2v"}).generate(_request(tmp_path), _ctx(tmp_path))


def test_a_workflow_that_is_neither_bundled_nor_a_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="neither a template"):
        ComfyClip({"workflow": "wan99_dream"})
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(InvalidInput, match="not JSON"):
        ComfyClip({"workflow": str(tmp_path / "broken.json")})


def test_an_animated_webp_keeps_the_time_of_merged_frames(tmp_path: Path) -> None:
    """The WebP encoder stores identical neighbours as one longer frame (the real SaveAnimatedWEBP
    wrote 13 identical frames as one): each frame is held for its own duration."""
    import io

    from PIL import Image

    from deepflix.clip.video_file import write_clip

    a, b = (Image.new("RGB", (64, 48), c) for c in ((200, 40, 40), (40, 40, 200)))
    buf = io.BytesIO()
    a.save(buf, "WEBP", save_all=True, append_images=[a, a, b, b], duration=50, lossless=True)
    path = write_clip(buf.getvalue(), "x_00001_.webp", tmp_path, 20.0)
    assert _probe(path) == (5, 20.0, (64, 48))
    with pytest.raises(ProviderError, match="not a readable animation"):
        write_clip(b"RIFF....WEBPVP8 junk", "y.webp", tmp_path, 20.0)


def test_titled_primitives_take_the_prompt_length_and_seed() -> None:
    from deepflix.clip.wiring import inject

    wf = {"1": {"class_type": "LoadImage", "_meta": {"title": "Start Image"}, "inputs": {"image": "x.png"}},
          "2": {"class_type": "PrimitiveStringMultiline", "_meta": {"title": "Positive"}, "inputs": {"value": ""}},
          "3": {"class_type": "PrimitiveInt", "_meta": {"title": "length"}, "inputs": {"value": 1}},
          "4": {"class_type": "ImageAddNoise", "_meta": {"title": "seed"}, "inputs": {"seed": 0, "image": ["1", 0]}},
          "5": {"class_type": "ImageScale", "_meta": {"title": "size"}, "inputs": {"width": 1, "height": 1, "image": ["4", 0]}}}
    out = inject(wf, start="up.png", positive="waves roll in", negative="", seed=9, width=320, height=176, frames=33,
                 fps=16, models={}, steps=None, references=[])
    assert [out[k]["inputs"][n] for k, n in (("1", "image"), ("2", "value"), ("3", "value"), ("4", "seed"))] == [
        "up.png", "waves roll in", 33, 9]
    assert (out["5"]["inputs"]["width"], out["5"]["inputs"]["height"]) == (320, 176) and wf["3"]["inputs"]["value"] == 1


def test_the_bundled_vace_workflow_wires_the_cast_and_keeps_the_start_frame(use: Any, tmp_path: Path) -> None:
    _picture(tmp_path / "a.png", 64, 96, (0, 0, 255))
    clip = ComfyClip({"workflow": "wan21_vace_1_3b"})
    assert clip.supports_references
    res = clip.generate(_request(tmp_path, references=[ArtifactRef(key="cast", name="a.png")]), _ctx(tmp_path))
    wf = use.prompts[-1]["workflow"]
    ref = cv2.imdecode(np.frombuffer(use.uploads[wf["53"]["inputs"]["image"]], np.uint8), cv2.IMREAD_COLOR)
    assert ref.shape[:2] == (96, 64) and tuple(ref[5, 5]) == (0, 0, 255)
    assert wf["50"]["inputs"]["reference_image"] == ["53", 0] and wf["50"]["inputs"]["control_video"] == ["52", 0]
    assert (wf["54"]["inputs"]["width"], wf["54"]["inputs"]["height"], wf["54"]["inputs"]["value"]) == (256, 144, 0.0)
    assert wf["3"]["inputs"]["seed"] == 7 and wf["37"]["inputs"]["unet_name"] == "wan2.1_vace_1.3B_fp16.safetensors"
    assert (res.frames, res.fps) == (17, 16)
    # without portraits the reference slot is taken out, and the workflow stays valid image-to-video
    ComfyClip({"workflow": "wan21_vace_1_3b"}).generate(_request(tmp_path, seed=8), _ctx(tmp_path))
    wf = use.prompts[-1]["workflow"]
    assert "53" not in wf and "reference_image" not in wf["50"]["inputs"]


def test_registered_through_the_plugin_hook() -> None:
    from deepflix import plugins

    plugins.reset()
    assert plugins._load()["clip"]["comfyui/clip"] is ComfyClip
