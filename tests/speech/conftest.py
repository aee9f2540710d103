"""A real HTTP server on 127.0.0.1 for the remote voices' wire formats, and settings swaps."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from deepflix.core import config


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut_at: int | None = None  # send only this many body bytes, then hang up (Content-Length says more)


class WireServer:
    """Answers each request with ``handler(seen) -> Reply``; keeps what it saw."""

    def __init__(self, handler: Callable[[Seen], Reply]) -> None:
        self.handler = handler
        self.seen: list[Seen] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                n = int(self.headers.get("content-length") or 0)
                seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(n))
                outer.seen.append(seen)
                reply = outer.handler(seen)
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                if reply.cut_at is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(reply.body if reply.cut_at is None else reply.body[: reply.cut_at])
                self.wfile.flush()
                if reply.cut_at is not None:
                    self.close_connection = True

            do_POST = _serve
            do_GET = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def wire() -> Iterator[Callable[[Callable[[Seen], Reply]], WireServer]]:
    servers: list[WireServer] = []

    def start(handler: Callable[[Seen], Reply]) -> WireServer:
        servers.append(WireServer(handler))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """env(NAME=value, ...) sets variables and re-reads the settings; undone after the test."""

    def set_env(**values: str | None) -> None:
        for k, v in values.items():
            if v is None:
                monkeypatch.delenv(k, raising=False)
            else:
                monkeypatch.setenv(k, v)
        config.reload_settings()

    yield set_env
    monkeypatch.undo()
    config.reload_settings()


def voiced(seconds: float, sr: int, f0: float = 140.0, seed: int = 0) -> np.ndarray:
    """Speech-like test audio: a harmonic tone in syllable-length bursts (what a server would send)."""
    t = np.arange(int(seconds * sr)) / sr
    tone = sum(np.sin(2 * np.pi * f0 * k * t + k) / k for k in range(1, 12))
    syllables = 0.5 + 0.5 * np.sin(2 * np.pi * 4.0 * t + seed) ** 2
    return (0.25 * tone / np.abs(tone).max() * syllables).astype(np.float32)


def pcm16(x: np.ndarray) -> bytes:
    return (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()


@pytest.fixture
def kit() -> Any:
    """Helpers for test files (conftest modules are not importable by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(voiced=voiced, pcm16=pcm16, Reply=Reply)
