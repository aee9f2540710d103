"""Reading a story JSON a person points `deepflix make --story` at.

Bounded: a story is a few kilobytes, so at most MAX_BYTES are read (``--story
/dev/zero`` used to read for ever), a folder or a device is refused by name, and
JSON nested deeper than Python's parser can follow is bad input, not a crash.
Every failure is an InvalidInput: one line, exit 2.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from ..errors import InvalidInput

MAX_BYTES = 10 * 1024 * 1024


def read_story_json(path: Path, limit: int = MAX_BYTES) -> Any:
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise InvalidInput(f"story file {path} is a folder: give the story.json inside it")
        with path.open("rb") as f:  # a pipe or device is read only up to the limit
            raw = f.read(limit + 1)
    except FileNotFoundError as exc:
        raise InvalidInput(f"story file not found: {path}") from exc
    except PermissionError as exc:
        raise InvalidInput(f"story file {path} cannot be read: permission denied") from exc
    except IsADirectoryError as exc:
        raise InvalidInput(f"story file {path} is a folder: give the story.json inside it") from exc
    except OSError as exc:
        raise InvalidInput(f"story file {path} cannot be read: {exc.strerror or exc}") from exc
    if len(raw) > limit:
        raise InvalidInput(f"story file {path} is larger than {limit // (1024 * 1024)} MB: not a story")
    try:
        return json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"story file {path} is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise InvalidInput(f"story file {path} is nested too deeply to be a story") from exc
