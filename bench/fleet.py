"""One long film made by a fleet: 1 worker against 2, their segments spread over them.

The fleet is the real one: `deepflix serve --no-workers` (the gateway and the
reconciler), `deepflix worker` processes, this machine's PostgreSQL (a fresh
database per run) and Redis (a namespace of its own per run), and a SeaweedFS S3
store started here as the fleet tests start it (tests/jobs/fleet_services.py).
One film goes in through the REST API with the built-in offline providers
(planner story, illustrator pictures, Piper speech unless --speech, composer
score) and is timed from the POST to `succeeded`.

Modes:
- ``pinned``: one core per worker machine, simulated. Each worker is its own
  `deepflix worker --processes 1 --threads 1`, pinned to a core of its own
  (sched_setaffinity, inherited by its ffmpegs) with DEEPFLIX_ENCODER_THREADS=1,
  so a worker uses one core, as a 1-core machine would. 1 worker on core 0, then
  2 on cores 0 and 1.
- ``plain``: this machine as it is: `deepflix worker --processes N --threads 1`,
  no pinning, x264's own threads (two processes share both cores).

Printed per run: wall, the CPU seconds of the workers (and their ffmpegs) and of
the gateway, the machine's load average, how many segments (and stages) each
worker made, the segment phase's span, and peak RSS (sampled from /proc every
0.25 s) of each worker process with its ffmpeg children, and of all of them at
once. Then each mode's ratio, and what the 1-worker run's stage seconds say for N
machines (scenes are independent; the plan lets segments spread).

    python bench/fleet.py --scenes 40               # ~10 minutes of 1080p film (34 made 518 s)
    python bench/fleet.py --scenes 8 --modes pinned  # a short check
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "jobs"))  # fleet_services: the services the fleet tests use

from fleet_services import REDIS, ensure_redis, pg_database, s3_ready, seaweedfs  # noqa: E402

PROMPT = "A lighthouse keeper finds a message in a bottle"
BUCKET = "deepflix-bench"
TICK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- /proc


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _parents() -> dict[int, int]:
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and (st := _stat(int(d.name))) is not None:
            out[int(d.name)] = int(st[1])
    return out


def _tree(root: int, parents: dict[int, int]) -> list[int]:
    kids: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def _cpu_s(pids: list[int]) -> float:
    """utime+stime of these processes and of their reaped children (an ffmpeg that ended)."""
    total = 0
    for p in pids:
        st = _stat(p)
        if st is not None:
            total += sum(int(x) for x in st[11:15])
    return total / TICK


def _machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (every process, ours and others')."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(f) - f[3] - f[4]) / TICK  # all but idle and iowait


@dataclass
class Sampler:
    """Peak RSS of each worker process's tree (it and its ffmpegs) and of all at once."""

    roots: list[int]
    peak_each: dict[int, int] = field(default_factory=dict)  # worker pid -> kB (it and its children)
    peak_python: int = 0  # kB, the largest worker process alone
    peak_children: int = 0  # kB, the largest sum of one worker's children (its ffmpegs)
    peak_all: int = 0
    samples: list[tuple[float, int, int, int]] = field(default_factory=list)  # (time, pid, python kB, children kB)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(0.25):
            parents = _parents()
            every = [p for r in self.roots for p in _tree(r, parents)]
            workers = [p for p in every if "deepflix.jobs.worker" in _cmdline(p)]
            now = time.time()
            for w in workers:
                own, kids = _rss_kb(w), sum(_rss_kb(p) for p in _tree(w, parents) if p != w)
                self.samples.append((now, w, own, kids))
                self.peak_each[w] = max(self.peak_each.get(w, 0), own + kids)
                self.peak_python, self.peak_children = max(self.peak_python, own), max(self.peak_children, kids)
            self.peak_all = max(self.peak_all, sum(_rss_kb(p) for p in every))

    def by_stage(self, rows: Sequence[Any]) -> dict[str, float]:
        """Peak MB of the worker (and its children) while it ran each kind of stage."""
        out: dict[str, float] = {}
        for row in rows:
            if not (row.worker and row.started_at and row.finished_at):
                continue
            pid, t0, t1 = int(row.worker.split(":")[1]), row.started_at.timestamp(), row.finished_at.timestamp()
            kb = max((own + kids for t, p, own, kids in self.samples if p == pid and t0 <= t <= t1), default=0)
            out[row.name] = max(out.get(row.name, 0.0), kb / 1024)
        return out


# --------------------------------------------------------------------------- one run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, ok: Any, timeout: float, procs: list[subprocess.Popen[bytes]], logs: Path) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        dead = [p for p in procs if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            tails = "\n".join(f.read_text(errors="replace")[-2000:] for f in sorted(logs.glob("*.log")))
            raise RuntimeError(f"{what}: {'a process exited' if dead else 'timed out'}\n{tails}")
        time.sleep(0.2)


def _film_seconds(api: httpx.Client, url: str, out: Path) -> float:
    """The finished film's length, from the file the API serves."""
    from deepflix.cut.ffmpeg.probe import probe

    with api.stream("GET", url) as r, out.open("wb") as f:
        r.raise_for_status()
        for chunk in r.iter_bytes(1 << 20):
            f.write(chunk)
    seconds = probe(out).duration
    out.unlink()
    return float(seconds)


