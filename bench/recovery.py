"""How long a SIGKILLed worker's stage takes to run again, with the shipped
settings (DEEPFLIX_HEARTBEAT_TIMEOUT=30, DEEPFLIX_RECONCILE_INTERVAL=10).

Two worker processes; every fake provider waits inside its stage until told
to go; the bench kills the process holding a stage and times how long until
another process starts that stage again (its next marker appears).

    python bench/recovery.py [--trials 3] [--heartbeat 30] [--reconcile 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=3)
    p.add_argument("--heartbeat", type=float, default=None, help="DEEPFLIX_HEARTBEAT_TIMEOUT (default: shipped)")
    p.add_argument("--reconcile", type=float, default=None, help="DEEPFLIX_RECONCILE_INTERVAL (default: shipped)")
    a = p.parse_args()
    sys.path.insert(0, str(ROOT / "tests" / "jobs"))
    from deepflix.core import config
    from deepflix.db import migrate, session_scope
    from deepflix.jobs.reconciler import workers_online
    from deepflix.jobs.redis_server import start_embedded_redis, stop_embedded_redis
    from deepflix.jobs.settings import job_settings
    from deepflix.jobs.worker import load_plugins
    from deepflix.service import movies

    data = Path(tempfile.mkdtemp(prefix="bench-recovery-"))
    markers = data / "markers"
    markers.mkdir()
    env = {"DEEPFLIX_DATA_DIR": str(data), "DEEPFLIX_PLUGINS": "jobs_fake_providers", "JOBSTEST_HOLD": "1",
           "JOBSTEST_MARKERS": str(markers), "DEEPFLIX_REDIS_NAMESPACE": f"rec{uuid.uuid4().hex[:6]}",
           "PYTHONPATH": str(ROOT / "tests" / "jobs")}
    if a.heartbeat:
        env["DEEPFLIX_HEARTBEAT_TIMEOUT"] = str(a.heartbeat)
    if a.reconcile:
        env["DEEPFLIX_RECONCILE_INTERVAL"] = str(a.reconcile)
    os.environ.pop("REDIS_URL", None)
    os.environ.update(env)
    config.reload_settings()
    env["REDIS_URL"] = os.environ["REDIS_URL"] = start_embedded_redis(data)
    config.reload_settings()
    js = job_settings()
    print(f"heartbeat_timeout={js.heartbeat_timeout}s reconcile_interval={js.reconcile_interval}s "
          f"maintenance_chance={js.maintenance_chance}/1e6")
    migrate()
    load_plugins()
    proc = subprocess.Popen([sys.executable, "-m", "deepflix", "worker", "--processes", "2", "--threads", "1"],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import jobs_fake_providers as fakes

    results = []
    try:
        while len(workers_online()) < 2:
            time.sleep(0.2)
        for trial in range(a.trials):
            with session_scope() as s:
                movies.submit_movie(s, "bench", prompt=f"recovery {trial}", num_sequences=1, seed=trial,
                                     resolution="360p", providers=fakes.FAKES)
            while not (held := [m for m in markers.iterdir() if not m.name.endswith(".go")
                                and not m.with_name(m.name + ".go").exists()]):
                time.sleep(0.02)
            victim = held[0]
            stage, scene, pid = victim.name.split("-")
            os.kill(int(pid), signal.SIGKILL)
            victim.with_name(victim.name + ".go").touch()
            t0 = time.monotonic()
            while not [m for m in markers.glob(f"{stage}-{scene}-*") if m != victim and not m.name.endswith(".go")]:
                time.sleep(0.05)
            took = time.monotonic() - t0
            results.append(took)
            print(f"trial {trial + 1}: {stage} killed in pid {pid}; running again after {took:.1f} s")
            for m in markers.iterdir():  # let everything finish, then clear
                if not m.name.endswith(".go"):
                    m.with_name(m.name + ".go").touch()
            time.sleep(1.0)
            for m in markers.iterdir():
                m.unlink()
        print(f"recovery: min {min(results):.1f} s, max {max(results):.1f} s, mean {sum(results) / len(results):.1f} s")
    finally:
        proc.terminate()
        proc.wait(60)
        stop_embedded_redis()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
