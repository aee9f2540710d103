"""Artifacts in a local folder: ``<root>/<key[:2]>/<key>/``."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from ..core.private import private_dir
from .base import ArtifactStore
from .integrity import ArtifactBroken, check_file, check_folder, recorded, well_formed

_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd = -100
    return fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0  # type: ignore[no-any-return]


def swap_in(folder: Path, dest: Path) -> None:
    """Put ``folder`` at ``dest``, replacing the folder there: atomically where the
    kernel can swap the two, else with a moment in which dest is absent (a miss)."""
    if _exchange(folder, dest):
        shutil.rmtree(folder, ignore_errors=True)  # it holds the old content now
        return
    trash = dest.with_name(f".{dest.name}.old-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(dest, trash)
    except FileNotFoundError:
        pass
    os.rename(folder, dest)
    shutil.rmtree(trash, ignore_errors=True)


def read_result(path: Path) -> dict[str, Any] | None:
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):  # missing, or garbage (bad JSON, bad UTF-8)
        return None
    return stored if isinstance(stored, dict) else None


def checked_path(key: str, folder: Path, name: str, stored: dict[str, Any] | None) -> Path:
    """folder/name, if it is there and is the file the result recorded."""
    p = folder / name
    entry = recorded(stored).get(name) if stored is not None and well_formed(stored) else None
    why = check_file(p, entry)
    if why is not None:
        raise ArtifactBroken(key, name, why)
    return p


class LocalStore(ArtifactStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        private_dir(self.root)  # the films and everything made for them (security/private.py)

    def _dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def load_result(self, key: str) -> dict[str, Any] | None:
        return read_result(self._dir(key) / "result.json")

    def verify(self, key: str, stored: dict[str, Any]) -> list[str]:
        return check_folder(self._dir(key), stored)

    def publish(self, key: str, folder: Path) -> None:
        dest = self._dir(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(folder, dest)  # atomic on one filesystem
        except OSError:
            if self.intact(key):  # another worker published first: same content
                shutil.rmtree(folder, ignore_errors=True)
            else:  # what is there is broken (a file truncated or gone, garbage result.json): replace it
                swap_in(folder, dest)

    def local_path(self, key: str, name: str) -> Path:
        d = self._dir(key)
        return checked_path(key, d, name, self.load_result(key))

    def scratch_dir(self) -> Path:
        d = self.root / ".staging"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def delete(self, key: str) -> None:
        shutil.rmtree(self._dir(key), ignore_errors=True)