def run_once(mode: str, n: int, a: argparse.Namespace, s3: str, tmp: Path) -> dict[str, Any]:
    from sqlalchemy import create_engine, func, select

    from deepflix.db.models import Stage

    ns = f"bench{uuid.uuid4().hex[:8]}"
    data = tmp / f"{mode}-{n}"
    data.mkdir()
    with pg_database() as db_url:
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS, "DEEPFLIX_REDIS_NAMESPACE": ns,
               "DEEPFLIX_STORAGE": "s3", "S3_ENDPOINT_URL": s3, "S3_BUCKET": BUCKET, "S3_PREFIX": f"{ns}/",
               "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "DEEPFLIX_DATA_DIR": str(data),
               "DEEPFLIX_SPEECH_PROVIDER": a.speech, "PORT": str(port), "DEEPFLIX_RATE_PER_MINUTE": "100000",
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        env.pop("DEEPFLIX_ENCODER_THREADS", None)
        dfx = [sys.executable, "-m", "deepflix"]
        key = subprocess.run([*dfx, "keys", "create", "--user", "bench"], env=env, check=True, capture_output=True,
                             text=True).stdout.strip().splitlines()[-1]
        procs: list[subprocess.Popen[bytes]] = []

        def spawn(name: str, cmd: list[str], extra: dict[str, str] | None = None,
                  core: int | None = None) -> subprocess.Popen[bytes]:
            log = open(data / f"{name}.log", "wb")  # noqa: SIM115 (the process writes it until it stops)
            pin = (lambda: os.sched_setaffinity(0, {core})) if core is not None else None  # inherited by its ffmpegs
            p = subprocess.Popen(cmd, env={**env, **(extra or {})}, stdout=log, stderr=subprocess.STDOUT,
                                 preexec_fn=pin, start_new_session=True)
            procs.append(p)
            return p

        gateway = spawn("gateway", [*dfx, "serve", "--no-workers", "--plain-logs"])
        if mode == "pinned":
            workers = [spawn(f"worker{i}", [*dfx, "worker", "--queues", "gpu,cpu", "--processes", "1", "--threads", "1",
                                            "--no-reconcile"], {"DEEPFLIX_ENCODER_THREADS": "1"}, core=i)
                       for i in range(n)]
        else:
            workers = [spawn("workers", [*dfx, "worker", "--queues", "gpu,cpu", "--processes", str(n), "--threads", "1",
                                         "--no-reconcile"])]
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=60)
        engine = create_engine(db_url)
        try:
            def ready() -> bool:
                try:
                    if api.get("/api/health").status_code != 200:
                        return False
                except httpx.HTTPError:
                    return False
                import redis

                r = redis.Redis.from_url(REDIS)
                return sum(1 for _ in r.scan_iter(match=f"{ns}:jobs:worker:*")) >= n

            _wait("the fleet starting", ready, 120, procs, data)
            sampler = Sampler([p.pid for p in workers])
            th = threading.Thread(target=sampler.run, daemon=True)
            th.start()
            load0, busy0 = os.getloadavg()[0], _machine_busy_s()
            t0 = time.perf_counter()
            r = api.post("/api/movies", json={"prompt": PROMPT, "num_sequences": a.scenes, "seed": a.seed,
                                              "resolution": a.resolution})
            r.raise_for_status()
            mid = r.json()["id"]
            loads = [load0]
            status: dict[str, Any] = {}

            def done() -> bool:
                nonlocal status
                status = api.get(f"/api/movies/{mid}").json()
                loads.append(os.getloadavg()[0])
                return status.get("status") in ("succeeded", "failed", "cancelled")

            _wait("the film", done, a.timeout, procs, data)
            wall = time.perf_counter() - t0
            busy = _machine_busy_s() - busy0
            parents = _parents()
            cpu_workers = _cpu_s([p for w in workers for p in _tree(w.pid, parents)])
            cpu_gateway = _cpu_s(_tree(gateway.pid, parents))
            sampler.stop.set()
            th.join()
            if status.get("status") != "succeeded":
                raise RuntimeError(f"film {status.get('status')}: {status.get('error')}")
            film_s = _film_seconds(api, status["urls"]["video"], data / "film.mp4")
            with engine.connect() as c:
                rows = c.execute(select(Stage.name, Stage.worker, Stage.started_at, Stage.finished_at, Stage.seconds,
                                        Stage.scene)).all()
                attempts = c.execute(select(func.sum(Stage.attempts))).scalar()
        finally:
            api.close()
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
            engine.dispose()
            if a.logs:  # the gateway's and workers' logs, kept past the run's temporary folder
                a.logs.mkdir(parents=True, exist_ok=True)
                for f in data.glob("*.log"):
                    shutil.copyfile(f, a.logs / f"{mode}-{n}-{f.name}")
            import redis

            rc = redis.Redis.from_url(REDIS)
            for k in rc.scan_iter(match=f"{ns}:*", count=500):
                rc.delete(k)
    segs = [x for x in rows if x.name == "segment"]
    def proc(worker: str | None) -> str:  # host:pid (the row says host:pid:thread)
        return ":".join(str(worker).split(":")[:2])

    per_worker = Counter(proc(x.worker) for x in segs)
    stages_per_worker = Counter(proc(x.worker) for x in rows)
    seconds: dict[str, float] = {}
    for row in rows:
        seconds[row.name] = seconds.get(row.name, 0.0) + float(row.seconds or 0.0)
    walls: dict[str, float] = {}  # the time each kind of stage held a worker, all its rows together
    for row in rows:
        if row.started_at and row.finished_at:
            walls[row.name] = walls.get(row.name, 0.0) + (row.finished_at - row.started_at).total_seconds()
    seg_span = (max(x.finished_at for x in segs) - min(x.started_at for x in segs)).total_seconds()
    return {"mode": mode, "workers": n, "wall": wall, "cpu_workers": cpu_workers, "cpu_gateway": cpu_gateway,
            "machine_busy": busy, "load": (min(loads), max(loads)), "segments": len(segs),
            "segments_per_worker": dict(per_worker), "stages_per_worker": dict(stages_per_worker),
            "segment_span": seg_span, "stage_seconds": seconds, "attempts": attempts,
            "peak_worker_mb": {str(k): v / 1024 for k, v in sampler.peak_each.items()},
            "peak_all_mb": sampler.peak_all / 1024, "peak_python_mb": sampler.peak_python / 1024,
            "peak_children_mb": sampler.peak_children / 1024, "peak_by_stage_mb": sampler.by_stage(rows),
            "stage_walls": walls, "film_s": film_s}


