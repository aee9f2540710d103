"""Sentences a voice has spoken, kept on disk, so an edit speaks only what it changed.

A scene's speech is one stage result, so one edited sentence made the whole scene
spoken again (Piper, and the pitch and formant shifts of a character's voice: ~0.3 s a
sentence here). ``kept_sentences`` wraps a provider's ``synth_line``: each sentence is
looked up by everything that decides its samples (the provider's identity and options,
the voice and its model files, the sentence's text and tokens, the library versions and
the CPU's architecture), and only the sentences not found are synthesised, in one call.
A kept sentence is exactly the array that was made, so the scene is the same to the
sample. Kept in ``DEEPFLIX_DATA_DIR/cache/speech``; the least recently used go past
``KEEP_BYTES``; anything unreadable is spoken again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import platform
import uuid
import zipfile
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from ..core import config
from ..models import SpeechLine, Voice, Word
from .assemble import Chunk, SynthLine
from .timing import Sentence

log = logging.getLogger("deepflix.speech")

KEPT_VERSION = "1"  # bump with any change to what a kept sentence holds
KEEP_BYTES = 256 << 20  # ~48 minutes of speech at 22.05 kHz (float32, as made)
PRUNE_EVERY = 64  # sentences written between looks at the folder's size


def folder() -> Path:
    return Path(config.settings.deepflix_data_dir) / "cache" / "speech"


@functools.cache  # asked per scene; installed versions do not change under a running process
def _versions(packages: tuple[str, ...]) -> str:
    out = []
    for name in packages:
        try:
            out.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            out.append(f"{name}=none")
    return ",".join(out)


def file_ident(path: Path) -> str:
    """A file as a cache key sees it: where it is, its size and its mtime."""
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def sentence_key(identity: dict[str, Any], voice: Voice, files: Sequence[Path], sent: Sentence) -> str:
    ident = {"kept": KEPT_VERSION, "provider": identity, "voice": voice.model_dump(mode="json"),
             "files": [file_ident(p) for p in files], "sentence": dataclasses.asdict(sent),
             "machine": platform.machine()}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:40]


def _path(key: str) -> Path:
    return folder() / key[:2] / f"{key}.npz"


def read(key: str) -> Chunk | None:
    path = _path(key)
    try:
        with np.load(path, allow_pickle=False) as data:
            audio = np.array(data["audio"], dtype=np.float32)
            sample_rate = int(data["sample_rate"])
            words_json = str(data["words"])
        words = json.loads(words_json)
        chunk = Chunk(audio, sample_rate, None if words is None else [Word(**w) for w in words])
    except FileNotFoundError:
        return None
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:  # torn or foreign
        log.info("kept sentence %s unreadable (%s): spoken again", key, type(exc).__name__)
        path.unlink(missing_ok=True)
        return None
    try:
        os.utime(path)  # recently used: pruned last
    except OSError:
        pass
    return chunk


def write(key: str, chunk: Chunk) -> None:
    path = _path(key)
    words = None if chunk.words is None else [w.model_dump(mode="json") for w in chunk.words]
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.npz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(tmp, audio=np.asarray(chunk.audio, dtype=np.float32), sample_rate=np.int64(chunk.sample_rate),
                 words=np.str_(json.dumps(words)))
        os.replace(tmp, path)  # whole or not at all
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        log.info("sentence not kept (%s): spoken again next time", exc)


def prune(limit: int = KEEP_BYTES) -> int:
    """Remove the least recently used kept sentences until they fit ``limit`` bytes; how many went."""
    files = []
    for path in folder().glob("*/*.npz"):
        try:
            st = path.stat()
        except OSError:
            continue
        files.append((st.st_mtime_ns, st.st_size, path))
    total = sum(size for _, size, _ in files)
    gone = 0
    for _, size, path in sorted(files):
        if total <= limit:
            break
        path.unlink(missing_ok=True)
        total -= size
        gone += 1
    return gone


_written = 0


def kept_sentences(synth: SynthLine, identity: dict[str, Any], files_of: Callable[[Voice], Sequence[Path]],
                   packages: Sequence[str] = ()) -> SynthLine:
    """``synth`` with each sentence kept (see the module's doc). ``files_of(voice)``: the
    files its samples come from (a model and its config); ``packages``: whose versions
    decide them. ``synth`` must give one chunk per sentence, each made alone."""
    ident = {**identity, "packages": _versions(tuple(packages))}

    def synth_kept(line: SpeechLine, voice: Voice, sents: list[Sentence]) -> list[Chunk]:
        global _written
        files = files_of(voice)
        keys = [sentence_key(ident, voice, files, s) for s in sents]
        found = [read(k) for k in keys]
        missing = [i for i, c in enumerate(found) if c is None]
        if not missing:
            return [c for c in found if c is not None]
        made = synth(line, voice, [sents[i] for i in missing])
        if len(made) != len(missing):  # not one chunk a sentence: nothing to keep
            return made if len(missing) == len(sents) else synth(line, voice, sents)
        for i, chunk in zip(missing, made):
            found[i] = chunk
            write(keys[i], chunk)
        _written += len(missing)
        if _written >= PRUNE_EVERY:
            _written = 0
            prune()
        return [c for c in found if c is not None]

    return synth_kept
