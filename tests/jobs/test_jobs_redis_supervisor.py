"""Issue 17, finding 6: the embedded Redis is supervised. Killed, it is started
again (with its queue, from the append-only file); a second process on the same
data folder shares it without owning it, never stops it, and takes it over
only once the owner is gone; a socket that something else listens on is an
error and is left alone."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from deepflix.jobs import redis_server as rs


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"
    rs.stop_embedded_redis()


def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2)


def _wait(cond: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def _pid(url: str) -> int:
    return int(_client(url).info("server")["process_id"])


def _other_process(data: Path, then: str) -> subprocess.Popen[str]:
    """Another `deepflix` process on the same data folder: starts (or shares) the Redis,
    says 'ready <url> <owner>', then waits for a line on stdin and does ``then``."""
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from deepflix.jobs import redis_server as rs
        url = rs.start_embedded_redis(Path({str(data)!r}))
        print("ready", url, rs.embedded_redis().owner, flush=True)
        sys.stdin.readline()
        {then}
    """)
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "DEEPFLIX_REDIS_SUPERVISE_INTERVAL": "0.2"})


def test_a_killed_redis_is_restarted_with_its_queue(data: Path) -> None:
    url = rs.start_embedded_redis(data)
    c = _client(url)
    c.rpush("q", "message")
    time.sleep(1.2)  # appendfsync everysec
    first = _pid(url)
    os.kill(first, signal.SIGKILL)
    assert _wait(lambda: rs._alive(rs.default_socket(data)) and rs.embedded_redis().restarts == 1), \
        "the embedded Redis was not restarted"  # type: ignore[union-attr]
    assert _pid(url) != first
    assert c.lrange("q", 0, -1) == [b"message"]  # the queue came back from the append-only file


def test_a_second_process_shares_and_never_stops_it(data: Path) -> None:
    url = rs.start_embedded_redis(data)
    pid = _pid(url)
    other = _other_process(data, "rs.stop_embedded_redis()")
    assert other.stdout is not None
    line = other.stdout.readline().split()
    assert line == ["ready", url, "False"]  # shared, not owned
    other.communicate("go\n", timeout=20)
    assert other.returncode == 0
    assert _pid(url) == pid  # still the same server: the other process did not stop it
    rs.stop_embedded_redis()
    assert not rs._alive(rs.default_socket(data))  # ours to stop


def test_the_sharer_takes_over_when_the_owner_is_gone(data: Path) -> None:
    owner = _other_process(data, "rs.stop_embedded_redis()")
    assert owner.stdout is not None
    _, url, owns = owner.stdout.readline().split()
    assert owns == "True"
    assert rs.start_embedded_redis(data) == url
    assert not rs.embedded_redis().owner  # type: ignore[union-attr]
    owner.communicate("go\n", timeout=20)  # the owner stops its Redis and exits
    assert _wait(lambda: rs.embedded_redis().owner and rs._alive(rs.default_socket(data)))  # type: ignore[union-attr]
    assert rs.embedded_redis().process is not None  # type: ignore[union-attr]


def test_something_else_on_the_socket_is_an_error_and_left_alone(data: Path) -> None:
    sock_path = rs.default_socket(data)
    sock_path.parent.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as srv:
        srv.bind(str(sock_path))
        srv.listen(8)
        with pytest.raises(rs.EmbeddedRedisError, match="another program listens"):
            rs.start_embedded_redis(data, timeout=3)
        assert sock_path.exists()
    assert rs.embedded_redis() is None
