"""What the LLM story providers share: the story's JSON schema, the prompts,
chunked writing, and the bounded repair-and-retry loop.

A film longer than ``scenes_per_call`` scenes (or a request with
``total_chunks`` > 1) is written in chunks: each call is given the cast and
the scenes so far and writes the next stretch of the arc, and the chunks are
merged into one Story. With ``previous_sequence`` set (the seed's chunked
API) only the next chunk is written and returned.

A vendor subclass implements three things: start a conversation, ask (one
HTTP call, vendor errors mapped to ours) and add feedback after a bad reply.
Transport retries (429, 5xx, timeouts) are the runner's job: the SDKs are
built with ``max_retries=0`` so that backoff and Retry-After are handled once,
in one place, and show up in our logs and progress.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ..errors import InvalidInput, ProviderBadOutput, ProviderError
from ..models import MOODS, SETTINGS, Character, Scene, Story, StoryRequest
from ..provider import StageContext
from ..quality.review import feedback, findings_for
from .base import StoryProvider
from .planning import arc
from .repair import RepairError, repair_story

TOOL_NAME = "write_story"

_STR = {"type": "string"}


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def story_schema() -> dict[str, Any]:
    """The JSON the model writes: the Story minus what we fill in (voices, looks as colours, seed).
    Every property is required and none extra, as OpenAI's strict mode demands."""
    character = _obj({
        "id": {"type": "string", "description": "short lowercase id, e.g. 'maren'"},
        "name": _STR, "role": {"type": "string", "description": "e.g. 'lighthouse keeper'"},
        "base_traits": {"type": "string", "description": "age, woman/man, build, skin, height"},
        "facial_features": {"type": "string", "description": "eyes, face, hair colour and style"},
        "clothing": {"type": "string", "description": "garments with their colours"},
        "distinctive_features": {"type": "string", "description": "one memorable detail with a colour"},
    })
    scene = _obj({
        "scene_description": {"type": "string", "description": "what the picture shows: place, light, who is there"},
        "atmosphere": _STR,
        "setting": {"type": "string", "enum": list(SETTINGS)},
        "location": {"type": "string", "description": "the specific place, e.g. 'the lamp room'"},
        "time_of_day": {"type": "string", "enum": ["dawn", "day", "dusk", "night"]},
        "weather": {"type": "string", "enum": ["clear", "cloudy", "rain", "fog", "snow", "storm", "wind"]},
        "shot": {"type": "string", "enum": ["wide", "medium", "close", "over_the_shoulder", "aerial"]},
        "characters": {"type": "array", "items": _STR, "description": "ids of the characters in the scene"},
        "narration": {"type": "string", "description": "2-4 spoken sentences, present tense"},
        "dialogue": {"type": "array", "items": _obj({"speaker": {"type": "string", "description": "character id"},
                                                       "text": _STR})},
        "music": _obj({"mood": {"type": "string", "enum": list(MOODS)},
                       "intensity": {"type": "number", "description": "0 to 1"}}),
        "duration": {"type": "number", "description": "seconds: words / 2.5 + 2"},
    })
    return _obj({"title": _STR, "logline": _STR, "characters": {"type": "array", "items": character},
                 "scenes": {"type": "array", "items": scene}})


SYSTEM = """You write stories for short narrated films. Each scene becomes one illustrated shot with \
a narrator's voice over it, so write for the ear and the eye.

Rules:
- 2 to 4 characters, each with a short lowercase id, a name, a role, and concrete visual traits: \
base_traits (age, woman or man, build, skin), facial_features (eyes, face, hair colour and style), \
clothing (garments with colours), distinctive_features (one memorable detail with a colour). \
Keep every character's look identical in every scene.
- Each scene: narration of 2 to 4 sentences of natural spoken prose in the present tense (25 to 60 words), \
not notes or fragments; 0 to 2 short dialogue lines whose speaker is a character id present in the scene; \
a scene_description an illustrator can draw (place, light, weather, who is there and what they look like); \
setting, time_of_day, weather, shot and music mood chosen from the allowed values; music intensity from 0 \
to 1 following the dramatic arc; duration in seconds of about words / 2.5 + 2.
- Use the prompt's own people, places and objects throughout. Never repeat a sentence.
- The story follows a dramatic arc: setup, inciting incident, rising conflict, crisis, climax, resolution."""

