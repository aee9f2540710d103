"""Piper's patched graph (seeded noise, the alignment output) kept on disk after the first patch.

Patching needs the onnx package, whose import alone is ~0.9 s of CPU in every process
that speaks (after a narration edit: the one scene's speech, first on the critical
path), and loading, patching and serialising the 63-MB graph ~0.3 s more. The kept file
holds exactly the bytes the patch serialised, so the speech is the same to the sample.
It is kept by the model file (path, size, mtime), the onnx and piper-tts versions and
PATCH_VERSION; anything unreadable or the wrong size is patched again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ..core import config
from .kept import file_ident

log = logging.getLogger("deepflix.speech.piper")

PATCH_VERSION = "1"  # bump with any change to how piper.py patches the graph
Patched = tuple[bytes, bool, bool]  # the serialised graph, deterministic noise, aligned


def kept_path(model_path: Path) -> Path | None:
    try:
        versions = f"{version('onnx')}|{version('piper-tts')}"
        ident = f"{file_ident(model_path)}|{versions}|{PATCH_VERSION}"
    except (PackageNotFoundError, OSError):
        return None
    name = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return Path(config.settings.deepflix_data_dir) / "cache" / "piper" / f"{name}.onnx"


def patched_graph(model_path: Path, patch: Callable[[Path], Patched]) -> Patched:
    """``patch(model_path)``'s result, from the kept file when there is one."""
    kept = kept_path(model_path)
    if kept is not None:
        try:
            meta = json.loads(kept.with_suffix(".json").read_text())
            data = kept.read_bytes()
            if len(data) == meta["size"]:
                return data, bool(meta["deterministic"]), bool(meta["aligned"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    made = patch(model_path)
    if kept is not None:
        try:
            kept.parent.mkdir(parents=True, exist_ok=True)
            for path, body in ((kept, made[0]), (kept.with_suffix(".json"), json.dumps(
                    {"size": len(made[0]), "deterministic": made[1], "aligned": made[2]}).encode())):
                tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
                tmp.write_bytes(body)
                os.replace(tmp, path)  # whole or not at all; the graph first, so its size is checkable
        except OSError as exc:
            log.info("the patched Piper graph is not kept (%s): it is patched again next time", exc)
    return made
