"""What an artifact's files must be: each file's size and sha256, recorded in
its result.json (``"files"``) when it is published, checked when it is used.

A cache hit checks every recorded file's size, and its hash when the file is
small enough to hash cheaply (HASH_LIMIT); a file that fails is a miss, so the
stage is computed again and its publish replaces the broken folder. Results
stored before sizes were recorded have no ``"files"``: they load unverified.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

RESULT = "result.json"
HASH_LIMIT = int(os.environ.get("DEEPFLIX_VERIFY_HASH_MAX", str(8 << 20)))  # bytes; larger files: size only
_CHUNK = 1 << 20


class ArtifactBroken(FileNotFoundError):
    """A stored file is missing, or not the size or hash its result recorded."""

    def __init__(self, key: str, name: str, why: str) -> None:
        super().__init__(f"artifact {key[:12]}… file {name!r} is broken: {why}")
        self.key, self.name, self.why = key, name, why


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """name -> {size, sha256} for every file of a staged artifact but result.json."""
    out: dict[str, dict[str, Any]] = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.relative_to(folder).as_posix() != RESULT:
            out[p.relative_to(folder).as_posix()] = {"size": p.stat().st_size, "sha256": sha256_file(p)}
    return out


def well_formed(stored: Any) -> bool:
    """A result.json that can be used at all: an object with a result and, if it
    records files, a size for each."""
    if not isinstance(stored, dict) or "result" not in stored:
        return False
    files = stored.get("files", {})
    return isinstance(files, dict) and all(
        isinstance(e, dict) and isinstance(e.get("size"), int) for e in files.values()
    )


def recorded(stored: dict[str, Any]) -> dict[str, dict[str, Any]]:
    files = stored.get("files")
    return files if isinstance(files, dict) else {}


# a file that passed is not hashed again while it is unchanged (same inode, size and mtime)
_passed: dict[tuple[str, int, int, int, str], None] = {}
_passed_lock = threading.Lock()


def check_file(path: Path, entry: dict[str, Any] | None, hash_limit: int | None = None) -> str | None:
    """Why ``path`` is not the file ``entry`` recorded, or None when it is (or nothing was recorded)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "missing"
    if entry is None:
        return None
    if st.st_size != entry.get("size"):
        return f"{st.st_size} bytes, {entry.get('size')} recorded"
    digest = entry.get("sha256")
    limit = HASH_LIMIT if hash_limit is None else hash_limit
    if not digest or st.st_size > limit:
        return None
    memo = (str(path), st.st_ino, st.st_size, st.st_mtime_ns, str(digest))
    with _passed_lock:
        if memo in _passed:
            return None
    if sha256_file(path) != digest:
        return "its sha256 differs from the recorded one"
    with _passed_lock:
        if len(_passed) > 50_000:
            _passed.clear()
        _passed[memo] = None
    return None


def check_folder(folder: Path, stored: dict[str, Any]) -> list[str]:
    """Problems with a local artifact folder, one line each (empty: intact)."""
    return [f"{name}: {why}" for name, entry in recorded(stored).items()
            if (why := check_file(folder / name, entry)) is not None]
