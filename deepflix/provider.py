"""The contract every provider of every stage follows.

A provider is one class in one file. It takes a request model and a
``StageContext`` and returns a result model, writing any files it makes into
``ctx.out_dir``. It must be a pure function of the request (and its ``version``):
the runner caches its result under a hash of both.
"""

from __future__ import annotations

import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from .core.config import settings
from .errors import InvalidInput, NeedsKeyError


class _NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _no_progress(fraction: float, message: str = "") -> None:
    return None


@dataclass
class StageContext:
    """What a provider may use besides its request."""

    out_dir: Path
    resolve: Callable[[Any], Path] = field(default=lambda ref: Path(ref))  # ArtifactRef -> local file
    progress: Callable[[float, str], None] = _no_progress
    # (ident, file name, make) -> the stored file of a part made from ident (storage/parts.py);
    # None: no store to keep parts in, each is made where it is wanted
    remember: Callable[[dict[str, Any], str, Callable[[Path], None]], Path] | None = None

    def path(self, ref: Any) -> Path:
        return self.resolve(ref)

    def reuse(self, ident: dict[str, Any], dest: Path, make: Callable[[Path], None]) -> bool:
        """Write at ``dest`` the file ``make(path)`` writes, made once per ``ident`` (everything
        the file is made from, and a version of how) and copied from the store after that.
        True when it came from the store."""
        if self.remember is None:
            make(dest)
            return False
        made: list[bool] = []

        def mark(path: Path) -> None:
            made.append(True)
            make(path)

        shutil.copyfile(self.remember(ident, dest.name, mark), dest)
        return not made


class Provider(ABC):
    stage: ClassVar[str]
    provider_id: ClassVar[str]  # namespaced: "builtin/planner", "anthropic/claude", ...
    version: ClassVar[str] = "1"  # bump when output changes for the same request
    request_model: ClassVar[type[BaseModel]]
    result_model: ClassVar[type[BaseModel]]
    needs_key: ClassVar[bool] = False
    key_env_var: ClassVar[str | None] = None
    Options: ClassVar[type[BaseModel]] = _NoOptions

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        try:
            self.options = self.Options(**(options or {}))
        except Exception as exc:  # pydantic ValidationError -> our permanent error
            raise InvalidInput(f"{self.provider_id}: bad options: {exc}") from exc

    def cache_identity(self) -> dict[str, Any]:
        """What besides the request changes the output: id, version, options."""
        return {"provider": self.provider_id, "version": self.version, "options": self.options.model_dump(mode="json")}

    def check_inputs(self, request: BaseModel) -> None:  # noqa: B027  (an optional hook: most providers keep it)
        """Raise InvalidInput quoting the bad value. Called before generate."""

    @abstractmethod
    def generate(self, request: Any, ctx: StageContext) -> Any:
        """Make the artifact. Raise ProviderError subclasses for failures."""

    def get_key(self) -> str:
        """The API key, read lazily so offline runs need none."""
        assert self.key_env_var, "get_key() on a provider without key_env_var"

        value = getattr(settings, self.key_env_var.lower(), None) or os.environ.get(self.key_env_var)
        if hasattr(value, "get_secret_value"):  # pydantic SecretStr: str() would give '**********'
            value = value.get_secret_value()  # type: ignore[union-attr]
        if not value:
            raise NeedsKeyError(
                f"{self.provider_id} needs an API key: set {self.key_env_var} in the environment or .env"
            )
        return str(value)

    def health(self) -> dict[str, Any]:
        """Readiness, cheap: does not call paid APIs. Override for remote services."""
        return {"provider": self.provider_id, "ok": True}
