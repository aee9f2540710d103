"""The data folder is private: it holds the database (key hashes, every prompt),
the Redis append-only file and the films. Folders 0700, files 0600.

We set the modes where we create things, and tighten an existing folder or
file only when this user owns it (someone else's folder is theirs to set).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SERVICE_UMASK = 0o077  # `serve` and `worker`: everything they write is the operator's alone


def _tighten(path: Path, mode: int) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o077 | (mode & 0o700))


def private_dir(path: Path) -> Path:
    """Make ``path`` (missing parents as usual, the folder itself 0700) or tighten it."""
    path = Path(path)
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with 0600 when absent; tighten it when it is ours."""
    path = Path(path)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        _tighten(path, FILE_MODE)
    return path


def service_umask() -> int:
    """Called by the long-running services: files they create are 0600, folders 0700."""
    return os.umask(SERVICE_UMASK)
