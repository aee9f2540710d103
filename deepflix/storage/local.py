"""Artifacts in a local folder: ``<root>/<key[:2]>/<key>/``."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from ..security.private import private_dir
from .base import ArtifactStore


class LocalStore(ArtifactStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        private_dir(self.root)  # the films and everything made for them (security/private.py)

    def _dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def load_result(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads((self._dir(key) / "result.json").read_text())  # type: ignore[no-any-return]
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def publish(self, key: str, folder: Path) -> None:
        dest = self._dir(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(folder, dest)  # atomic on one filesystem
        except OSError:
            if (dest / "result.json").exists():  # another worker published first: same content
                shutil.rmtree(folder, ignore_errors=True)
            else:  # a half-dead leftover (should not happen: rename is atomic); replace it
                shutil.rmtree(dest, ignore_errors=True)
                os.rename(folder, dest)

    def local_path(self, key: str, name: str) -> Path:
        p = self._dir(key) / name
        if not p.exists():
            raise FileNotFoundError(f"artifact {key[:12]}… has no file {name!r}")
        return p

    def scratch_dir(self) -> Path:
        d = self.root / ".staging"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def delete(self, key: str) -> None:
        shutil.rmtree(self._dir(key), ignore_errors=True)