def report(r: dict[str, Any]) -> None:
    spread = ", ".join(f"{v}" for v in sorted(r["segments_per_worker"].values(), reverse=True))
    peaks = ", ".join(f"{v:.0f}" for v in sorted(r["peak_worker_mb"].values(), reverse=True))
    print(f"{r['mode']:>6} x{r['workers']}: {r['film_s']:.0f} s of film | wall {r['wall']:7.1f} s | CPU workers {r['cpu_workers']:7.1f} s, "
          f"gateway {r['cpu_gateway']:5.1f} s, machine busy {r['machine_busy']:7.1f} s | load {r['load'][0]:.1f}-"
          f"{r['load'][1]:.1f} | segments per worker {spread} (of {r['segments']}), segment phase "
          f"{r['segment_span']:.1f} s | peak RSS per worker (+ffmpeg) {peaks} MB (python alone "
          f"{r['peak_python_mb']:.0f}, its children {r['peak_children_mb']:.0f}), all workers {r['peak_all_mb']:.0f} MB",
          flush=True)
    by = ", ".join(f"{k} {v:.0f}" for k, v in sorted(r["peak_by_stage_mb"].items(), key=lambda kv: -kv[1]))
    print(f"         peak RSS of a worker while running: {by} MB", flush=True)


def n_machines(r1: dict[str, Any], n_scenes: int) -> None:
    """Amdahl from the 1-worker run: per-scene stages spread, film-wide ones do not."""
    sec = r1["stage_walls"]  # one worker, one thread: its stages ran one at a time
    serial = sum(v for k, v in sec.items() if k in ("story", "score", "cut"))
    spread = sum(v for k, v in sec.items() if k not in ("story", "score", "cut"))
    other = max(0.0, r1["wall"] - serial - spread)  # between stages: queue hops, the database, the store
    print(f"  from its stages' walls: film-wide (story, score, cut+QA) {serial:.1f} s, per scene (speech, "
          f"pictures, cast, segments) {spread:.1f} s, between stages {other:.1f} s; with N one-core machines "
          f"the film-wide part stays, the rest divides (at most one machine a scene):")
    for m in sorted({2, 4, 8, 16, n_scenes}):
        t = serial + (spread + other) / min(m, n_scenes)
        print(f"  N={m:>2} one-core machines: ~{t:.0f} s, {r1['wall'] / t:.2f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenes", type=int, default=40)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--resolution", default="1080p")
    p.add_argument("--speech", default="piper/joe")
    p.add_argument("--modes", default="pinned,plain", help="pinned, plain or both")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--logs", type=Path, help="keep the gateway's and workers' logs in this folder")
    a = p.parse_args()
    ensure_redis()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as t:
        tmp = Path(t)
        with seaweedfs(tmp) as sw:
            s3_ready(sw.endpoint, BUCKET)
            for mode in a.modes.split(","):
                pair = []
                for n in (1, 2):
                    r = run_once(mode, n, a, sw.endpoint, tmp)
                    report(r)
                    pair.append(r)
                    results.append(r)
                one, two = pair
                print(f"{mode}: 2 workers {one['wall'] / two['wall']:.2f}x faster than 1 "
                      f"(segment phase {one['segment_span'] / two['segment_span']:.2f}x)", flush=True)
                if mode == "pinned":
                    n_machines(one, a.scenes)
    if a.json:
        a.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
