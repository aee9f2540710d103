"""The light and colour of one picture: time of day and weather give the light,
genre and the atmosphere's words give the grade, the setting gives the ground.

Everything here works on a handful of colours, never on pixels: the grade is
applied to the palette before anything is drawn, so it costs nothing.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass, field

import numpy as np

from ...waterside import shown_weather

RGB = tuple[float, float, float]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def mul(a: RGB, b: RGB | float) -> RGB:
    if isinstance(b, (int, float)):
        return (a[0] * b, a[1] * b, a[2] * b)
    return (a[0] * b[0] / 255, a[1] * b[1] / 255, a[2] * b[2] / 255)


def hex_rgb(h: str) -> RGB:
    h = h.lstrip("#")
    return (float(int(h[0:2], 16)), float(int(h[2:4], 16)), float(int(h[4:6], 16)))


def luma(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def saturate(c: RGB, s: float) -> RGB:
    y = luma(c)
    return mix((y, y, y), c, s)


def clamp(c: RGB) -> RGB:
    return (min(255.0, max(0.0, c[0])), min(255.0, max(0.0, c[1])), min(255.0, max(0.0, c[2])))


def hue_shift(c: RGB, deg: float) -> RGB:
    h, s, v = colorsys.rgb_to_hsv(*(x / 255 for x in clamp(c)))
    r, g, b = colorsys.hsv_to_rgb((h + deg / 360) % 1.0, s, v)
    return (r * 255, g * 255, b * 255)


# time of day: (sky top, sky horizon, sun/moon colour, sun height 0..1 above horizon, ambient, stars)
_TIME = {
    "dawn": ((72, 86, 150), (250, 184, 160), (255, 214, 170), 0.16, (205, 185, 200), 0.15),
    "day": ((66, 128, 208), (192, 220, 240), (255, 250, 232), 0.78, (255, 252, 245), 0.0),
    "dusk": ((52, 46, 108), (250, 140, 84), (255, 160, 80), 0.07, (200, 150, 150), 0.05),
    "night": ((8, 12, 32), (34, 46, 86), (232, 238, 255), 0.62, (92, 105, 150), 1.0),
}

# genre grade: (saturation, tint colour, tint amount, contrast, brightness)
_GENRE = {
    "noir": (0.18, (180, 190, 205), 0.10, 1.30, 0.92),
    "sci-fi": (1.05, (60, 200, 220), 0.12, 1.10, 1.0),
    "fantasy": (1.20, (170, 110, 230), 0.10, 1.05, 1.03),
    "horror": (0.55, (90, 140, 110), 0.18, 1.20, 0.80),
    "comedy": (1.30, (255, 230, 170), 0.06, 1.00, 1.08),
    "romance": (1.05, (255, 150, 170), 0.14, 0.95, 1.05),
    "adventure": (1.15, (255, 190, 100), 0.10, 1.08, 1.02),
    "drama": (0.85, (200, 180, 160), 0.06, 1.05, 0.97),
}

# atmosphere words: (saturation x, tint, tint amount, brightness x, extra fog)
_MOOD_WORDS: dict[str, tuple[float, RGB, float, float, float]] = {
    "warm": (1.1, (255, 170, 90), 0.12, 1.03, 0.0),
    "golden": (1.15, (255, 190, 80), 0.15, 1.05, 0.0),
    "cozy": (1.1, (255, 170, 100), 0.12, 1.0, 0.0),
    "cold": (0.8, (120, 170, 230), 0.14, 0.97, 0.0),
    "icy": (0.7, (170, 210, 255), 0.16, 1.02, 0.0),
    "gloomy": (0.6, (110, 120, 140), 0.15, 0.85, 0.1),
    "dark": (0.75, (40, 50, 80), 0.12, 0.80, 0.0),
    "grim": (0.6, (90, 90, 100), 0.12, 0.85, 0.0),
    "eerie": (0.6, (110, 170, 140), 0.15, 0.85, 0.15),
    "tense": (0.85, (170, 60, 50), 0.08, 0.93, 0.0),
    "ominous": (0.7, (90, 60, 90), 0.12, 0.82, 0.05),
    "mysterious": (0.85, (90, 80, 160), 0.12, 0.92, 0.15),
    "dreamy": (0.9, (220, 170, 255), 0.14, 1.05, 0.15),
    "hopeful": (1.1, (255, 215, 150), 0.10, 1.06, 0.0),
    "joyful": (1.25, (255, 225, 140), 0.08, 1.08, 0.0),
    "bright": (1.15, (255, 250, 230), 0.06, 1.1, 0.0),
    "sad": (0.65, (120, 140, 170), 0.12, 0.9, 0.05),
    "melancholy": (0.65, (120, 130, 170), 0.14, 0.9, 0.05),
    "romantic": (1.1, (255, 140, 170), 0.14, 1.03, 0.0),
    "neon": (1.35, (230, 60, 200), 0.14, 1.0, 0.0),
    "bloody": (1.1, (200, 30, 30), 0.16, 0.9, 0.0),
    "misty": (0.85, (200, 205, 215), 0.08, 1.0, 0.35),
    "foggy": (0.8, (200, 205, 215), 0.08, 1.0, 0.4),
    "hazy": (0.9, (230, 210, 180), 0.08, 1.02, 0.25),
    "epic": (1.15, (255, 200, 140), 0.06, 1.02, 0.0),
    "peaceful": (1.0, (200, 230, 210), 0.06, 1.03, 0.0),
    "calm": (0.95, (190, 215, 230), 0.05, 1.02, 0.0),
}

# ground colour of each setting in daylight (far layers fade to the horizon haze)
GROUND: dict[str, RGB] = {
    "city": (78, 84, 102), "night_street": (62, 62, 76), "forest": (40, 74, 52), "coast": (84, 90, 88),
    "desert": (206, 158, 104), "mountains": (84, 96, 122), "interior": (150, 118, 92), "space": (70, 66, 78),
    "village": (92, 112, 72), "field": (108, 142, 66), "lighthouse": (80, 90, 86), "underwater": (24, 74, 92),
}


@dataclass
class Look:
    sky_top: RGB
    sky_horizon: RGB
    sun: RGB
    sun_height: float
    ambient: RGB  # multiplies the colour of lit things
    stars: float
    haze: RGB  # what far things fade to
    ground: RGB  # near ground, lit
    key: RGB  # colour of rim light on figures
    fog: float  # 0..1 extra fog from the weather or the words
    rain: float
    snow: float
    clouds: float
    lightning: bool
    wind: float
    night: bool
    grade_params: tuple[float, RGB, float, float, float] = field(default=(1.0, (255, 255, 255), 0.0, 1.0, 1.0))

    def grade(self, c: RGB) -> RGB:
        sat, tint, amount, contrast, bright = self.grade_params
        c = saturate(c, sat)
        c = mix(c, mul(c, tint) if luma(c) > 1 else c, amount * 2.0)
        c = mix(c, tint, amount * 0.25)
        c = ((c[0] - 118) * contrast + 118, (c[1] - 118) * contrast + 118, (c[2] - 118) * contrast + 118)
        return clamp(mul(c, bright))

    def depth(self, t: float) -> RGB:
        """Colour of a silhouette at depth t (0 = at the horizon, 1 = nearest)."""
        near = self.ground
        return mix(self.haze, near, min(1.0, max(0.0, t)) ** 0.9)

    def lit(self, c: RGB, strength: float = 1.0) -> RGB:
        """A local colour (a coat, a wall) under this light, then graded."""
        return self.grade(mix(c, mul(c, self.ambient), strength))


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def make_look(time_of_day: str, weather: str, setting: str, genre: str, atmosphere: str, description: str) -> Look:
    top, hor, sun, height, amb, stars = _TIME.get(time_of_day, _TIME["day"])
    top, hor, sun, amb = (tuple(float(v) for v in c) for c in (top, hor, sun, amb))  # type: ignore[assignment]
    fog = rain = snow = clouds = wind = 0.0
    lightning = False
    weather = shown_weather(setting, weather)  # no rain in space, even when an LLM's story says so
    if weather == "cloudy":
        clouds = 0.8
    elif weather in ("rain", "storm"):
        rain, clouds = (0.7, 0.9) if weather == "rain" else (1.0, 1.0)
        lightning = weather == "storm"
    elif weather == "fog":
        fog = 0.55
    elif weather == "snow":
        snow, clouds = 0.8, 0.6
    elif weather == "wind":
        wind, clouds = 0.8, 0.35
    if clouds > 0.5:  # overcast: a flatter, greyer sky and a dimmer sun
        grey = (luma(hor) * 0.8,) * 3
        top = mix(top, mix(grey, top, 0.3), clouds * 0.6)  # type: ignore[arg-type]
        hor = mix(hor, grey, clouds * 0.55)  # type: ignore[arg-type]
        amb = mix(amb, mul(amb, 0.8), clouds)  # type: ignore[arg-type]
    if weather == "storm":
        top, hor = mul(top, 0.55), mul(hor, 0.6)  # type: ignore[arg-type]
    if setting == "underwater":
        top, hor = mix((40, 160, 190), top, 0.25), mix((6, 40, 70), hor, 0.15)  # type: ignore[arg-type]
        stars = 0.0
    if setting == "space":
        top, hor, stars = (4, 4, 14), (18, 14, 40), 1.0  # type: ignore[assignment]
    sat, tint, amount, contrast, bright = _GENRE.get(genre, _GENRE["drama"])
    wset = words(atmosphere + " " + description)
    for w, (s, t, a, b, f) in _MOOD_WORDS.items():
        if w in wset:
            sat, bright, fog = sat * s, bright * b, max(fog, f)
            tint, amount = mix(tint, t, 0.5), min(0.3, amount + a * 0.6)
    if "fog" in wset or "mist" in wset:
        fog = max(fog, 0.35)
    ground = GROUND.get(setting, GROUND["field"])
    look = Look(
        sky_top=top, sky_horizon=hor, sun=sun, sun_height=height, ambient=amb, stars=stars,  # type: ignore[arg-type]
        haze=hor, ground=ground, key=sun, fog=fog, rain=rain, snow=snow, clouds=clouds,  # type: ignore[arg-type]
        lightning=lightning, wind=wind, night=time_of_day == "night",
        grade_params=(sat, tint, amount, contrast, bright),
    )
    look.sky_top, look.sky_horizon, look.sun = look.grade(top), look.grade(hor), look.grade(sun)  # type: ignore[arg-type]
    look.ground = look.lit(ground)
    look.haze = mix(look.sky_horizon, look.ground, 0.18 if time_of_day != "night" else 0.35)
    if setting in ("space", "underwater"):
        look.haze = mix(look.sky_horizon, look.ground, 0.5)
    look.key = mix(look.sun, (255, 255, 255), 0.25)
    return look


def noise_rng(*parts: object) -> np.random.Generator:
    """A generator seeded by a stable hash of the parts (Python's hash() is salted per process)."""
    import hashlib

    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))
