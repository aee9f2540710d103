"""The store's contract. An artifact is a folder: ``result.json`` plus the files
that result names. It is written under a staging folder and published whole,
so a crash never leaves half an artifact under a key."""

from __future__ import annotations

import json
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any


class Staging:
    """A private folder a provider writes into; ``publish`` moves it under the key."""

    def __init__(self, store: ArtifactStore, key: str) -> None:
        self.store, self.key = store, key
        self.dir = Path(tempfile.mkdtemp(prefix=f".stage-{key[:12]}-", dir=store.scratch_dir()))

    def publish(self, result: dict[str, Any]) -> None:
        (self.dir / "result.json").write_text(json.dumps(result, indent=1, sort_keys=True))
        self.store.publish(self.key, self.dir)

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class ArtifactStore(ABC):
    @abstractmethod
    def load_result(self, key: str) -> dict[str, Any] | None:
        """The stored result.json, or None when the key is not stored."""

    @abstractmethod
    def publish(self, key: str, folder: Path) -> None:
        """Store the folder's files under key, atomically (first writer wins)."""

    @abstractmethod
    def local_path(self, key: str, name: str) -> Path:
        """A local file holding ``name`` of artifact ``key`` (fetched when remote)."""

    @abstractmethod
    def scratch_dir(self) -> Path:
        """A local folder for staging, on the same filesystem as local artifacts."""

    @abstractmethod
    def delete(self, key: str) -> None: ...

    def has(self, key: str) -> bool:
        return self.load_result(key) is not None

    def staging(self, key: str) -> Staging:
        return Staging(self, key)

    def resolve(self, ref: Any) -> Path:
        """ArtifactRef -> local path."""
        return self.local_path(ref.key, ref.name)
