"""The ComfyUI cast: portraits made on the ComfyUI server, and every scene conditioned on the
portraits of the characters in it, through the real client against the local server that speaks
ComfyUI's protocol (comfy_fake_server): what is uploaded is exactly those portraits (by sha256),
wired into the workflow's numbered reference nodes; a workflow whose nodes the server lacks
fails before any upload or queueing, naming them and the core workflow to use instead."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

pytest.importorskip("websockets")
pytest.importorskip("uvicorn")

from comfy_fake_server import IPADAPTER_NODES, FakeComfy, pointed_at, serve  # noqa: E402

from deepflix.comfy.slots import keep_slots  # noqa: E402
from deepflix.core import config  # noqa: E402
from deepflix.errors import InvalidInput, ProviderError  # noqa: E402
from deepflix.film.options import FilmOptions  # noqa: E402
from deepflix.jobs.review import dry_run  # noqa: E402
from deepflix.models import (  # noqa: E402
    ArtifactRef,
    Character,
    GenerationParams,
    PictureRequest,
    PortraitRequest,
    Scene,
    SceneVisual,
    Story,
)
from deepflix.picture.comfy_portrait import ComfyUIPortrait  # noqa: E402
from deepflix.picture.comfy_refs import _area, regions  # noqa: E402
from deepflix.picture.comfyui import ComfyUI, load_workflow  # noqa: E402
from deepflix.picture.portrait import draw_portrait, frame_user_portrait, sheet_figure_box  # noqa: E402
from deepflix.pipeline.film import make_film  # noqa: E402
from deepflix.plugins import resolve_providers  # noqa: E402
from deepflix.provider import StageContext  # noqa: E402
from deepflix.runner import stage_key  # noqa: E402
from deepflix.storage.local import LocalStore  # noqa: E402

FAST = {"long_side": 128, "steps": 1}


@pytest.fixture(scope="module")
def comfy() -> Any:
    yield from serve(FakeComfy())


@pytest.fixture
def use(comfy: FakeComfy, monkeypatch: pytest.MonkeyPatch) -> Any:
    yield from pointed_at(comfy, monkeypatch)


def _cast() -> list[Character]:
    return [Character(id="nadia", name="Nadia", base_traits="a tall woman", facial_features="dark eyes",
                      clothing="a red wool coat", distinctive_features="a scar on her chin", role="lead"),
            Character(id="tom", name="Tom", base_traits="a short old man", facial_features="a white beard",
                      clothing="a green sweater", distinctive_features="a pipe")]


def _portraits(tmp_path: Path) -> dict[str, Path]:
    """Each character's sheet drawn as the illustrator's cast stage draws it, in its own folder."""
    out = {}
    for ch in _cast():
        d = tmp_path / "cast" / ch.id
        d.mkdir(parents=True)
        draw_portrait(PortraitRequest(character=ch.sheet(), genre="drama", width=240, height=160), d)
        out[ch.id] = d / "portrait.png"
    return out


def _scene(ids: list[str], portraits: dict[str, Path]) -> PictureRequest:
    sheets = {c.id: c.sheet() for c in _cast()}
    return PictureRequest(scene=SceneVisual(scene_description="on the pier", atmosphere="calm", setting="coast",
                                            time_of_day="dawn", shot="wide", characters=ids),
                          characters=[sheets[i] for i in ids], genre="drama", width=192, height=108,
                          params=GenerationParams(seed=5, steps=1),
                          references=[ArtifactRef(key=i, name="portrait.png") for i in ids])


def _ctx(tmp_path: Path, portraits: dict[str, Path]) -> StageContext:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return StageContext(out_dir=out, resolve=lambda ref: portraits[ref.key])


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _titled(wf: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["_meta"]["title"]: n for n in wf.values()}


@pytest.mark.parametrize("ids", [["nadia", "tom"], ["tom"], []])
def test_a_scene_uploads_exactly_the_portraits_present_and_wires_them(use: FakeComfy, tmp_path: Path,
                                                                      ids: list[str]) -> None:
    portraits = _portraits(tmp_path)
    req = _scene(ids, portraits)
    ComfyUI({"workflow": "cast_img2img", **FAST}).generate(req, _ctx(tmp_path, portraits))
    # exactly the portraits of the characters present went up, byte for byte
    assert sorted(_sha(d) for d in use.uploads.values()) == sorted(_sha(portraits[i].read_bytes()) for i in ids)
    wf = use.prompts[-1]["workflow"]
    nodes = _titled(wf)
    loads = [n for n in wf.values() if n["class_type"] == "LoadImage"]
    assert len(loads) == len(ids)  # the unused slots are gone (the fake refuses a dangling link)
    (w, h) = (nodes["canvas"]["inputs"]["width"], nodes["canvas"]["inputs"]["height"])
    boxes = regions(req, w, h, len(ids))
    for j, cid in enumerate(ids, 1):
        assert _sha(use.uploads[nodes[f"reference {j}"]["inputs"]["image"]]) == _sha(portraits[cid].read_bytes())
        assert nodes[f"character {j}"]["inputs"]["text"].startswith({"nadia": "Nadia (", "tom": "Tom ("}[cid])
        area = nodes[f"region {j}"]["inputs"]
        assert (area["x"], area["y"], area["width"], area["height"]) == _area(boxes[j - 1], w, h)
        crop = nodes[f"figure {j}"]["inputs"]
        fig = sheet_figure_box(cv2.imread(str(portraits[cid])))
        assert (crop["x"], crop["y"], crop["width"], crop["height"]) == fig and fig[0] + fig[2] <= int(240 * 0.6)
    # the chains end where the slots end: canvas -> place 1 .. place n -> encode, positive -> with n -> sampler
    last_place = f"{len(ids)}04" if ids else "30"
    last_cond = f"{len(ids)}07" if ids else "6"
    assert wf["12"]["inputs"]["pixels"] == [last_place, 0] and wf["3"]["inputs"]["positive"] == [last_cond, 0]


def test_the_regions_are_the_illustrators_figure_boxes(tmp_path: Path) -> None:
    from deepflix.picture.illustrator import render

    req = _scene(["nadia", "tom"], _portraits(tmp_path))
    drawn = render(req.model_copy(update={"width": 320, "height": 192})).figure_boxes
    assert regions(req, 320, 192, 2) == [tuple(drawn["nadia"]), tuple(drawn["tom"])]
    assert regions(req, 320, 192, 2)[0] != regions(req, 320, 192, 2)[1]


def test_ipadapter_without_its_nodes_fails_before_any_work_naming_them_and_the_fallback(
        use: FakeComfy, tmp_path: Path) -> None:
    portraits = _portraits(tmp_path)
    with pytest.raises(ProviderError) as err:
        ComfyUI({"workflow": "cast_ipadapter", **FAST}).generate(_scene(["nadia", "tom"], portraits),
                                                                 _ctx(tmp_path, portraits))
    msg = str(err.value)
    assert "IPAdapterAdvanced, IPAdapterUnifiedLoader" in msg and "'cast_img2img'" in msg, msg
    assert use.uploads == {} and use.prompts == []  # nothing uploaded, nothing queued


def test_ipadapter_masks_each_characters_attention_to_their_region(use: FakeComfy, tmp_path: Path) -> None:
    use.nodes += IPADAPTER_NODES
    portraits = _portraits(tmp_path)
    req = _scene(["tom", "nadia"], portraits)
    ComfyUI({"workflow": "cast_ipadapter", **FAST}).generate(req, _ctx(tmp_path, portraits))
    wf = use.prompts[-1]["workflow"]
    nodes = _titled(wf)
    assert [n for n in nodes if n.startswith("adapter")] == ["adapter 1", "adapter 2"]
    assert wf["3"]["inputs"]["model"] == ["205", 0]  # the sampler takes the second adapter's model
    w, h = nodes["canvas"]["inputs"]["width"], nodes["canvas"]["inputs"]["height"]
    for j, cid in enumerate(["tom", "nadia"], 1):
        ad = nodes[f"adapter {j}"]["inputs"]
        assert wf[ad["image"][0]]["_meta"]["title"] == f"figure {j}"
        assert wf[ad["attn_mask"][0]]["_meta"]["title"] == f"region {j}"
        x, y, bw, bh = _area(regions(req, w, h, 2)[j - 1], w, h)
        assert (nodes[f"region {j}"]["inputs"]["x"], nodes[f"region {j}"]["inputs"]["y"]) == (x, y)
        assert (nodes[f"box {j}"]["inputs"]["width"], nodes[f"box {j}"]["inputs"]["height"]) == (bw, bh)
        assert _sha(use.uploads[nodes[f"reference {j}"]["inputs"]["image"]]) == _sha(portraits[cid].read_bytes())


def test_the_kontext_workflow_chains_one_reference_latent_per_character() -> None:
    wf = keep_slots(load_workflow("cast_kontext"), 2)
    assert wf["43"]["inputs"]["conditioning"] == ["204", 0] and wf["204"]["inputs"]["conditioning"] == ["104", 0]
    assert "304" not in wf and "301" not in wf


def test_an_unused_slot_without_a_pass_through_is_a_clear_error() -> None:
    wf = {"1": {"class_type": "LoadImage", "_meta": {"title": "reference 1"}, "inputs": {"image": "a.png"}},
          "2": {"class_type": "SaveImage", "_meta": {"title": "save"}, "inputs": {"images": ["1", 0]}}}
    with pytest.raises(InvalidInput, match="'reference 1', an unused slot that has no pass-through"):
        keep_slots(wf, 0)
    assert keep_slots(wf, 1) == wf


def test_the_cast_is_made_on_comfyui_from_the_traits_and_the_characters_seed(use: FakeComfy, tmp_path: Path) -> None:
    nadia = _cast()[0]
    req = PortraitRequest(character=nadia.sheet(), genre="drama", width=240, height=160,
                          params=GenerationParams(seed=77, steps=1))
    res = ComfyUIPortrait(FAST).generate(req, StageContext(out_dir=tmp_path))
    figure, face = use.prompts[-2]["workflow"], use.prompts[-1]["workflow"]
    texts = [_titled(wf)["positive"]["inputs"]["text"] for wf in (figure, face)]
    assert texts[0].startswith("full-figure front view of Nadia (a tall woman") and "red wool coat" in texts[0]
    assert texts[1].startswith("face close-up portrait of Nadia (") and "plain light grey" in texts[1]
    assert [wf["3"]["inputs"]["seed"] for wf in (figure, face)] == [77, 78]
    sheet = cv2.imread(str(tmp_path / res.image))
    assert sheet.shape == (160, 240, 3) and (tmp_path / res.face).is_file()
    assert sheet_figure_box(sheet) == (0, 0, 144, 160)  # composed as the illustrator lays out its sheet
    # the fake paints each image the grey of its seed: the figure panel is the first, the face the second
    assert int(np.median(sheet[:, :100])) == 77 % 251 and int(np.median(sheet[60:100, 170:220])) == 78 % 251
    # the portrait depends on its own workflow and the model, not on the scenes' workflow or time limits
    assert stage_key(ComfyUIPortrait(), req) == stage_key(ComfyUIPortrait({"workflow": "cast_img2img",
                                                                           "timeout_s": 3}), req)
    assert stage_key(ComfyUIPortrait(), req) != stage_key(ComfyUIPortrait({"checkpoint": "x.safetensors"}), req)
    assert stage_key(ComfyUI(), _scene([], {})) == stage_key(ComfyUI({"portrait_workflow": "txt2img_sdxl"}),
                                                             _scene([], {}))


def test_the_figure_of_a_drawn_sheet_is_the_figure_alone(tmp_path: Path) -> None:
    req = PortraitRequest(character=_cast()[0].sheet(), genre="drama", width=240, height=160)
    res = draw_portrait(req, tmp_path)
    sheet = cv2.imread(str(tmp_path / res.image))
    x, y, w, h = sheet_figure_box(sheet)
    assert x + w <= 144 and 0.5 * 160 < h < 0.95 * 160 and w < 0.6 * 144  # tight on the figure, in its panel
    coat = sheet[y:y + h, x:x + w]
    assert ((coat[..., 2] > 120) & (coat[..., 1] < 80)).sum() > 0.05 * w * h  # the red coat is inside it


def test_a_users_portrait_keeps_its_whole_picture_as_the_figure(tmp_path: Path) -> None:
    src = tmp_path / "me.png"
    cv2.imwrite(str(src), np.full((300, 200, 3), (40, 40, 200), np.uint8))
    req = PortraitRequest(character=_cast()[0].sheet(), genre="drama", width=240, height=160)
    res = frame_user_portrait(src, req, tmp_path)
    x, y, w, h = sheet_figure_box(cv2.imread(str(tmp_path / res.image)))
    assert (h, y) == (160, 0) and abs(w - round(200 * 160 / 300)) <= 1 and abs(x - (240 - w) // 2) <= 1


def test_a_comfyui_film_makes_its_cast_there_and_every_scene_uses_it(use: FakeComfy, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPFLIX_DATA_DIR", str(tmp_path / "data"))
    config.reload_settings()
    assert resolve_providers({"picture": "comfyui/workflow"})["cast"] == "comfyui/workflow"
    cast = _cast()
    story = Story(title="The Pier", genre="drama", seed=3, characters=cast, scenes=[
        Scene(scene_description="On the pier at dawn.", atmosphere="calm", setting="coast",
              characters=["nadia", "tom"], narration="They meet."),
        Scene(scene_description="Inside the lamp room.", atmosphere="warm", setting="lighthouse",
              characters=["tom"], narration="He climbs.")])
    opts = FilmOptions(resolution="360p", providers={"picture": "comfyui/workflow"},
                       provider_options={"picture": {"workflow": "cast_img2img", **FAST}})
    make_film(None, story=story, opts=opts, out_dir=tmp_path / "film")
    manifest = json.loads((tmp_path / "film" / "film.json").read_text())
    store = LocalStore(tmp_path / "data" / "store")
    sheets = {c.id: _sha(store.local_path(k, "portrait.png").read_bytes()) for c, k in zip(cast, manifest["artifacts"]["cast"],
                                                                                   strict=True)}
    portraits = [p for p in use.prompts if "full-figure" in _titled(p["workflow"])["positive"]["inputs"]["text"]]
    assert len(portraits) == 2  # each character's figure made on ComfyUI (with its picture options: 1 step)
    assert all(p["workflow"]["3"]["inputs"]["steps"] == 1 for p in use.prompts)
    scenes = [p["workflow"] for p in use.prompts if "canvas" in _titled(p["workflow"])]
    assert len(scenes) == 2
    for wf, present in zip(sorted(scenes, key=lambda wf: len(wf), reverse=True), (["nadia", "tom"], ["tom"]),
                           strict=True):
        refs = [_sha(use.uploads[_titled(wf)[f"reference {j}"]["inputs"]["image"]]) for j in range(1, len(present) + 1)]
        assert refs == [sheets[c] for c in present] and f"reference {len(present) + 1}" not in _titled(wf)
    assert sorted(_sha(d) for d in use.uploads.values()) == sorted(sheets.values())
    assert list((tmp_path / "film").glob("*.mp4"))
    # review's dry run builds the same requests (references, and the cast with the picture options)
    resolved = opts.model_copy(update={"providers": resolve_providers(opts.providers)})
    dry = dry_run(story.model_dump(mode="json"), resolved.model_dump(mode="json"), store, manifest["artifacts"])
    assert dry["summary"] == "nothing: every stage is in the cache", dry["rows"]
