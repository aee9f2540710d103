"""Throughput of 1 vs 2 worker processes on a stage that waits on I/O.

The picture stage here is a remote provider (httpx) against a slow local HTTP
server that answers each request after --delay seconds, like an image API.
The other stages are the tests' tiny fake providers. Each run gets a fresh
data dir (SQLite, store) and the embedded Redis, starts `deepflix worker`
processes, waits until they are up, then submits --films films of 2 scenes and
times them to the end.

    python bench/workers.py [--films 12] [--delay 0.5]

This file is also the plugin module the worker processes load (DEEPFLIX_PLUGINS=workers).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from deepflix.errors import ProviderUnavailable
from deepflix.hookspecs import hookimpl
from deepflix.models import PictureRequest, PictureResult
from deepflix.picture.base import PictureProvider

ROOT = Path(__file__).resolve().parents[1]


class RemotePicture(PictureProvider):
    """A picture from a slow HTTP service (BENCH_SLOW_URL)."""

    provider_id = "bench/remote-picture"

    def generate(self, request: PictureRequest, ctx):  # type: ignore[no-untyped-def]
        url = os.environ["BENCH_SLOW_URL"]
        try:
            r = httpx.get(url, params={"scene": request.scene_index, "seed": request.params.seed}, timeout=30)
            r.raise_for_status()
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"slow picture service: {exc}") from exc
        (ctx.out_dir / "picture.png").write_bytes(r.content)
        return PictureResult(image="picture.png", width=request.width, height=request.height)


@hookimpl
def register_picture_providers(register):  # type: ignore[no-untyped-def]
    register(RemotePicture)


def slow_server(delay: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            body = f"PNG for {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def run(processes: int, films: int, url: str) -> float:
    """Seconds for `films` films with `processes` single-thread worker processes."""
    from deepflix.core import config
    from deepflix.db import dispose_engines, migrate, read_session, session_scope
    from deepflix.jobs.broker import reset_broker
    from deepflix.jobs.reconciler import workers_online
    from deepflix.jobs.redis_server import start_embedded_redis, stop_embedded_redis
    from deepflix.jobs.worker import load_plugins
    from deepflix.service import movies

    data = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    env = {
        "DEEPFLIX_DATA_DIR": str(data), "BENCH_SLOW_URL": url, "DEEPFLIX_OWNER_INFLIGHT": "1000",
        "DEEPFLIX_PLUGINS": "jobs_fake_providers,workers", "DEEPFLIX_REDIS_NAMESPACE": f"bench{uuid.uuid4().hex[:6]}",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "jobs"), str(ROOT / "bench")]),
    }
    os.environ.pop("REDIS_URL", None)
    os.environ.update(env)
    config.reload_settings()
    env["REDIS_URL"] = os.environ["REDIS_URL"] = start_embedded_redis(data)
    config.reload_settings()
    migrate()
    load_plugins()
    proc = subprocess.Popen([sys.executable, "-m", "deepflix", "worker", "--queues", "gpu,cpu", "--processes",
                             str(processes), "--threads", "1"], env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while len(workers_online()) < processes:  # warm: imports and plugins loaded
            time.sleep(0.2)
        import jobs_fake_providers as fakes

        t0 = time.perf_counter()
        with session_scope() as s:
            ids = [movies.submit_movie(s, f"user{i % 3}", prompt=f"bench film {i}", num_sequences=2, seed=i,
                                        resolution="360p", providers={**fakes.FAKES, "picture": "bench/remote-picture"}).id
                   for i in range(films)]
        while True:
            with read_session() as s:
                statuses = [movies.get_movie(s, f"user{i % 3}", mid).status for i, mid in enumerate(ids)]  # type: ignore[union-attr]
            if all(st in ("succeeded", "failed") for st in statuses):
                break
            time.sleep(0.05)
        took = time.perf_counter() - t0
        assert statuses.count("succeeded") == films, statuses
        return took
    finally:
        proc.terminate()
        proc.wait(60)
        reset_broker()
        stop_embedded_redis()
        dispose_engines()
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--films", type=int, default=12)
    p.add_argument("--delay", type=float, default=0.5, help="seconds the picture service takes per picture")
    a = p.parse_args()
    sys.path[:0] = [str(ROOT / "tests" / "jobs"), str(ROOT / "bench")]
    srv = slow_server(a.delay)
    url = f"http://127.0.0.1:{srv.server_port}/picture"
    times = {n: run(n, a.films, url) for n in (1, 2)}
    pictures = 2 * a.films
    for n, t in times.items():
        print(f"{n} worker process(es): {a.films} films ({pictures} pictures at {a.delay}s each) in {t:.2f}s "
              f"= {a.films / t:.2f} films/s")
    print(f"speed-up with 2 processes: {times[1] / times[2]:.2f}x")


if __name__ == "__main__":
    main()
