"""Load on the gateway: 200 concurrent clients on 127.0.0.1.

Starts `uvicorn deepflix.api.main:create_app` (--workers processes) on a free local port
with a fresh SQLite database and a private Redis (the job queue; no worker runs,
so submitted films wait in the queue and nothing is made), gives each client its
own user and API key, then:

  1. every client submits films (POST /api/movies),
  2. every client reads its film's status again and again (GET /api/movies/{id}),

and prints p50/p95/p99 latency of each, the throughput, and the error count
(anything but 202 / 200, or a failed connection). Bounded: a fixed number of
requests, then it stops the server and exits.

    pip install -e ".[bench]"   # aiohttp, the load generator
    python bench/api_load.py [--clients 200] [--submits 2] [--reads 25] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_clients(base: str, keys: list[str], submits: int, reads: int) -> dict[str, object]:
    """The clients, as tasks on one event loop. aiohttp, not httpx: httpx spent ~6 ms of
    CPU per request here, so the load generator, not the gateway, set the latency."""
    import aiohttp

    sub_lat: list[float] = []
    read_lat: list[float] = []
    errors: dict[str, int] = {}

    def err(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    conn = aiohttp.TCPConnector(limit=len(keys) + 10, keepalive_timeout=120)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url=base, connector=conn, timeout=timeout) as client:
        start = asyncio.Event()

        async def one(key: str, i: int) -> None:
            h = {"X-API-Key": key}
            await start.wait()
            ids = []
            for n in range(submits):
                t0 = time.perf_counter()
                body = {"prompt": f"client {i} film {n}: a lighthouse in a storm", "num_sequences": 3}
                try:
                    async with client.post("/api/movies", headers=h, json=body) as r:
                        data = await r.json() if r.status == 202 else await r.read()
                except (TimeoutError, aiohttp.ClientError) as exc:
                    err(f"submit {type(exc).__name__}")
                    continue
                sub_lat.append(time.perf_counter() - t0)
                if r.status == 202:
                    ids.append(data["id"])  # type: ignore[index]
                else:
                    err(f"submit {r.status}")
            if not ids:
                return
            for n in range(reads):
                t0 = time.perf_counter()
                try:
                    async with client.get(f"/api/movies/{ids[n % len(ids)]}", headers=h) as r:
                        await r.read()
                except (TimeoutError, aiohttp.ClientError) as exc:
                    err(f"read {type(exc).__name__}")
                    continue
                read_lat.append(time.perf_counter() - t0)
                if r.status != 200:
                    err(f"read {r.status}")

        tasks = [asyncio.create_task(one(k, i)) for i, k in enumerate(keys)]
        t0 = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - t0
    return {"sub": sub_lat, "read": read_lat, "errors": errors, "wall": wall}


PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_NAME = "deepflix_load"


def fresh_postgres() -> str:
    """An empty database for the run (dropped and made again each time)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)"))
        c.execute(text(f"CREATE DATABASE {PG_NAME}"))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_NAME


def server_cpu(pid: int) -> float:
    """CPU seconds of the server and its worker processes (Linux /proc), 0 where unknown."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        for p in pids:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    except (OSError, ValueError, IndexError):
        return 0.0
    return total


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--submits", type=int, default=2, help="films each client submits")
    p.add_argument("--reads", type=int, default=25, help="status reads each client makes")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    p.add_argument("--postgres", action="store_true",
                   help="a fresh database on the local PostgreSQL (127.0.0.1:5432, as the fleet runs) instead of SQLite")
    a = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="deepflix-load-"))
    db_url = fresh_postgres() if a.postgres else f"sqlite:///{tmp / 'deepflix.db'}"
    env = {
        **os.environ,
        "DEEPFLIX_DATA_DIR": str(tmp),
        "DATABASE_URL": db_url,
        "DEEPFLIX_SECRET_KEY": "load-test-pepper",
        "DEEPFLIX_RATE_PER_MINUTE": "100000", "DEEPFLIX_RATE_BURST": "10000",
        "DEEPFLIX_MAX_CONCURRENT_JOBS": "1000", "DEEPFLIX_FILMS_PER_DAY": "100000",
    }
    env.pop("REDIS_URL", None)
    os.environ.update(env)
    from deepflix import db
    from deepflix.core import config
    from deepflix.jobs.redis_server import start_embedded_redis, stop_embedded_redis
    from deepflix.security import keys as keymod

    config.reload_settings()
    start_embedded_redis(tmp)  # the server finds it by its socket in the data dir
    db.migrate()
    with db.session_scope() as s:
        keys = [keymod.create_key(s, f"user{i:03d}")[0] for i in range(a.clients)]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "deepflix.api.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "error", "--no-access-log", "--backlog", "4096",
         # longer than any queueing delay here, so the client never reuses a connection the server just closed
         "--timeout-keep-alive", "120", "--workers", str(a.workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        import httpx

        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                print("server did not start:", (server.stderr.read() if server.stderr else b"")[-2000:].decode())
                return 1
            time.sleep(0.2)
        cpu0, mine0 = server_cpu(server.pid), time.process_time()
        res = asyncio.run(run_clients(base, keys, a.submits, a.reads))
        res["server_cpu"], res["client_cpu"] = server_cpu(server.pid) - cpu0, time.process_time() - mine0
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        stop_embedded_redis()
        shutil.rmtree(tmp, ignore_errors=True)

    sub, read = res["sub"], res["read"]  # type: ignore[assignment]
    assert isinstance(sub, list) and isinstance(read, list)
    errors = res["errors"]
    n_err = sum(errors.values()) if isinstance(errors, dict) else 0
    dbname = "PostgreSQL" if a.postgres else "SQLite"
    print(f"gateway load: {a.clients} concurrent clients, 127.0.0.1, {a.workers} uvicorn process(es), {dbname} + private Redis, "
          f"{os.cpu_count()} CPUs (shared machine: other work may be running)")
    for name, vals in (("submissions (POST /api/movies)", sub), ("status reads (GET /api/movies/{id})", read)):
        ms = [v * 1000 for v in vals]
        print(f"  {name:<38} n={len(ms):>5}  p50={pct(ms, .5):7.1f} ms  p95={pct(ms, .95):7.1f} ms  "
              f"p99={pct(ms, .99):7.1f} ms  mean={statistics.fmean(ms) if ms else float('nan'):7.1f} ms")
    total = len(sub) + len(read)
    print(f"  requests={total}  wall={res['wall']:.1f} s  throughput={total / float(res['wall']):.0f} req/s  "  # type: ignore[arg-type]
          f"errors={n_err} {errors if n_err else ''}")
    cpu = float(res.get("server_cpu", 0.0))  # type: ignore[arg-type]
    if cpu:
        print(f"  CPU: server {cpu:.1f} s = {cpu / total * 1000:.1f} ms per request; the clients, on the same "
              f"{os.cpu_count()} CPUs, {float(res['client_cpu']):.1f} s")  # type: ignore[arg-type]
    return 0 if n_err == 0 else 2


if __name__ == "__main__":
    raise SystemExit(main())
