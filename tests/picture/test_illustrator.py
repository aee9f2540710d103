"""The built-in illustrator: every setting and light renders, the output is
deterministic, the layers add up to the image, and one character looks like
themselves (and not like the others) across scenes."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from deepflix.models import (
    SETTINGS,
    Appearance,
    CharacterSheet,
    GenerationParams,
    PictureRequest,
    SceneVisual,
)
from deepflix.picture.illustration.appearance import appearance_for, derive
from deepflix.picture.illustrator import Illustrator, render
from deepflix.provider import StageContext

TIMES = ("dawn", "day", "dusk", "night")
WEATHERS = ("clear", "cloudy", "rain", "fog", "snow", "storm", "wind")
SHOTS = ("wide", "medium", "close", "over_the_shoulder", "aerial")

CAST = [
    CharacterSheet(id="keeper", name="Elias", base_traits="old broad-shouldered lighthouse keeper",
                   facial_features="weathered face, grey beard", clothing="navy wool sweater, brown trousers",
                   distinctive_features="a grey beard"),
    CharacterSheet(id="mara", name="Mara", base_traits="young slender woman", facial_features="freckles, long red hair",
                   clothing="green coat, black skirt", distinctive_features="a white scarf"),
    CharacterSheet(id="vance", name="Vance", base_traits="tall detective", facial_features="sharp jaw, dark hair",
                   clothing="beige trenchcoat, grey trousers", distinctive_features="a fedora hat"),
]


def _req(setting: str = "coast", time: str = "day", weather: str = "clear", shot: str = "wide",
         cast: list[CharacterSheet] | None = None, w: int = 320, h: int = 180, seed: int = 7, index: int = 0,
         genre: str = "drama") -> PictureRequest:
    cast = CAST[:2] if cast is None else cast
    scene = SceneVisual(scene_description="a test scene", atmosphere="calm", setting=setting,  # type: ignore[arg-type]
                        time_of_day=time, weather=weather, shot=shot,  # type: ignore[arg-type]
                        characters=[c.id for c in cast])
    return PictureRequest(scene=scene, characters=cast, genre=genre, width=w, height=h,  # type: ignore[arg-type]
                          params=GenerationParams(seed=seed), scene_index=index)


def _composite(layers: list[np.ndarray]) -> np.ndarray:
    """Straight-alpha "over", written independently of the illustrator's own."""
    out = layers[0][..., :3].astype(np.float64)
    for layer in layers[1:]:
        a = layer[..., 3:4].astype(np.float64) / 255
        out = layer[..., :3] * a + out * (1 - a)
    return out


def test_every_setting_time_and_weather_renders() -> None:
    weathers, shots = itertools.cycle(WEATHERS), itertools.cycle(SHOTS)
    for setting, time in itertools.product(SETTINGS, TIMES):
        pic = render(_req(setting, time, next(weathers), next(shots), w=192, h=108))
        assert pic.image.shape == (108, 192, 3), (setting, time)
        assert pic.image.std() > 8, f"{setting} at {time} is nearly flat"
        names = [n for n, _ in pic.layers]
        assert names[:5] == ["sky", "far", "mid", "near", "figures"]
        assert (pic.layers[0][1][..., 3] == 255).all()  # the sky is opaque: the stack has no holes


def test_settings_look_different_from_each_other() -> None:
    small = {s: cv2.resize(render(_req(s, "day", cast=[])).image, (32, 18), interpolation=cv2.INTER_AREA)
             .astype(np.float32) for s in SETTINGS}
    for a, b in itertools.combinations(SETTINGS, 2):
        assert np.abs(small[a] - small[b]).mean() > 6, f"{a} and {b} look alike"


def test_time_of_day_changes_the_light() -> None:
    lum = {t: render(_req("field", t, cast=[])).image.mean() for t in TIMES}
    assert lum["night"] < lum["dusk"] < lum["day"] and lum["night"] < lum["dawn"] < lum["day"]


def test_deterministic_per_seed_and_scene(tmp_path: Path) -> None:
    a, b = render(_req(seed=3)), render(_req(seed=3))
    assert np.array_equal(a.image, b.image) and a.figure_boxes == b.figure_boxes
    assert not np.array_equal(a.image, render(_req(seed=4)).image)
    assert not np.array_equal(a.image, render(_req(seed=3, index=1)).image)
    files = []
    for run in ("one", "two"):
        out = tmp_path / run
        out.mkdir()
        res = Illustrator().generate(_req(seed=3), StageContext(out_dir=out))
        files.append([(out / n).read_bytes() for n in [res.image, *res.layers]])
    assert files[0] == files[1]  # byte-identical files


def test_layers_composite_back_to_the_image(tmp_path: Path) -> None:
    for setting, weather in (("night_street", "rain"), ("lighthouse", "fog"), ("mountains", "snow")):
        res = Illustrator().generate(_req(setting, "dusk", weather, w=480, h=270), StageContext(out_dir=tmp_path))
        layers = [cv2.imread(str(tmp_path / n), cv2.IMREAD_UNCHANGED) for n in res.layers]
        assert all(layer.shape == (270, 480, 4) for layer in layers)
        image = cv2.imread(str(tmp_path / res.image)).astype(np.float64)
        diff = np.abs(_composite(layers) - image)
        assert diff.mean() < 0.6 and diff.max() <= 3, (setting, diff.mean(), diff.max())
        assert layers[-1][..., 3].any()  # the weather layer is in front


