"""The seed's LLM service: ``POST /generate-cinematic-story`` and ``GET /health``.

Body (the seed's fields, plus optional ones the seed left implicit):
``{genre, total_chunks, previous_character, previous_sequence, prompt?, num_scenes?, seed?, provider?}``.
With ``total_chunks`` > 1 each call returns the next chunk: a Story holding the
cast and only the new scenes, continuing ``previous_sequence``; the caller sends
the chunks so far back with the next call. Otherwise the whole story. Runs as
its own service (``uvicorn deepflix.api.routes.story_service:app``) or mounted
on the gateway through ``router``. The result goes through the runner, so it is
cached and transient provider faults are retried with backoff.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ...core import config
from ...errors import InvalidInput
from ...languages import normalize_tag
from ...models import GENRES, MAX_SCENES, Character, Scene, Story, StoryRequest
from ...plugins import get_provider
from ...runner import run_stage
from ...security.allowlist import ProviderNotAllowed, check_provider
from ...storage import open_store
from ...story.planning import lexicon
from ...story.repair import nearest
from ..service import stage_app
from ..settings import api_settings
from ..stage_pool import run_stage_call
from ..stages import secured_app_getattr

router = APIRouter(tags=["story"])

# a premise for the seed's calls, which send a genre and no prompt
DEFAULT_PROMPTS = {
    "noir": "A private detective takes one last case in a city that never stops raining",
    "sci-fi": "A lone engineer on a deep-space station picks up a signal that should not exist",
    "fantasy": "A young apprentice finds a sword that hums in the dark",
    "horror": "A caretaker moves into an old house where the clocks all stop at the same minute",
    "comedy": "A substitute teacher has one day to find the school's runaway goat",
    "romance": "A florist finds a love letter that was never sent",
    "adventure": "A young explorer follows an old map with a missing corner",
    "drama": "A night nurse receives a letter from a father long gone",
}
SCENES_PER_CHUNK = 4  # when the seed asks for chunks and names no length


class CinematicStoryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    genre: str = "drama"
    total_chunks: int = Field(1, ge=1, le=20)
    previous_character: list[Character] | Character | None = None
    previous_sequence: list[Scene] | None = None
    prompt: str | None = Field(None, max_length=2000)
    num_scenes: int | None = Field(None, ge=1, le=MAX_SCENES)
    seed: int = 0
    provider: str | None = Field(None, description="story provider id; default from DEEPFLIX_STORY_PROVIDER")
    language: str = Field("en", min_length=2, max_length=35, description="BCP-47 tag of the story's language")

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        return normalize_tag(v)

    @field_validator("genre")
    @classmethod
    def _genre(cls, v: str) -> str:
        g = nearest(v, GENRES, lexicon.GENRE_SYNONYMS, None)  # "Sci Fi" and "film noir" are fine
        if g is None:
            raise ValueError(f"unknown genre {v!r}; genres are {', '.join(GENRES)}")
        return g

    def story_request(self) -> StoryRequest:
        n = self.num_scenes or (6 if self.total_chunks == 1 else min(MAX_SCENES, SCENES_PER_CHUNK * self.total_chunks))
        chars = self.previous_character
        if isinstance(chars, Character):
            chars = [chars]
        chunked = self.total_chunks > 1 or self.previous_sequence is not None
        prompt = (self.prompt or "").strip() or DEFAULT_PROMPTS[self.genre]
        if self.previous_sequence and len(self.previous_sequence) >= n:
            raise InvalidInput(
                f"previous_sequence already has {len(self.previous_sequence)} of {n} scenes: the story is complete"
            )
        if chunked and math.ceil(n / self.total_chunks) < 1:
            raise InvalidInput(f"total_chunks {self.total_chunks} is more than num_scenes {n}")
        return StoryRequest.model_validate({
            "prompt": prompt, "genre": self.genre, "num_scenes": n, "seed": self.seed,
            "total_chunks": self.total_chunks, "previous_character": chars or None,
            "previous_sequence": list(self.previous_sequence or []) if chunked else None,
            "language": self.language,
        })


def _write(body: CinematicStoryRequest, request: StoryRequest) -> Any:
    provider = get_provider("story", body.provider or config.settings.provider_for("story"))
    outcome = run_stage("story", request, store=open_store(), provider=provider,
                        retries=config.settings.deepflix_retries)
    return outcome.result


@router.post("/generate-cinematic-story", response_model=Story)
async def generate_cinematic_story(body: CinematicStoryRequest, http: Request) -> Any:
    """A story, or with total_chunks > 1 the next chunk of one."""
    request = body.story_request()
    who = getattr(http.state, "principal", None)
    if body.provider and who is not None:  # behind keys: the operator's allow-list (admins: any)

        spec = (getattr(http.app.state, "api_settings", None) or api_settings()).deepflix_user_providers
        try:
            check_provider(who, "story", body.provider, spec)
        except ProviderNotAllowed as exc:
            raise HTTPException(403, detail=str(exc)) from exc
    # on the story pool (api/stage_pool.py); a scene costs about one request
    return await run_stage_call(http, "story", float(math.ceil(request.num_scenes / body.total_chunks)), _write,
                                body, request)


@router.get("/health")
def health() -> dict[str, Any]:
    provider = get_provider("story", config.settings.provider_for("story"))
    info = provider.health()
    return {"status": "ok" if info.get("ok") else "degraded", "service": "story", **info}


# without auth: for tests, and for mounting behind something that checks keys
open_app = stage_app("story", router)

__getattr__ = secured_app_getattr("story", router)  # `uvicorn deepflix.api.routes.story_service:app`: with keys
