"""The gateway's request and response bodies (the seed's fields, validated)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..film.plan import PLAN
from ..film.spec import Priority, Review
from ..languages import normalize_tag
from ..models import MAX_SCENES, Aspect, Genre, Resolution, Sampler
from ..service.schemas import (  # noqa: F401  (the movie's shapes, the service's: deepflix/service/public.py)
    CastMember,
    JobStatus,
    MovieList,
    MoviePublic,
    MovieSummary,
    MovieUrls,
    QACheck,
    QASummary,
    StageProgress,
)

StageName = Literal[PLAN.names]  # type: ignore[valid-type]  # the plan's stages, for the spec
MAX_SEED = 2**32 - 1
# what image models take; also keeps the value inside a database integer
PROMPT_PATTERN = r"^[^\x00-\x08\x0b-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x08\x0b-\x1f\x7f]*$"


class MovieCreate(BaseModel):
    """The seed's `POST /api/movies` body. The user is the API key's owner: a
    `userId` in the body is accepted for the seed's clients only when it names
    that same user."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=2000, pattern=PROMPT_PATTERN,
                        description="What the film is about (not blank; no control characters but tab and newline).")
    genre: Genre = "drama"
    num_sequences: int = Field(6, ge=1, le=MAX_SCENES, description="Number of scenes.")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Same prompt and seed, same film.")
    sampler: Sampler = "euler"
    steps: int = Field(20, ge=1, le=150)
    cfg_scale: float = Field(7.0, ge=1.0, le=30.0)
    aspect: Aspect = "16:9"
    resolution: Resolution = "720p"
    priority: Priority = "normal"
    language: str = Field("en", min_length=2, max_length=35,
                          description="The film's language, a BCP-47 tag (en, es, pt-BR, hi, ja, zh, ar, ...).")
    providers: dict[StageName, str] = Field(
        default_factory=dict, description="Provider id per stage (the spec lists the installed ones); unset = the server's."
    )
    picture_options: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="The picture provider's options (ComfyUI: checkpoint, scheduler, steps, "
        "cfg or cfg_scale, ...), only those the operator opens (DEEPFLIX_COMFYUI_API_OPTIONS); others are a 422 naming the key.")
    review: Review | None = Field(
        None, description="Stop after this stage (status awaiting_review) for edits; then POST .../render.")
    clips: Literal["none", "all"] | Annotated[int, Field(ge=1, le=MAX_SCENES)] | None = Field(
        None, description="Scenes made as generated motion (image-to-video): none, all, or N (the N with the most "
        "action). Unset: none (a story you give keeps its own motion marks).")
    strict: bool = Field(False, description="Fail the film when a clip fails (default: that scene is its still, "
                         "with a warning in the result).")
    webhook_url: str | None = Field(
        None, max_length=2000, pattern=r"^https?://[^\s]+$",
        description="Called (POST, signed with HMAC-SHA256) when the film is done or has failed; public addresses only.")
    userId: str | None = Field(None, max_length=64, description="Ignored unless it differs from the key's user (then 422).")

    @field_validator("prompt", mode="before")
    @classmethod
    def _prompt(cls, v: object) -> object:
        # clearer words than the pattern's for the two usual mistakes; the pattern is what the spec shows
        if isinstance(v, str):
            if v and not v.strip():
                raise ValueError("prompt must not be blank: say what the film is about")
            if any((ord(c) < 32 and c not in "\n\t") or c == "\x7f" for c in v):
                raise ValueError("prompt must not contain control characters")
        return v

    @field_validator("prompt")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        return normalize_tag(v)

    @field_validator("picture_options")
    @classmethod
    def _picture_options(cls, v: dict[str, object]) -> dict[str, object]:
        if len(v) > 32:
            raise ValueError(f"at most 32 picture options; got {len(v)}")
        for k, val in v.items():
            if not (0 < len(k) <= 64) or (isinstance(val, str) and len(val) > 2000):
                raise ValueError(f"picture option {k[:64]!r}: names are 1-64 characters, values at most 2000")
        return v

    @field_validator("providers")
    @classmethod
    def _providers(cls, v: dict[str, str]) -> dict[str, str]:
        for stage, name in v.items():
            if not (0 < len(name) <= 100):
                raise ValueError(f"provider name for {stage} must be 1-100 characters")
        return v


class MovieAccepted(BaseModel):
    id: str
    status: JobStatus
    urls: MovieUrls


class ErrorBody(BaseModel):
    detail: Any = Field(description="What went wrong, in words; for 422 a list of the bad fields.")


class ComponentHealth(BaseModel):
    ok: bool
    detail: str = ""


class Health(BaseModel):
    ok: bool
    database: ComponentHealth
    broker: ComponentHealth
    storage: ComponentHealth
    providers: dict[str, dict[str, Any]]
