"""Issue 17, the gateway's share: bodies refused before they are read (2), no public
default secret off loopback and capped link expiry (3), progress streams capped per
key and one poll per film (5), no open redirect after sign-in (8), no secrets in the
access log (9), /metrics cached and optionally behind a token (11), a private data
folder as `serve` leaves it (13).

Each test runs against a real uvicorn on 127.0.0.1 (port 0) where the wire matters,
and the gateway's database is SQLite and, marked `fleet`, PostgreSQL."""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Gateway, finished_movie, gateway_settings, make_gateway

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "jobs"))  # fleet_services: the machine's PostgreSQL
sys.path.insert(0, str(HERE.parent / "web"))  # web_harness: uvicorn in a thread, Chromium

from web_harness import free_port, serve

SSE = {"deepflix_sse_max_seconds": 30.0, "deepflix_sse_poll_seconds": 0.1}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.fleet)])
def hgw(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp(f"hgw-{request.param}")
    if request.param == "sqlite":
        yield from make_gateway(tmp, **SSE)
        return
    from fleet_services import pg_database

    with pg_database() as url:
        yield from make_gateway(tmp, db_url=url, **SSE)


@pytest.fixture(scope="module")
def live(hgw: Gateway) -> Iterator[str]:
    """The same app behind a real HTTP server (the TestClient never sends chunked bodies)."""
    with serve(hgw.client.app) as url:
        yield url


def _raw(url: str, head: bytes, body_chunks: list[bytes] = (), timeout: float = 10.0) -> bytes:  # type: ignore[assignment]
    """Send a request by hand; return what the server answered first (b"" when it
    answered nothing within ``timeout``: it was still reading the body)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        try:
            s.sendall(head)
            for chunk in body_chunks:
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: read what it said
        try:
            return s.recv(65536)
        except TimeoutError:
            return b""


# ---- 2: request bodies

def test_declared_large_body_is_refused_before_it_is_read(live: str) -> None:
    head = (b"POST /api/movies HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 157286400\r\n\r\n")  # 150 MB promised, none sent, no key
    answer = _raw(live, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"larger than this server accepts" in answer


@pytest.mark.parametrize("with_key", [False, True])
def test_chunked_body_is_counted_and_stopped_at_the_limit(hgw: Gateway, live: str, with_key: bool) -> None:
    key = f"X-API-Key: {hgw.keys['alice']}\r\n".encode() if with_key else b""
    head = (b"POST /api/movies HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" + key
            + b"Transfer-Encoding: chunked\r\n\r\n")
    piece = b"x" * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * 24  # 1.5 MB and the body never ends
    answer = _raw(live, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_uploads_have_their_own_larger_limit(hgw: Gateway, live: str) -> None:
    two_mb = b"-" * (2 * 1024 * 1024)
    r = httpx.post(f"{live}/api/movies", content=two_mb, headers={"Content-Type": "multipart/form-data; boundary=z"})
    assert r.status_code == 401  # under DEEPFLIX_MAX_UPLOAD_BYTES: on to the key check
    r = httpx.post(f"{live}/api/movies", content=two_mb, headers={"Content-Type": "application/json"})
    assert r.status_code == 413  # over DEEPFLIX_MAX_BODY_BYTES
    head = (b"POST /api/movies HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=z\r\n"
            b"Content-Length: 31457280\r\n\r\n")
    assert _raw(live, head).startswith(b"HTTP/1.1 413")
    ok = hgw.client.post("/api/movies", json={"prompt": "a small body", "num_sequences": 1}, headers=hgw.h("bob"))
    assert ok.status_code == 202, ok.text


# ---- 3: signed links and the secret

def test_a_link_with_an_expiry_far_ahead_is_refused(hgw: Gateway, tmp_path: Path) -> None:
    from deepflix.security import links

    mid, _files = finished_movie(hgw, "alice", tmp_path)
    url = hgw.client.get(f"/api/movies/{mid}", headers=hgw.h("alice")).json()["urls"]["video"]
    assert hgw.client.get(url).status_code == 200  # the link as handed out works
    far = int(time.time()) + 10 * 365 * 86400
    forged = f"{far}.{links._mac(mid, 'video', 'alice', far)}"  # right MAC, expiry in ten years
    r = hgw.client.get(f"/api/movies/{mid}/video?token={forged}")
    assert r.status_code == 401, r.status_code
    assert not links.check(forged, mid, "video", "alice")


def _env_without_secret(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEEPFLIX_SECRET_KEY", "REDIS_URL", "DATABASE_URL")}
    import deepflix

    env.update(DEEPFLIX_DATA_DIR=str(data), PYTHONPATH=str(Path(deepflix.__file__).parents[1]))  # the code under test
    return env


def test_serve_off_loopback_makes_a_private_secret_and_a_private_data_folder(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """As the Dockerfile runs it: `serve --host 0.0.0.0` with no DEEPFLIX_SECRET_KEY."""
    from deepflix.core.config import Settings

    data = tmp_path / "data"
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "deepflix", "serve", "--host", "0.0.0.0", "--port", str(port),
                             "--no-workers", "--plain-logs"], env=_env_without_secret(data),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.2)
        secret = data / "secret_key"
        assert secret.is_file(), "serve off loopback kept the public default secret"
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        kept = secret.read_text().strip()
        assert len(kept) >= 32 and kept != "changethis"
        # every process on this data folder (`deepflix keys create`, ...) reads the same secret
        monkeypatch.delenv("DEEPFLIX_SECRET_KEY", raising=False)  # as in a process where it is not set
        assert Settings(deepflix_data_dir=data).deepflix_secret_key.get_secret_value() == kept
        # 13: the data folder as serve leaves it
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE((data / "deepflix.db").stat().st_mode) == 0o600
        redis_files = [p for p in (data / "redis").rglob("*") if p.is_file() and not p.is_socket()]
        assert any("appendonly" in p.name or p.parent.name.startswith("appendonly") for p in redis_files)
        for p in [data / "redis", data / "store", *(q for q in data.rglob("*") if q.is_dir())]:
            assert stat.S_IMODE(p.stat().st_mode) == 0o700, p
        for p in redis_files + [q for q in data.rglob("*") if q.is_file() and not q.is_socket()]:
            assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, p
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        proc.stderr.close()  # type: ignore[union-attr]


def test_loopback_keeps_the_default_and_an_explicit_secret_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deepflix.core import config
    from deepflix.security.secret import ensure_serving_secret, is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("example.org")
    monkeypatch.setenv("DEEPFLIX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEEPFLIX_SECRET_KEY", "an-operator-secret-of-some-length")
    config.reload_settings()
    try:
        assert not ensure_serving_secret("0.0.0.0")  # the operator's own secret stays
        monkeypatch.setenv("DEEPFLIX_SECRET_KEY", "changethis")
        config.reload_settings()
        assert not ensure_serving_secret("127.0.0.1")  # a laptop's keys keep working
        assert not (tmp_path / "secret_key").exists()
    finally:
        monkeypatch.undo()
        config.reload_settings()


# ---- 5: progress streams

def _submit(hgw: Gateway, user: str) -> str:
    r = hgw.client.post("/api/movies", json={"prompt": "watch me", "num_sequences": 1}, headers=hgw.h(user))
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


class _Stream:
    """An open progress stream on a raw socket, read in a thread (closing the socket
    ends the read at once, as a browser leaving the page does)."""

    def __init__(self, base: str, path: str, headers: dict[str, str]) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        head = f"GET {path} HTTP/1.1\r\nHost: t\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.sock.sendall(head.encode())
        self.data = b""
        while b"\r\n\r\n" not in self.data:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.data += chunk
        self.status = int(self.data.split(b" ", 2)[1]) if self.data else 0
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while chunk := self.sock.recv(65536):
                self.data += chunk
        except OSError:
            pass  # closed by the test

    @property
    def kinds(self) -> list[str]:
        return re.findall(r"^event: (\S+)$", self.data.decode(errors="replace"), re.MULTILINE)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(5)
        self.sock.close()


def test_streams_per_key_are_capped(hgw: Gateway, live: str) -> None:
    mid, other = _submit(hgw, "alice"), _submit(hgw, "bob")
    limit = getattr(hgw.client.app.state.api_settings, "deepflix_sse_max_streams_per_key", 4)  # type: ignore[attr-defined]
    assert limit == 4  # the documented default
    with httpx.Client(timeout=30) as c:
        opened = [_Stream(live, f"/api/movies/{mid}/events", hgw.h("alice")) for _ in range(limit)]
        try:
            assert [s.status for s in opened] == [200] * limit
            extra = c.get(f"{live}/api/movies/{mid}/events", headers=hgw.h("alice"))
            assert extra.status_code == 429 and int(extra.headers["Retry-After"]) >= 1
            assert "DEEPFLIX_SSE_MAX_STREAMS_PER_KEY" in extra.json()["detail"]
            bob = _Stream(live, f"/api/movies/{other}/events", hgw.h("bob"))  # another key is not affected
            assert bob.status == 200
            bob.close()
            opened.pop().close()  # a slot comes back when a stream ends
            deadline = time.monotonic() + 10
            while True:
                again = _Stream(live, f"/api/movies/{mid}/events", hgw.h("alice"))
                if again.status == 200 or time.monotonic() > deadline:
                    break
                again.close()
                time.sleep(0.1)
            assert again.status == 200
            opened.append(again)
        finally:
            for s in opened:
                s.close()


def test_listeners_of_a_film_share_one_poll(hgw: Gateway, live: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from deepflix.service import movies

    mid = _submit(hgw, "alice")
    calls: list[float] = []
    real = movies.events_after

    def counted(owner: str, movie_id: str, after: int, *a: Any, **kw: Any) -> Any:
        if movie_id == mid:
            calls.append(time.monotonic())
        return real(owner, movie_id, after, *a, **kw)

    monkeypatch.setattr(movies, "events_after", counted)
    streams = [_Stream(live, f"/api/movies/{mid}/events", hgw.h("alice")) for _ in range(4)]
    try:
        assert [s.status for s in streams] == [200] * 4
        time.sleep(0.5)  # all connected and caught up
        t0 = time.monotonic()
        time.sleep(1.5)
        window = [t for t in calls if t >= t0]
        # one poller sleeping 0.1 s between polls makes at most ~15 in 1.5 s; four own pollers ~60
        assert len(window) <= 1.5 / 0.1 + 4, len(window)
        assert all(s.kinds[:2] == ["submitted", "stage_queued"] for s in streams), [s.kinds for s in streams]
        assert hgw.client.post(f"/api/movies/{mid}/cancel", headers=hgw.h("alice")).status_code == 200
        deadline = time.monotonic() + 10
        while not all("end" in s.kinds for s in streams) and time.monotonic() < deadline:
            time.sleep(0.05)
        for s in streams:  # every listener got the live events, once each, then the end
            assert "movie_cancelled" in s.kinds and s.kinds[-1] == "end", s.kinds
            ids = [int(i) for i in re.findall(r"^id: (\d+)$", s.data.decode(errors="replace"), re.MULTILINE)][:-1]  # the end repeats the last
            assert ids == sorted(set(ids)), ids
    finally:
        for s in streams:
            s.close()
    resumed = hgw.client.get(f"/api/movies/{mid}/events?after=0", headers=hgw.h("alice")).text
    assert "event: movie_cancelled" in resumed and "event: end" in resumed  # a late listener still reads it all


# ---- 8: open redirect after sign-in

BAD_NEXT = ["/%5Chost.example", "/%09/host.example", "//host.example", "https://host.example/x",
            "/%5C%5Chost.example", "%2F%2Fhost.example", "/\\host.example", "/%0A/host.example",
            "javascript:alert(1)", "/%0D%0A//host.example"]


# The page's real script, run by Node with the few page objects it touches stood in
# (no browser on the test machines): Node's URL parser is the WHATWG one browsers use,
# so where `location.assign` would take the browser is computed as a browser would.
DRIVER = r"""
const raw = process.argv[2];
const site = new URL("http://site.test/signin?next=" + raw);
let assigned = null, submit = null;
const made = {};
globalThis.__el = (sel) => made[sel] ||= { value: "a-key", hidden: true, textContent: "", checked: false,
  setAttribute() {}, focus() {}, addEventListener(type, fn) { if (type === "submit") submit = fn; } };
globalThis.location = { search: site.search, origin: site.origin, href: site.href, assign(u) { assigned = u; } };
globalThis.fetch = async () => ({ ok: true, status: 200 });
await import("./signin.js");
await submit({ preventDefault() {} });
const to = assigned === null ? null : new URL(assigned, site.href);
console.log(JSON.stringify({ assigned, origin: to && to.origin, path: to && to.pathname + to.search }));
"""
STUBS = {
    "ui.js": "export const $ = (sel) => globalThis.__el(sel);\n",
    "api.js": ("export class ApiError extends Error {}\nexport const errorFrom = async () => new ApiError();\n"
               "export const root = \"\";\nexport function setKey() {}\n"),
    "package.json": '{"type": "module"}',
    "driver.js": DRIVER,
}


def _sign_in_goes_to(tmp: Path, raw_next: str) -> dict[str, Any]:
    import json
    import shutil

    import deepflix.web

    shutil.copy(Path(deepflix.web.__file__).parent / "static" / "js" / "signin.js", tmp / "signin.js")
    for name, text in STUBS.items():
        (tmp / name).write_text(text)
    out = subprocess.run(["node", str(tmp / "driver.js"), raw_next], capture_output=True, text=True, timeout=30, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is absent: apt-get install -y nodejs")
def test_sign_in_goes_only_to_paths_on_this_site(tmp_path: Path) -> None:
    for raw in BAD_NEXT:
        went = _sign_in_goes_to(tmp_path, raw)
        assert went["origin"] == "http://site.test" and went["path"] == "/films", (raw, went)
    went = _sign_in_goes_to(tmp_path, "/films%3Fpage%3D2")
    assert (went["origin"], went["path"]) == ("http://site.test", "/films?page=2")  # a path here is kept
    went = _sign_in_goes_to(tmp_path, "/films/abc-123")
    assert went["path"] == "/films/abc-123"


# ---- 9: no secrets in the access log

def test_access_log_redacts_tokens_and_keys(hgw: Gateway) -> None:
    import uvicorn

    from deepflix.api.logs import configure_json_logging

    names = ("deepflix", "uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate) for n in names}
    buf = io.StringIO()
    port = free_port()
    config = uvicorn.Config(hgw.client.app, host="127.0.0.1", port=port, log_config=None, access_log=True, lifespan="off")
    configure_json_logging(stream=buf)  # as `deepflix serve` does
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        httpx.get(f"{base}/api/movies/x1/video?token=1999999999.0123456789abcdef0123456789abcdef&download=1")
        httpx.get(f"{base}/api/movies?limit=1&api_key=df_SuperSecretKey123")
        httpx.get(f"{base}/api/movies?Key=AnotherSecret&X-Amz-Signature=deadbeef")
    finally:
        server.should_exit = True
        thread.join(30)
        for n, (handlers, level, propagate) in saved.items():
            lg = logging.getLogger(n)
            lg.handlers[:], lg.propagate = handlers, propagate
            lg.setLevel(level)  # (setLevel, not .level =: it clears logging's isEnabledFor cache)
    text = buf.getvalue()
    assert "/api/movies/x1/video" in text and "download=1" in text and "limit=1" in text  # the access log is there
    for secret in ("0123456789abcdef0123456789abcdef", "df_SuperSecretKey123", "AnotherSecret", "deadbeef"):
        assert secret not in text, secret
    assert "token=[redacted]" in text and "api_key=[redacted]" in text


# ---- 11: /metrics

def test_metrics_are_cached_and_can_need_a_token(hgw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from deepflix.api.main import create_app
    from deepflix.api.settings import ApiSettings

    snaps: list[float] = []
    from deepflix.jobs import stats

    real = stats.metrics_snapshot

    def counted(buckets: tuple[float, ...]) -> Any:
        snaps.append(time.monotonic())
        return real(buckets)

    monkeypatch.setattr(stats, "metrics_snapshot", counted)
    app = create_app(ApiSettings(**gateway_settings(deepflix_metrics_token="scrape-me-please",
                                                    deepflix_metrics_cache_seconds=30.0)))  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/metrics", headers=hgw.h("alice")).status_code == 401  # an API key is not the token
        texts = [c.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"}) for _ in range(5)]
        assert all(r.status_code == 200 for r in texts)
        assert "deepflix_jobs_metrics_up 1.0" in texts[0].text
        assert len(snaps) == 1, len(snaps)  # five scrapes, one computation
    plain = create_app(ApiSettings(**gateway_settings(deepflix_metrics_cache_seconds=0.0)))  # type: ignore[arg-type]
    with TestClient(plain) as c:
        assert c.get("/metrics").status_code == 200  # no token set: open, as before