def test_figures_grow_with_the_shot() -> None:
    heights = {shot: render(_req("field", shot=shot, cast=CAST[:1])).figure_boxes["keeper"][3]
               for shot in ("aerial", "wide", "medium")}
    assert heights["aerial"] < heights["wide"] < heights["medium"]
    close = render(_req("field", shot="close", cast=CAST[:1])).figure_boxes["keeper"]
    assert close[2] > heights["wide"]  # a close-up's head and shoulders span more than a whole wide figure


def _figure_hist(pic: object, cid: str) -> np.ndarray:
    x, y, w, h = pic.figure_boxes[cid]  # type: ignore[attr-defined]
    img = pic.image[y : y + h, x : x + w]  # type: ignore[attr-defined]
    mask = (pic.layers[4][1][y : y + h, x : x + w, 3] > 200).astype(np.uint8)  # type: ignore[attr-defined]
    hist = cv2.calcHist([cv2.cvtColor(img, cv2.COLOR_BGR2HSV)], [0, 1, 2], mask, [12, 4, 4], [0, 180, 0, 256, 0, 256])
    return (hist / max(1.0, hist.sum())).ravel()


def test_each_character_is_more_like_themselves_than_like_the_others() -> None:
    """3 characters over 8 scenes of different places, light and shots: colour histograms of each
    figure's region are closer within a character than across characters."""
    plan = [("lighthouse", "dusk", "wide", [0, 1]), ("coast", "day", "medium", [0, 1, 2]),
            ("night_street", "night", "wide", [2, 1]), ("forest", "dawn", "wide", [1, 0, 2]),
            ("interior", "night", "medium", [0, 2]), ("city", "dusk", "medium", [2, 1]),
            ("village", "day", "wide", [0, 1, 2]), ("field", "day", "close", [1])]
    figs: list[tuple[str, np.ndarray]] = []
    for i, (setting, time, shot, who) in enumerate(plan):
        pic = render(_req(setting, time, shot=shot, cast=[CAST[k] for k in who], w=480, h=270, index=i))
        for k in who:
            assert CAST[k].id in pic.figure_boxes, (i, CAST[k].id)
            figs.append((CAST[k].id, _figure_hist(pic, CAST[k].id)))
    same, other, nearest_ok = [], [], 0
    for i, (ci, hi) in enumerate(figs):
        best = max((cv2.compareHist(hi, hj, cv2.HISTCMP_INTERSECT), cj) for j, (cj, hj) in enumerate(figs) if j != i)
        nearest_ok += best[1] == ci
        for j, (cj, hj) in enumerate(figs):
            if j > i:
                (same if ci == cj else other).append(cv2.compareHist(hi, hj, cv2.HISTCMP_INTERSECT))
    assert np.mean(same) > np.mean(other) + 0.15, (np.mean(same), np.mean(other))
    assert nearest_ok / len(figs) >= 0.9  # each figure's closest match is the same person


def test_appearance_from_the_sheet_words() -> None:
    keeper, mara, vance = (derive(c) for c in CAST)
    assert keeper.accessory == "beard" and keeper.hair == "#8e8e8e" and keeper.build == "broad"
    assert keeper.top == "#1e2d52"  # navy sweater
    assert mara.top == "#3f7d3a" and mara.hair == "#a3402a" and mara.hair_style == "long" and mara.build == "slim"
    assert mara.accessory == "scarf" and mara.accent == "#e8e6e0"
    assert vance.accessory == "hat" and vance.height > 1.0 and vance.top == "#cdb892"
    bare = CharacterSheet(id="x1", name="Sam", base_traits="a person", facial_features="", clothing="",
                          distinctive_features="")
    assert derive(bare) == derive(bare.model_copy())  # the hash fallback is stable
    given = Appearance(top="#ff0000", accessory="cape")
    assert appearance_for(bare.model_copy(update={"appearance": given})) == given


def test_provider_result_names_its_files(tmp_path: Path) -> None:
    res = Illustrator({"image_format": "jpeg"}).generate(_req(), StageContext(out_dir=tmp_path))
    assert res.image == "image.jpg" and (res.width, res.height) == (320, 180)
    assert [n.split("_", 1)[1] for n in res.layers] == ["sky.png", "far.png", "mid.png", "near.png", "figures.png"]
    assert set(res.figure_boxes) == {"keeper", "mara"}
    for x, y, w, h in res.figure_boxes.values():
        assert 0 <= x and 0 <= y and x + w <= 320 and y + h <= 180 and w > 0 and h > 0
    assert Illustrator({"layers": False}).generate(_req(), StageContext(out_dir=tmp_path)).layers == []


def test_other_aspects_render() -> None:
    for w, h in ((108, 192), (160, 160), (640, 360)):
        pic = render(_req("village", "dusk", shot="medium", w=w, h=h))
        assert pic.image.shape == (h, w, 3)


@pytest.mark.parametrize("bad", [{"vignette": 2}, {"image_format": "gif"}, {"nope": 1}])
def test_bad_options(bad: dict[str, object]) -> None:
    from deepflix.errors import InvalidInput

    with pytest.raises(InvalidInput):
        Illustrator(bad)
