"""Parts of a stage's result kept in the store by what they are made from.

A stage whose key changed may still make some files exactly as before: the cut of an
edited film writes the same poster when the poster's scene is unchanged, and the
preview's moment of a scene whose segment is unchanged. Such a file is stored under
a key of its own, the hash of ``ident`` (everything it is made from, and a version
of how), so the next stage that needs it copies it instead of making it again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base import ArtifactStore

log = logging.getLogger("deepflix.storage")


def part_key(ident: dict[str, Any]) -> str:
    body = json.dumps({"part": ident}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def remembered(store: ArtifactStore, ident: dict[str, Any], name: str, make: Callable[[Path], None]) -> Path:
    """The stored file ``name`` of the part ``ident``; made first by ``make(path)``
    (which writes the file at path) when the store lacks it or holds it broken."""
    key = part_key(ident)
    if store.load_verified(key) is not None:
        return store.local_path(key, name)
    staging = store.staging(key)
    try:
        make(staging.dir / name)
        if not (staging.dir / name).is_file():
            raise FileNotFoundError(f"making the part {ident.get('part', '?')} wrote no {name}")
        staging.publish({"stage": "part", "provider": str(ident.get("part", "")), "version": "1",
                         "result": {"file": name, "ident": ident}})
    except BaseException:
        staging.discard()
        raise
    return store.local_path(key, name)
