"""Which scenes are generated motion, and what their clip request says.

A scene is a clip when its ``motion`` is ``clip`` (a story may say so itself);
a film's ``clips`` option marks them once, when its story is first known:
``none`` clears every mark, ``all`` marks every scene, and N marks the N
scenes with the most action (``action_score``; ties go to the earlier scene).
The marks live on the story, so an edited story.json keeps the choice and
the plan knows which scenes have a clip row from the story alone.

The clip request is the scene's picture as its first frame, a motion prompt
written from the scene (what happens, the camera's move, the weather and
light), the scene's length, the film's frame size and rate, the scene's seed
and, for a provider that takes them, the portraits of the characters in it.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..errors import InvalidInput
from ..models import ClipRequest, Scene, Story, frame_size
from .options import FilmOptions
from .requests import scene_move

# words of movement in a scene's description or narration: each one found adds ACTION_WORD to its score
ACTION_WORDS = frozenset("""
run runs running ran chase chases chasing chased fight fights fighting fought race races racing raced
jump jumps jumping jumped fall falls falling fell climb climbs climbing climbed fly flies flying flew
dance dances dancing danced swim swims swimming swam crash crashes crashing crashed explode explodes
exploding exploded storm storms burst bursts bursting rush rushes rushing rushed flee flees fleeing fled
leap leaps leaping leapt throw throws throwing threw spin spins spinning spun charge charges charging
gallop gallops galloping sprint sprints sprinting dive dives diving dove wave waves
escape escapes escaping escaped battle battles battling pursue pursues pursuing pursued strike strikes
struck hurl hurls hurled sail sails sailing sailed drive drives driving drove ride rides riding rode
""".split())
ACTION_WORD = 2.0
MOVING_WEATHER = {"rain": 1.0, "snow": 1.0, "storm": 1.5, "wind": 1.0, "fog": 0.5}
_WORD = re.compile(r"[a-z]+")

_CAMERA = {
    "push_in": "the camera slowly pushes in", "pull_out": "the camera slowly pulls back",
    "pan_left": "the camera pans slowly to the left", "pan_right": "the camera pans slowly to the right",
    "tilt_up": "the camera tilts slowly up", "tilt_down": "the camera tilts slowly down",
    "static": "the camera holds still",
}
_WEATHER = {"rain": "rain falling", "snow": "snow drifting down", "storm": "a storm raging, wind and rain",
            "wind": "wind moving through everything", "fog": "fog drifting", "cloudy": "clouds drifting",
            "clear": ""}
NEGATIVE_PROMPT = ("static frame, still image, frozen, jitter, flicker, morphing, distorted face, extra limbs, "
                   "deformed hands, text, subtitles, watermark, logo, blurry, low quality")


def action_score(scene: Scene) -> float:
    """How much happens in a scene: 2 per movement word in its description and narration
    (``ACTION_WORDS``), its music's intensity (0-1) times 2, 0.5-1.5 for weather that moves
    (rain, snow, storm, wind, fog), 0.5 per character in it and 0.25 per line of dialogue."""
    words = _WORD.findall(f"{scene.scene_description} {scene.narration}".lower())
    return (ACTION_WORD * sum(w in ACTION_WORDS for w in words) + 2.0 * scene.music.intensity
            + MOVING_WEATHER.get(scene.weather, 0.0) + 0.5 * len(scene.characters) + 0.25 * len(scene.dialogue))


def chosen(story: Story, choice: str | int) -> set[int]:
    """The scenes a ``clips`` choice makes clips: none, all, or the N with the most action."""
    n = len(story.scenes)
    if choice == "none":
        return set()
    if choice == "all":
        return set(range(n))
    ranked = sorted(range(n), key=lambda i: (-action_score(story.scenes[i]), i))
    return set(ranked[: int(choice)])


def with_clips(story: Story, opts: FilmOptions) -> Story:
    """The story with the film's ``clips`` choice marked on its scenes (unchanged when the
    film makes none: its scenes, and so every key, stay as they were)."""
    if opts.clips is None:
        return story
    marks = chosen(story, opts.clips)
    if all((s.motion == "clip") == (i in marks) for i, s in enumerate(story.scenes)):
        return story
    scenes = [s.model_copy(update={"motion": "clip" if i in marks else "still"}) for i, s in enumerate(story.scenes)]
    return story.model_copy(update={"scenes": scenes})


def has_clip(story: Story, i: int) -> bool:
    return story.scenes[i].motion == "clip"


def motion_prompt(story: Story, i: int) -> str:
    """What moves in scene i, for an image-to-video model: its action, who is in it, the
    camera's move (the one the cut would give its still), the weather and light, the mood."""
    scene = story.scenes[i]
    who = []
    for cid in scene.characters:
        ch = story.character(cid)
        who.append(f"{ch.name} ({ch.base_traits}, {ch.clothing})" if ch.base_traits else ch.name)
    parts = [scene.scene_description.strip().rstrip(".")]
    if who:
        parts.append(("In the scene: " + "; ".join(who))[:600])
    if scene.location:
        parts.append(f"At {scene.location.strip().rstrip('.')}")
    parts.append(_CAMERA[scene_move(story, i)])
    weather = _WEATHER.get(scene.weather, "")
    light = {"dawn": "at dawn", "day": "in daylight", "dusk": "at dusk", "night": "at night"}[scene.time_of_day]
    parts.append(", ".join(p for p in (weather, light) if p))
    parts.append(f"Atmosphere: {scene.atmosphere.strip().rstrip('.')}, {scene.music.mood}")
    parts.append(f"Smooth natural motion, cinematic {story.genre} film")
    return (". ".join(p[0].upper() + p[1:] for p in parts if p) + ".")[:4000]


def clip_length(seconds: float) -> float:
    """The length a clip is asked for: the scene's, rounded up to the half second, so a small
    narration edit (a scene a few frames longer) keeps its clip; the cut plays the scene's own length."""
    return math.ceil(round(seconds * 2, 6)) / 2


def clip_request(story: Story, i: int, opts: FilmOptions, duration: float, picture: Any,
                 references: list[Any]) -> ClipRequest:
    """Scene i's clip: ``picture`` is its picture stage outcome, ``duration`` its length in the film."""
    width, height = frame_size(opts.aspect, opts.resolution)
    seed = opts.picture_seeds.get(i) or (opts.params.seed if opts.params.seed else story.seed)
    return ClipRequest(scene_index=i, image=picture.ref(picture.result.image), prompt=motion_prompt(story, i),
                       negative_prompt=NEGATIVE_PROMPT, duration=clip_length(duration), width=width, height=height,
                       fps=opts.fps, seed=seed, references=references)


def check_clip_provider(opts: FilmOptions, providers: dict[str, str]) -> None:
    """A film that asks for clips with no clip provider installed is refused before any work."""
    if opts.clips not in (None, "none") and "clip" not in providers:
        raise InvalidInput("clips need an image-to-video provider and none is installed: install one (the ComfyUI "
                           "clip provider with a Wan 2.2 or LTX-Video workflow) and name it with --clip-provider "
                           "or DEEPFLIX_CLIP_PROVIDER, or make the film without clips")