JSON_HINT = """Reply with only a JSON object, no prose, of this shape:
{{"title": str, "logline": str, "characters": [{{"id", "name", "role", "base_traits", "facial_features", \
"clothing", "distinctive_features"}}], "scenes": [{{"scene_description", "atmosphere", "setting", "location", \
"time_of_day", "weather", "shot", "characters": [ids], "narration", "dialogue": [{{"speaker": id, "text"}}], \
"music": {{"mood", "intensity"}}, "duration"}}]}}
Allowed setting: {}. Allowed mood: {}.""".format(", ".join(SETTINGS), ", ".join(MOODS))


def user_prompt(request: StoryRequest, start: int, count: int, characters: list[Character] | None,
                previous: list[Scene]) -> str:
    n = request.num_scenes
    lines = [f"Prompt: {request.prompt}", f"Genre: {request.genre}", f"The film has {n} scenes in all."]
    if start == 0 and count >= n:
        lines.append(f"Write the whole story: all {n} scenes.")
    else:
        lines.append(f"Write scenes {start + 1} to {start + count} of {n}, and only those ({count} scenes).")
    lines.append("Where these scenes fall in the arc:\n" + "\n".join(arc.describe(n, start, count)))
    if characters:
        cast = [c.model_dump(include={"id", "name", "role", "base_traits", "facial_features", "clothing",
                                      "distinctive_features"}) for c in characters]
        lines.append("The characters are fixed. Repeat them as given and use their ids exactly:\n"
                     + json.dumps(cast, ensure_ascii=False))
    if previous:
        recent = previous[-8:]  # the last stretch in full is enough to continue from; earlier ones in a line
        if len(previous) > len(recent):
            lines.append("Earlier: " + " ".join(s.narration.split(". ")[0] + "." for s in previous[:-8]))
        story_so_far = [{"scene": len(previous) - len(recent) + i + 1, "setting": s.setting, "location": s.location,
                         "characters": s.characters, "narration": s.narration} for i, s in enumerate(recent)]
        lines.append("The story so far (continue from here, do not repeat it):\n"
                     + json.dumps(story_so_far, ensure_ascii=False))
    if request.language != "en":
        lines.append(language_instruction(request.language))
    seed_line = f"Variation seed: {request.seed}." if request.seed else ""
    return "\n\n".join(x for x in lines + [seed_line] if x)


def language_instruction(tag: str) -> str:
    from ..languages import name

    return (f"Language: write the film in {name(tag)} (BCP-47 {tag}): the title, the logline, the characters' "
            f"names and roles, every narration and dialogue line, the atmosphere, in {name(tag)}, as a native "
            f"writer would. Keep the ids, setting, time_of_day, weather, shot and mood to the allowed English "
            f"values, and write scene_description in English for the illustrator.")


def wrong_language(story: Story, tag: str) -> str | None:
    """What in the reply is not in the film's language, or None (a light script and word check)."""
    from ..languages import looks_written_in, name

    for i, s in enumerate(story.scenes, 1):
        spoken = " ".join([s.narration] + [d.text for d in s.dialogue])
        if spoken.strip() and not looks_written_in(spoken, tag):
            return (f"scene {i}'s narration and dialogue are not in {name(tag)} ({tag}): {spoken[:80]!r}; "
                    f"write every spoken line in {name(tag)}")
    return None


def secret(value: Any) -> str | None:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return str(value) if value else None


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait, from retry-after-ms, or Retry-After as seconds or an HTTP date."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, when.timestamp() - time.time()) if when else None


def error_detail(body: Any, fallback: str) -> str:
    """The human part of a vendor's error body ({"error": {"message": ...}})."""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
        if isinstance(err, str):
            return err[:300]
    return fallback[:300]


@dataclass
class Reply:
    payload: Any  # a tool's input (dict) or the reply text
    truncated: bool = False
    raw: Any = None


class LLMOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="overrides the model setting")
    max_tokens: int = Field(8192, ge=256, le=64000)
    temperature: float = Field(0.8, ge=0.0, le=2.0)
    timeout: float = Field(120.0, gt=0, le=900)
    scenes_per_call: int = Field(8, ge=1, le=60)
    attempts: int = Field(3, ge=1, le=5, description="1 + bounded retries with the validation error fed back")


