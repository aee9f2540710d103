"""Fixtures for the job system: a private data dir, SQLite, the embedded Redis
(the real single-machine mode), the fake providers registered through the real
plugin hooks, and helpers to start worker processes and wait for films."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
TERMINAL = ("succeeded", "failed", "cancelled")

# short timeouts so a killed worker's message comes back in ~3 s, not ~40 s
FAST = {
    "DEEPFLIX_HEARTBEAT_TIMEOUT": "2",
    "DEEPFLIX_RECONCILE_INTERVAL": "0.5",
    "DEEPFLIX_RECONCILE_GRACE": "1",
    "DEEPFLIX_MIN_BACKOFF": "0.1",
    "DEEPFLIX_MAX_BACKOFF": "0.5",
    "DEEPFLIX_PLUGINS": "jobs_fake_providers",
    "DEEPFLIX_RETRIES": "0",
}


@dataclass
class JobsEnv:
    tmp: Path
    data: Path
    markers: Path
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def set(self, **values: str) -> None:
        """Change settings for this process and the worker processes started after."""
        from deepflix.core import config

        for k, v in values.items():
            os.environ[k] = v
            self.env[k] = v
        config.reload_settings()

    def spawn(self, *args: str, **extra_env: str) -> subprocess.Popen[bytes]:
        """Start `deepflix <args>` (e.g. worker --queues gpu) with this env."""
        env = {**os.environ, **self.env, **extra_env}
        log = open(self.tmp / f"proc-{len(self.procs)}.log", "wb")
        p = subprocess.Popen([sys.executable, "-m", "deepflix", *args], env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp.glob("proc-*.log")))


def wait_movie(movie_id: str, timeout: float = 60.0, owner: str = "alice") -> Any:
    from deepflix.db import read_session
    from deepflix.service import movies

    deadline = time.monotonic() + timeout
    while True:
        with read_session() as s:
            m = movies.get_movie(s, owner, movie_id)
            assert m is not None
            if m.status in TERMINAL:
                _ = list(m.stages)  # load them while the session is open
                return m
        if time.monotonic() > deadline:
            raise AssertionError(f"movie {movie_id} still {m.status} after {timeout} s")
        time.sleep(0.1)


def film_bytes(movie: Any) -> bytes:
    from deepflix.storage import open_store

    f = movie.result["files"]["movie"]
    return open_store().local_path(f["key"], f["name"]).read_bytes()


def make_reference(tmp: Path, prompt: str, scenes: int, seed: int, resolution: str = "360p") -> Any:
    """The same film made in process by pipeline.make_film, in a store of its own."""
    import jobs_fake_providers as fakes

    for k in ("JOBSTEST_HOLD", "JOBSTEST_SLEEP", "JOBSTEST_MARKERS"):  # no holding, no waiting
        os.environ.pop(k, None)
    from deepflix.models import GenerationParams, StoryRequest
    from deepflix.pipeline import FilmOptions, make_film
    from deepflix.storage import LocalStore

    opts = FilmOptions(resolution=resolution, params=GenerationParams(seed=seed), providers=fakes.FAKES)  # type: ignore[arg-type]
    return make_film(StoryRequest(prompt=prompt, num_scenes=scenes, seed=seed), opts=opts,
                     out_dir=tmp / f"ref-{seed}", store=LocalStore(tmp / f"ref-store-{seed}"))


def _env_for(tmp: Path, data: Path, markers: Path) -> dict[str, str]:
    pp = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {
        **FAST,
        "DEEPFLIX_DATA_DIR": str(data),
        "DEEPFLIX_REDIS_NAMESPACE": f"dft{uuid.uuid4().hex[:8]}",
        "PYTHONPATH": pp,
        "JOBSTEST_MARKERS": str(markers),
    }


@contextmanager
def _jobs_env(tmp_path: Path, extra: dict[str, str] | None = None) -> Iterator[JobsEnv]:
    """SQLite + the embedded Redis by default; ``extra`` may name DATABASE_URL, REDIS_URL, S3..."""
    from deepflix import plugins
    from deepflix.core import config
    from deepflix.db import dispose_engines, migrate
    from deepflix.jobs.broker import get_broker, reset_broker
    from deepflix.jobs.redis_server import start_embedded_redis, stop_embedded_redis
    from deepflix.jobs.worker import load_plugins

    saved = dict(os.environ)
    data, markers = tmp_path / "data", tmp_path / "markers"
    markers.mkdir()
    env = {**_env_for(tmp_path, data, markers), **(extra or {})}
    for k in ("REDIS_URL", "DATABASE_URL", "DEEPFLIX_STORAGE"):
        os.environ.pop(k, None)
    os.environ.update(env)
    sys.path.insert(0, str(HERE))
    config.reload_settings()
    load_plugins("jobs_fake_providers")
    embedded = "REDIS_URL" not in env
    if embedded:
        env["REDIS_URL"] = os.environ["REDIS_URL"] = start_embedded_redis(data)
        config.reload_settings()
    migrate()
    je = JobsEnv(tmp_path, data, markers, env)
    try:
        yield je
    finally:
        for p in je.procs:
            if p.poll() is None:
                p.terminate()
        for p in je.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if not embedded:  # a shared Redis: remove our namespace's keys
            client = get_broker().client
            for k in client.scan_iter(match=env["DEEPFLIX_REDIS_NAMESPACE"] + ":*", count=500):
                client.delete(k)
        reset_broker()
        if embedded:
            stop_embedded_redis()
        dispose_engines()
        mod = sys.modules.get("jobs_fake_providers")
        if mod is not None and plugins.pm.is_registered(mod):
            plugins.pm.unregister(mod)
        plugins.reset()
        sys.path.remove(str(HERE))
        os.environ.clear()
        os.environ.update(saved)
        config.reload_settings()


@pytest.fixture
def jobs_env(tmp_path: Path) -> Iterator[JobsEnv]:
    """SQLite + the embedded Redis in a private data dir; fake providers registered."""
    with _jobs_env(tmp_path) as je:
        yield je


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One SeaweedFS S3 server and bucket for a module's fleet tests (each test gets its own prefix)."""
    from fleet_services import s3_ready, seaweedfs

    with seaweedfs(tmp_path_factory.mktemp("weed")) as sw:
        s3_ready(sw.endpoint, "deepflix-test")
        yield sw


@pytest.fixture
def fleet_env(tmp_path: Path, seaweed: Any) -> Iterator[JobsEnv]:
    """PostgreSQL (a fresh database) and Redis of this machine, artifacts on SeaweedFS."""
    from fleet_services import REDIS, ensure_redis, pg_database

    ensure_redis()
    with pg_database() as db_url:
        extra = {"DATABASE_URL": db_url, "REDIS_URL": REDIS, "DEEPFLIX_STORAGE": "s3", "S3_ENDPOINT_URL": seaweed.endpoint,
                 "S3_BUCKET": "deepflix-test", "S3_PREFIX": f"t{uuid.uuid4().hex[:8]}/", "AWS_ACCESS_KEY_ID": "test",
                 "AWS_SECRET_ACCESS_KEY": "test", "S3_SSE": "AES256"}
        with _jobs_env(tmp_path, extra) as je:
            yield je


@pytest.fixture
def inproc_worker(jobs_env: JobsEnv) -> Iterator[Any]:
    """Worker threads and the reconciler in the test process (`deepflix serve`'s mode)."""
    from deepflix.jobs.broker import expand_queues
    from deepflix.jobs.worker import start_worker

    handle = start_worker(expand_queues("gpu,cpu"), threads=2, reconcile=True)
    try:
        yield handle
    finally:
        handle.stop(timeout=20)
