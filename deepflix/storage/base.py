"""The store's contract. An artifact is a folder: ``result.json`` plus the files
that result names. It is written under a staging folder and published whole,
so a crash never leaves half an artifact under a key."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from .integrity import manifest, well_formed

log = logging.getLogger("deepflix.storage")


class Staging:
    """A private folder a provider writes into; ``publish`` moves it under the key."""

    def __init__(self, store: ArtifactStore, key: str) -> None:
        self.store, self.key = store, key
        self.dir = Path(tempfile.mkdtemp(prefix=f".stage-{key[:12]}-", dir=store.scratch_dir()))

    def publish(self, result: dict[str, Any]) -> None:
        # each file's size and sha256, so a reader can tell a truncated or swapped file
        result = {**result, "files": manifest(self.dir)}
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
        """Store the folder's files under key, atomically: the first writer wins, but a
        broken artifact already there (see ``verify``) is replaced."""

    @abstractmethod
    def local_path(self, key: str, name: str) -> Path:
        """A local file holding ``name`` of artifact ``key`` (fetched when remote)."""

    @abstractmethod
    def scratch_dir(self) -> Path:
        """A local folder for staging, on the same filesystem as local artifacts."""

    @abstractmethod
    def delete(self, key: str) -> None: ...

    def verify(self, key: str, stored: dict[str, Any]) -> list[str]:
        """What is wrong with the files ``stored`` records (empty: intact; nothing
        recorded, as in results published before sizes were: nothing to check)."""
        return []

    def load_verified(self, key: str) -> dict[str, Any] | None:
        """The stored result.json when it and every file it records are intact, else
        None (a miss: the stage is computed again and its publish replaces this one)."""
        stored = self.load_result(key)
        if stored is None:
            return None
        problems = self.verify(key, stored) if well_formed(stored) else ["result.json is not a stored result"]
        if problems:
            log.warning("stored artifact %s is broken (%s); computing it again", key[:12], "; ".join(problems[:3]))
            return None
        return stored

    def intact(self, key: str) -> bool:
        return self.load_verified(key) is not None

    def has(self, key: str) -> bool:
        return self.load_result(key) is not None

    def staging(self, key: str) -> Staging:
        return Staging(self, key)

    def resolve(self, ref: Any) -> Path:
        """ArtifactRef -> local path."""
        return self.local_path(ref.key, ref.name)
