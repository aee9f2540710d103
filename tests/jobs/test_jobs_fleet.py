"""The fleet: PostgreSQL and Redis of this machine, SeaweedFS for artifacts,
gpu and cpu workers as separate processes."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import jobs_fake_providers as fakes
import pytest
from conftest import JobsEnv, film_bytes, make_reference, wait_movie
from test_jobs_fanin import storm

from deepflix.db import Movie, read_session, session_scope
from deepflix.jobs.stats import queue_stats
from deepflix.service import movies

pytestmark = pytest.mark.fleet


def test_migrations_match_the_models_on_postgres(fleet_env: JobsEnv) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from deepflix.db import current_revision, get_engine, head_revision, migrate
    from deepflix.db.base import Base

    assert current_revision() == head_revision() == migrate()  # at head; a second migrate is a no-op
    with get_engine().connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_fan_in_exactly_once_postgres(fleet_env: JobsEnv) -> None:
    fleet_env.set(DEEPFLIX_OWNER_INFLIGHT="1000")
    for _ in range(3):
        storm(6)


def test_s3_store_publishes_whole_and_encrypted(fleet_env: JobsEnv, seaweed: Any, tmp_path: Path) -> None:
    from deepflix.storage.s3 import S3Store

    a, b = S3Store(tmp_path / "cache-a"), S3Store(tmp_path / "cache-b")  # two machines
    key = "ab" * 32
    st = a.staging(key)
    (st.dir / "picture.png").write_bytes(b"\x89PNG first")
    (st.dir / "sub").mkdir()
    (st.dir / "sub" / "layer.png").write_bytes(b"layer")
    st.publish({"stage": "picture", "result": {"image": "picture.png"}})
    assert b.load_result(key)["result"] == {"image": "picture.png"}  # type: ignore[index]
    assert b.local_path(key, "picture.png").read_bytes() == b"\x89PNG first"
    assert b.local_path(key, "sub/layer.png").read_bytes() == b"layer"

    # a second writer of the same key loses cleanly: its files never mix with the first's
    st2 = b.staging(key)
    (st2.dir / "picture.png").write_bytes(b"\x89PNG second")
    st2.publish({"stage": "picture", "result": {"image": "picture.png"}})
    c = S3Store(tmp_path / "cache-c")
    assert c.local_path(key, "picture.png").read_bytes() == b"\x89PNG first"

    objs = a.s3.list_objects_v2(Bucket=a.bucket, Prefix=f"{a.prefix}{key}/")["Contents"]
    assert len(objs) == 3  # result.json + the first upload's two files
    for o in objs:
        assert a.s3.head_object(Bucket=a.bucket, Key=o["Key"]).get("ServerSideEncryption") == "AES256"
    weed_data = seaweed.dir / "data"
    assert not any(b"PNG first" in p.read_bytes() for p in weed_data.rglob("*") if p.is_file())  # encrypted at rest

    a.delete(key)
    assert S3Store(tmp_path / "cache-d").load_result(key) is None


def test_film_on_the_fleet(fleet_env: JobsEnv) -> None:
    """gpu and cpu workers in their own processes; one is killed mid-picture and
    the broker loses our keys mid-job; the film matches `deepflix make`."""
    from deepflix.jobs.broker import get_broker
    from deepflix.jobs.reconciler import workers_online

    fleet_env.set(JOBSTEST_SLEEP="0.5")
    gpu = fleet_env.spawn("worker", "--queues", "gpu", "--processes", "1", "--threads", "1")
    fleet_env.spawn("worker", "--queues", "cpu", "--processes", "2", "--threads", "1", "--no-reconcile")
    with session_scope() as s:
        mid = movies.submit_movie(s, "alice", prompt="A fleet of ships", num_sequences=2, seed=51,
                                   resolution="360p", providers=fakes.FAKES).id
    killed = wiped = False
    deadline = time.monotonic() + 120
    queues_by_pid: dict[int, list[str]] = {}
    while True:
        with read_session() as s:
            m = movies.get_movie(s, "alice", mid)
            assert m is not None
            status = m.status
        if status not in ("queued", "running"):
            break
        assert time.monotonic() < deadline, fleet_env.logs()
        queues_by_pid.update({w["pid"]: w["queues"] for w in workers_online()})
        for marker in fleet_env.markers.iterdir():
            stage, _, pid = marker.name.split("-")
            if stage == "picture" and not killed:
                os.kill(int(pid), signal.SIGKILL)
                killed = True
            if stage == "score" and not wiped:  # Redis loses everything of ours
                client = get_broker().client
                for k in client.scan_iter(match=fleet_env.env["DEEPFLIX_REDIS_NAMESPACE"] + ":*"):
                    client.delete(k)
                wiped = True
        time.sleep(0.05)
    m = wait_movie(mid)
    assert m.status == "succeeded", f"{m.error}\n{fleet_env.logs()}"
    assert killed and wiped and gpu.poll() is None
    ref = make_reference(fleet_env.tmp, "A fleet of ships", 2, 51)
    assert film_bytes(m) == ref.files["movie"].read_bytes()
    for st in m.stages:  # pictures ran on the gpu worker, everything else on cpu workers
        pid = int(st.worker.split(":")[1])
        kind = "gpu" if st.name == "picture" else "cpu"
        assert all(q.startswith(kind) for q in queues_by_pid[pid]), (st.name, queues_by_pid[pid])
    with read_session() as s:
        stats = queue_stats(s)
    assert stats["movies"]["succeeded"] == 1 and stats["broker"]["ok"]
    assert json.dumps(stats, default=str)


def test_in_flight_caps_keep_users_fair(fleet_env: JobsEnv) -> None:
    """One user's 20 films take at most owner_inflight slots per queue kind;
    another user's film is queued at once, and a high-priority film goes first."""
    from deepflix.jobs.broker import get_broker
    from deepflix.jobs.reconciler import live_messages

    fleet_env.set(DEEPFLIX_OWNER_INFLIGHT="3")
    with session_scope() as s:
        for i in range(20):
            movies.submit_movie(s, "hog", prompt=f"film {i}", num_sequences=2, providers=fakes.FAKES)
        late = movies.submit_movie(s, "bob", prompt="my one film", num_sequences=2, providers=fakes.FAKES).id
        urgent = movies.submit_movie(s, "carol", prompt="urgent", num_sequences=2, priority="high",
                                        providers=fakes.FAKES).id
    msgs = live_messages(get_broker())
    owners: dict[str, int] = {}
    with read_session() as s:
        for msg in msgs:
            m = s.get(Movie, msg.args[0])
            owners[m.owner] = owners.get(m.owner, 0) + 1
    assert owners == {"hog": 3, "bob": 1, "carol": 1}
    queues = {msg.args[0]: msg.queue_name for msg in msgs}
    assert queues[urgent] == "cpu.high" and queues[late] == "cpu.normal"
