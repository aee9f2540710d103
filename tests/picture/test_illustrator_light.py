"""The illustrator's light: indoors the weather shows only through the windows (and as light),
dunes are shaded on the side away from the sun, hair stands apart from skin and background,
and figures are shaded from the light and cast a shadow away from it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from deepflix.models import (
    CharacterSheet,
    GenerationParams,
    PictureRequest,
    SceneVisual,
)
from deepflix.picture.illustration import raster as R
from deepflix.picture.illustration.appearance import HAIR_COLOURS, SKINS, appearance_for, build_for
from deepflix.picture.illustration.figures import FigureLight, Placement, draw_figure, draw_shadow
from deepflix.picture.illustration.hair import MIN_GAP, separate
from deepflix.picture.illustration.palette import hex_rgb, luma, make_look
from deepflix.picture.illustrator import render

KEEPER = CharacterSheet(id="keeper", name="Elias", base_traits="old broad-shouldered lighthouse keeper",
                        facial_features="weathered face, grey beard", clothing="navy wool sweater, brown trousers",
                        distinctive_features="a grey beard")
MARA = CharacterSheet(id="mara", name="Mara", base_traits="young slender woman", facial_features="long red hair",
                      clothing="green coat, black skirt", distinctive_features="a white scarf")


def _req(setting: str, time: str, weather: str, w: int, h: int, seed: int = 7,
         cast: list[CharacterSheet] | None = None) -> PictureRequest:
    cast = cast or []
    scene = SceneVisual(scene_description="a test scene", atmosphere="calm", setting=setting,  # type: ignore[arg-type]
                        time_of_day=time, weather=weather, characters=[c.id for c in cast])  # type: ignore[arg-type]
    return PictureRequest(scene=scene, characters=cast, genre="drama", width=w, height=h,
                          params=GenerationParams(seed=seed), scene_index=0)


W, H = 640, 360
_TOPHAT = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))


def _grey(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def _specks(img: np.ndarray) -> np.ndarray:
    """Small bright things (flakes, drops, bolts): a white top-hat."""
    return cv2.morphologyEx(_grey(img), cv2.MORPH_TOPHAT, _TOPHAT) > 12


def _window_mask(windows: list[tuple[int, int, int, int]]) -> np.ndarray:
    m = np.zeros((H, W), bool)
    for x0, y0, x1, y1 in windows:
        m[y0:y1, x0:x1] = True
    return m


def test_indoor_weather_shows_only_through_the_windows() -> None:
    """The same room with and without weather (the room's layout does not depend on it): every
    new speck the weather adds lies inside a window."""
    for time, weather in (("day", "snow"), ("night", "rain"), ("dusk", "storm"), ("day", "wind")):
        wet = render(_req("interior", time, weather, w=W, h=H))
        dry = render(_req("interior", time, "clear", w=W, h=H))
        assert "weather" not in [n for n, _ in wet.layers]  # nothing falls in front of the room
        assert wet.windows and wet.windows == dry.windows
        inside = _window_mask(wet.windows)
        new = _specks(wet.image) & ~cv2.dilate(_specks(dry.image).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        assert new[~inside].sum() <= 20, (time, weather, int(new[~inside].sum()))
        if weather != "wind":  # a few streaks of dust may miss a small pane
            assert new[inside].sum() >= 60, (time, weather, int(new[inside].sum()))


def test_outdoor_weather_still_falls_everywhere() -> None:
    pic = render(_req("village", "day", "snow", w=W, h=H))
    assert [n for n, _ in pic.layers][-1] == "weather" and not pic.windows
    fx = pic.layers[-1][1][..., 3] > 0
    assert fx[: H // 2].any() and fx[H // 2 :].any() and fx[:, : W // 2].any() and fx[:, W // 2 :].any()


def test_grey_weather_makes_a_room_dimmer_and_cooler() -> None:
    dry = render(_req("interior", "day", "clear", w=W, h=H))
    room = ~_window_mask(dry.windows)
    b0, _, r0 = (dry.image[room].astype(np.float64).mean(axis=0))
    for weather in ("storm", "rain", "snow"):
        wet = render(_req("interior", "day", weather, w=W, h=H))
        b, _, r = wet.image[room].astype(np.float64).mean(axis=0)
        assert _grey(wet.image)[room].mean() < _grey(dry.image)[room].mean() * 0.95, weather
        assert b / r > b0 / r0, weather  # bluer, for all the lamp being lit


def test_indoor_fog_is_a_faint_haze_and_the_window_goes_white() -> None:
    def detail(img: np.ndarray, where: np.ndarray) -> float:
        g = _grey(img).astype(np.float32)
        return float(np.abs(g - cv2.blur(g, (9, 9)))[where].mean())

    for time in ("day", "dusk"):
        fog = render(_req("interior", time, "fog", w=W, h=H))
        clear = render(_req("interior", time, "clear", w=W, h=H))
        win = _window_mask(fog.windows)
        assert detail(fog.image, ~win) >= 0.85 * detail(clear.image, ~win), time
        assert _grey(fog.image)[win].mean() > _grey(clear.image)[win].mean() + 8, time


def _ridge_light(pic: object) -> tuple[float, float, np.ndarray]:
    """Mean luma just under the near dunes' ridge where it falls away from the sun (lee) and
    where it rises toward it (windward), and the ridge line itself."""
    near = pic.layers[3][1][..., 3]  # type: ignore[attr-defined]
    top = np.argmax(near > 128, axis=0).astype(np.float32)
    slope = np.gradient(cv2.GaussianBlur(top[None, :], (0, 0), 2)[0])
    ridge = (np.abs(slope) < 1.5) & (np.abs(slope) > 0.08)  # not a cactus's upright sides
    lum = _grey(pic.image).astype(np.float32)[np.clip(top + 4, 0, H - 1).astype(int), np.arange(W)]  # type: ignore[attr-defined]
    away = -pic.light_dir  # type: ignore[attr-defined]
    return float(lum[ridge & (slope * away > 0)].mean()), float(lum[ridge & (slope * away < 0)].mean()), top


def test_dunes_are_shaded_on_the_side_away_from_the_sun() -> None:
    sides = set()
    for seed in (1, 2, 3, 4):
        for time in ("dawn", "day"):
            pic = render(_req("desert", time, "clear", w=W, h=H, seed=seed))
            sides.add(pic.light_dir)
            lee, windward, top = _ridge_light(pic)
            assert lee < windward - 8, (seed, time, lee, windward)
            # curved ridgelines: the dunes rise and fall across the frame, with several crests
            assert np.ptp(top) > H * 0.04
            smooth = cv2.GaussianBlur(top[None, :], (0, 0), 6)[0]
            crests = (smooth[1:-1] < smooth[:-2]) & (smooth[1:-1] <= smooth[2:])
            assert crests.sum() >= 2, seed
    assert sides == {1.0, -1.0}  # the shade flipped with the sun


def test_hair_colour_keeps_apart_from_the_skin() -> None:
    for hair in HAIR_COLOURS.values():
        for skin in SKINS:
            h, s = hex_rgb(hair), hex_rgb(skin)
            out = separate(h, s)
            assert abs(luma(out) - luma(s)) >= MIN_GAP - 0.5, (hair, skin)
            if abs(luma(h) - luma(s)) >= MIN_GAP:
                assert out == h  # colours already apart are left alone
    black, dark_skin = hex_rgb(HAIR_COLOURS["black"]), hex_rgb(SKINS[-1])
    assert luma(separate(black, dark_skin)) < luma(black)  # black hair never turns grey


def _head_on(sheet: CharacterSheet, time: str, light_dir: float = 1.0) -> tuple[np.ndarray, float, float, float]:
    """One person's close-up drawn on its own: (BGRA layer, head x, head y, head radius x)."""
    look = make_look(time, "clear", "coast", "drama", "calm", "")
    fh, hx, hy = 3000.0, 300.0, 300.0  # head radii 150 x 192 px
    layer = R.new_layer(600, 600)
    pl = Placement(0, hx, feet=hy - 0.075 * fh + fh, fh=fh)
    draw_figure(layer, appearance_for(sheet), build_for(sheet), pl, FigureLight(look, light_dir))
    return layer, hx, hy, fh * 0.05


def _patch(layer: np.ndarray, x: float, y: float, r: int = 10) -> float:
    p = layer[int(y) - r : int(y) + r + 1, int(x) - r : int(x) + r + 1, :3]
    return float(np.median(cv2.cvtColor(np.ascontiguousarray(p), cv2.COLOR_BGR2GRAY)))


def test_grey_hair_and_beard_stand_out_from_the_face() -> None:
    layer, hx, hy, rx = _head_on(KEEPER, "day")  # grey hair, grey beard, weathered (tan) skin
    ry = rx * 1.28
    crown, forehead = _patch(layer, hx, hy - 0.8 * ry), _patch(layer, hx, hy - 0.08 * ry)
    chin, cheek = _patch(layer, hx + 0.2 * rx, hy + 0.78 * ry), _patch(layer, hx + 0.58 * rx, hy + 0.14 * ry)
    assert crown - forehead > 30 and chin - cheek > 30, (crown, forehead, chin, cheek)


def test_black_hair_at_night_has_a_back_light() -> None:
    woman = CharacterSheet(id="nora", name="Nora", base_traits="young woman", facial_features="long black hair",
                           clothing="red coat", distinctive_features="")
    layer, hx, _, _ = _head_on(woman, "night")
    col = layer[:, int(hx), 3]
    top = int(np.argmax(col > 250))  # the crown's silhouette, inside the dark outline
    rim, hair = _patch(layer, hx, top + 4, 3), _patch(layer, hx, top + 30, 3)
    assert rim > hair + 25, (rim, hair)


def test_figures_are_shaded_from_the_light_and_cast_a_shadow_away_from_it() -> None:
    look = make_look("dusk", "clear", "field", "drama", "calm", "")
    sheet = MARA
    for light_dir in (1.0, -1.0):
        layer = R.new_layer(400, 480)
        pl = Placement(0, 200.0, feet=440.0, fh=400.0)
        light = FigureLight(look, light_dir, cast=0.4, cast_length=0.8)
        draw_shadow(layer, pl, light)
        shadow_a = layer[..., 3].astype(np.float64)
        cx = (shadow_a.sum(axis=0) * np.arange(400)).sum() / shadow_a.sum()
        assert (cx - 200) * light_dir < -20, (light_dir, cx)  # the shadow falls away from the light
        fig = R.new_layer(400, 480)
        draw_figure(fig, appearance_for(sheet), build_for(sheet), pl, light)
        torso = fig[int(pl.feet - 400 * 0.72) : int(pl.feet - 400 * 0.62)].astype(np.float64)  # mid-torso rows
        lum = _grey(np.ascontiguousarray(torso[..., :3].astype(np.uint8))).astype(np.float64)
        solid = torso[..., 3] > 250
        cols = np.flatnonzero(solid.any(axis=0))
        third = (cols[-1] - cols[0]) // 3
        left = lum[:, cols[0] : cols[0] + third][solid[:, cols[0] : cols[0] + third]].mean()
        right = lum[:, cols[-1] - third : cols[-1]][solid[:, cols[-1] - third : cols[-1]]].mean()
        assert (right - left) * light_dir > 6, (light_dir, left, right)


@pytest.mark.parametrize("setting", ["space", "underwater"])
def test_no_rain_or_snow_falls_in_space_or_under_water(setting: str) -> None:
    """A story (an LLM's, say) may give such a scene rain or snow: there is no sky there to
    fall from, so nothing is drawn in front of it; murk under water stays."""
    for weather in ("rain", "storm", "snow", "wind"):
        pic = render(_req(setting, "night", weather, w=W, h=H))
        assert "weather" not in [n for n, _ in pic.layers], (setting, weather)
        look = make_look("night", weather, setting, "drama", "", "")
        assert look.rain == look.snow == look.wind == 0 and not look.lightning
    assert make_look("day", "fog", "underwater", "drama", "", "").fog > 0


def test_a_lake_has_a_far_shore_and_its_ice_is_pale() -> None:
    """The story's one 'coast' setting covers the sea, lakes and ice: the place's name decides.
    A lake has its far side across the water and no sea cliff; frozen, it is pale grey ice."""
    pics = {}
    for loc in ("the shingle beach, the harbour", "the reed beds, the lake", "the old jetty, the frozen lake"):
        req = _req("coast", "day", "clear", W, H)
        req.scene.location = loc
        pics[loc.split(", ")[1]] = render(req)
    horizon = round(0.56 * H)
    for name, pic in pics.items():
        layers = dict(pic.layers)
        shore = layers["far"][horizon - 4, :, 3] > 0  # just above the horizon
        if name == "the harbour":
            assert layers["mid"][..., 3].any() and shore.mean() < 0.7  # the cliff; a headland, open sea beside it
        else:
            assert not layers["mid"][..., 3].any() and shore.mean() > 0.97, name  # no cliff; the far shore all along
    water = slice(horizon + H // 20, round(H * 0.8))
    hsv = {name: cv2.cvtColor(pic.image[water], cv2.COLOR_BGR2HSV).reshape(-1, 3).mean(0) for name, pic in pics.items()}
    assert hsv["the frozen lake"][1] < hsv["the lake"][1] * 0.7 and hsv["the frozen lake"][2] > hsv["the lake"][2]
