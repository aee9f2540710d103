"""diffusers/local with a tiny randomly initialised Stable Diffusion pipeline that the
test builds and saves (nothing is downloaded). Skipped when torch/diffusers are absent:
install them with `pip install torch==2.13.0 diffusers transformers` (CPU wheel)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from tiny_diffusion import build_pipeline

from deepflix.errors import InvalidInput
from deepflix.models import CharacterSheet, GenerationParams, PictureRequest, SceneVisual
from deepflix.picture.diffusers import SCHEDULERS, Diffusers
from deepflix.provider import StageContext

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_pipeline(tmp_path_factory.mktemp("tiny-sd"))


def _req(**kw: object) -> PictureRequest:
    who = CharacterSheet(id="mara", name="Mara", base_traits="young woman", facial_features="red hair",
                         clothing="green coat", distinctive_features="white scarf")
    base: dict[str, object] = dict(
        scene=SceneVisual(scene_description="Mara on the pier", atmosphere="calm", setting="coast", characters=["mara"]),
        characters=[who], genre="drama", width=128, height=72, params=GenerationParams(seed=5, steps=3, cfg_scale=4.0))
    base.update(kw)
    return PictureRequest(**base)  # type: ignore[arg-type]


def test_generates_with_the_named_scheduler_and_is_deterministic(tiny_pipeline: Path, tmp_path: Path) -> None:
    prov = Diffusers({"model_path": str(tiny_pipeline), "long_side": 64, "device": "cpu"})
    seen: list[float] = []
    res = prov.generate(_req(params=GenerationParams(seed=5, steps=3, sampler="dpmpp_2m")),
                        StageContext(out_dir=tmp_path, progress=lambda f, m="": seen.append(f)))
    img = cv2.imread(str(tmp_path / res.image))
    assert img.shape == (72, 128, 3) and seen == pytest.approx([1 / 3, 2 / 3, 1.0])
    pipe = prov.pipeline()[1]
    assert type(pipe.scheduler).__name__ == "DPMSolverMultistepScheduler"
    again = tmp_path / "again"
    again.mkdir()
    prov.generate(_req(params=GenerationParams(seed=5, steps=3, sampler="dpmpp_2m")), StageContext(out_dir=again))
    assert np.array_equal(img, cv2.imread(str(again / "image.png")))
    # the same main character in another scene starts from the same seed: same noise, same fragment
    other = tmp_path / "other"
    other.mkdir()
    prov.generate(_req(params=GenerationParams(seed=6, steps=3, sampler="euler")), StageContext(out_dir=other))
    assert type(prov.pipeline()[1].scheduler).__name__ == "EulerDiscreteScheduler"
    assert not np.array_equal(img, cv2.imread(str(other / "image.png")))


def test_every_sampler_maps_to_a_diffusers_scheduler(tiny_pipeline: Path) -> None:
    prov = Diffusers({"model_path": str(tiny_pipeline), "device": "cpu"})
    pipe = prov.pipeline()[1]
    for sampler, (name, _) in SCHEDULERS.items():
        assert type(prov.scheduler_for(pipe, sampler)).__name__ == name


def test_missing_model_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="model_path"):
        Diffusers().check_inputs(_req())
    with pytest.raises(InvalidInput, match="model_index.json"):
        Diffusers({"model_path": str(tmp_path)}).check_inputs(_req())


def test_scenes_drawn_at_once_in_threads_are_the_scenes_drawn_one_by_one(tiny_pipeline: Path, tmp_path: Path) -> None:
    """The stage runs scenes on worker threads: one pipeline's scheduler and adapter scale are
    set per call, so its calls take turns (an interleaved multistep scheduler mixes two runs)."""
    from concurrent.futures import ThreadPoolExecutor

    prov = Diffusers({"model_path": str(tiny_pipeline), "long_side": 64, "device": "cpu"})
    reqs = [_req(params=GenerationParams(seed=s, steps=4, sampler=m)) for s, m in ((5, "dpmpp_2m"), (6, "euler"), (7, "uni_pc"))]

    def draw(i: int, where: str) -> bytes:
        out = tmp_path / f"{where}{i}"
        out.mkdir()
        prov.generate(reqs[i], StageContext(out_dir=out))
        return (out / "image.png").read_bytes()

    alone = [draw(i, "alone") for i in range(3)]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda i: draw(i, "together"), range(3)))
    assert together == alone