class LLMStoryProvider(StoryProvider):
    needs_key: ClassVar[bool] = True
    writes_any_language: ClassVar[bool] = True  # asked in the prompt, checked in the reply
    Options = LLMOptions
    vendor: ClassVar[str] = "the model"

    @abstractmethod
    def model_name(self) -> str: ...

    @abstractmethod
    def _start(self, system: str, user: str) -> Any: ...

    @abstractmethod
    def _ask(self, conversation: Any, request: StoryRequest) -> Reply: ...

    @abstractmethod
    def _feedback(self, conversation: Any, reply: Reply, message: str) -> Any: ...

    def cache_identity(self) -> dict[str, Any]:
        # the model comes from settings too; a different model is a different story
        return {**super().cache_identity(), "model": self.model_name()}

    def generate(self, request: StoryRequest, ctx: StageContext) -> Story:
        n = request.num_scenes
        options: LLMOptions = self.options  # type: ignore[assignment]
        if request.previous_sequence is not None:  # the seed's chunked API: write only the next chunk
            start = len(request.previous_sequence)
            count = min(math.ceil(n / request.total_chunks), n - start)
            if count <= 0:
                raise InvalidInput(f"previous_sequence already has {start} scenes of {n}: the story is complete")
            ctx.progress(0.0, f"writing scenes {start + 1}-{start + count} of {n}")
            return self._write(request, start, count, request.previous_character, list(request.previous_sequence))
        chunks = max(request.total_chunks, math.ceil(n / options.scenes_per_call))
        sizes = [n // chunks + (1 if i < n % chunks else 0) for i in range(chunks)]
        cast = request.previous_character
        first: Story | None = None
        scenes: list[Scene] = []
        for k, size in enumerate(s for s in sizes if s):
            start = len(scenes)
            ctx.progress(k / chunks, f"writing scenes {start + 1}-{start + size} of {n}")
            part = self._write(request, start, size, cast, scenes)
            first = first or part
            cast = part.characters
            scenes += part.scenes
        assert first is not None
        return Story.model_validate({**first.model_dump(), "characters": [c.model_dump() for c in cast or []],
                                     "scenes": [s.model_dump() for s in scenes]})

    def _write(self, request: StoryRequest, start: int, count: int, cast: list[Character] | None,
               previous: list[Scene]) -> Story:
        options: LLMOptions = self.options  # type: ignore[assignment]
        conversation = self._start(SYSTEM, user_prompt(request, start, count, cast, previous))
        problem = ""
        for attempt in range(options.attempts):
            reply = self._ask(conversation, request)
            last = attempt == options.attempts - 1
            try:
                story = repair_story(reply.payload, request, expect=count, characters=cast, strict=not last)
                if request.language != "en":
                    story = story.model_copy(update={"language": request.language})
                    wrong = wrong_language(story, request.language)
                    if wrong:
                        raise RepairError(wrong)
                return self._review(conversation, reply, request, story, count, cast, previous)
            except RepairError as exc:
                problem = str(exc)
                hint = " Your reply was cut off at the token limit: keep narration shorter." if reply.truncated else ""
                conversation = self._feedback(
                    conversation, reply,
                    f"That reply could not be used: {problem}.{hint} Send the complete story again, fixed.",
                )
        raise ProviderBadOutput(
            f"{self.provider_id} ({self.model_name()}) gave no usable story in {options.attempts} attempts; "
            f"last problem: {problem}"
        )

    def _review(self, conversation: Any, reply: Reply, request: StoryRequest, story: Story, count: int,
                cast: list[Character] | None, previous: list[Scene]) -> Story:
        """One repair round for contradictions (quality.consistency): the findings go back to the
        model once; its answer is kept when it has fewer of them."""
        found = findings_for(story, previous, cast_fixed=cast is not None)
        if not found:
            return story
        conversation = self._feedback(conversation, reply, feedback(found))
        try:
            again = repair_story(self._ask(conversation, request).payload, request, expect=count, characters=cast,
                                 strict=True)
        except (RepairError, ProviderError):  # a review that fails keeps the usable story
            return story
        return again if len(findings_for(again, previous, cast_fixed=cast is not None)) < len(found) else story

