"""A user's own files coming into the store: a character's portrait.

The image is checked (a PNG, JPEG or WebP that decodes, not too large or too
small), re-encoded as PNG so nothing but pixels travels on, and stored under a
key made from those pixels, so the same picture twice is one artifact and the
cast stage's key follows the picture's content.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

from ..errors import InvalidInput
from ..models import ArtifactRef
from ..storage import ArtifactStore

FORMATS = ("PNG", "JPEG", "WEBP")
MIN_SIDE, MAX_SIDE = 64, 4096
MAX_PIXELS = 4096 * 4096


def max_upload_bytes() -> int:
    """DEEPFLIX_MAX_UPLOAD_BYTES (default 20 MiB, as the gateway's upload body limit): the largest portrait."""
    return int(os.environ.get("DEEPFLIX_MAX_UPLOAD_BYTES") or 20 * 1024 * 1024)


def import_portrait(store: ArtifactStore, data: bytes, *, what: str = "the portrait",
                    limit: int | None = None) -> ArtifactRef:
    """``limit``: the caller's own byte limit (the gateway's settings); default max_upload_bytes()."""
    from PIL import Image, UnidentifiedImageError

    limit = limit or max_upload_bytes()
    if len(data) > limit:
        raise InvalidInput(f"{what} is {len(data)} bytes; at most {limit} (DEEPFLIX_MAX_UPLOAD_BYTES)")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # a decompression bomb fails here, not in memory
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = im.format
            if fmt not in FORMATS:
                raise InvalidInput(f"{what} is {fmt or 'not an image'}; send a PNG, JPEG or WebP")
            w, h = im.size
            if min(w, h) < MIN_SIDE or max(w, h) > MAX_SIDE:
                raise InvalidInput(f"{what} is {w}x{h} px; each side must be {MIN_SIDE}-{MAX_SIDE} px")
            rgb = im.convert("RGB")
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise InvalidInput(f"{what} is not a readable image ({type(exc).__name__}); send a PNG, JPEG or WebP") from exc
    buf = io.BytesIO()
    rgb.save(buf, format="PNG", optimize=False)
    png = buf.getvalue()
    key = hashlib.sha256(b"upload/portrait\0" + png).hexdigest()
    if not store.has(key):
        staging = store.staging(key)
        (staging.dir / "portrait.png").write_bytes(png)
        staging.publish({"stage": "upload", "provider": "user", "version": "1", "seconds": 0.0,
                         "result": {"image": "portrait.png", "width": w, "height": h}})
    return ArtifactRef(key=key, name="portrait.png")


def read_portrait_file(path: Path) -> bytes:
    """A portrait file from the command line: bounded, a clear line if it is not a file."""
    if not path.is_file():
        raise InvalidInput(f"portrait {str(path)!r} is not a file")
    limit = max_upload_bytes()
    with path.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"portrait {str(path)!r} is over {limit} bytes (DEEPFLIX_MAX_UPLOAD_BYTES)")
    return data
