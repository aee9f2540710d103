"""Issue 17: the fleet survives a partition.

The gateway (`deepflix serve --no-workers`: the API and the reconciler) and two
`deepflix worker`s run as separate hosts: network namespaces on a bridge the
test makes, each with a data folder of its own. Redis (a private redis-server),
PostgreSQL (this machine's, forwarded) and S3 (SeaweedFS, forwarded) live on
the bridge's address. One worker is cut off in the middle of a segment: the
stage is redelivered and finished by the other; when the cut-off worker comes
back and ends its late attempt, nothing is duplicated or changed, and the film
is byte-identical to one made undisturbed (in process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jobs_fake_providers as fakes
import netns
import pytest
from conftest import JobsEnv, _jobs_env, film_bytes, make_reference, wait_movie
from sqlalchemy import func, select

from deepflix.db import read_session, session_scope
from deepflix.service import movies

pytestmark = pytest.mark.fleet

PROMPT = "Two lighthouses that cannot hear each other"


class Fleet:
    def __init__(self, je: JobsEnv, net: netns.Net, host_env: dict[str, str]) -> None:
        self.je, self.net, self.host_env = je, net, host_env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def data(self, host: str) -> Path:
        return self.je.tmp / f"host-{host}"

    def spawn(self, host: str, *args: str) -> None:
        env = {**os.environ, **self.je.env, **self.host_env, "DEEPFLIX_DATA_DIR": str(self.data(host))}
        log = open(self.je.tmp / f"proc-{host}.log", "wb")  # noqa: SIM115 (the child writes it)
        self.procs[host] = subprocess.Popen(["ip", "netns", "exec", self.net.ns(host), sys.executable, "-m", "deepflix",
                                             *args], env=env, stdout=log, stderr=subprocess.STDOUT)

    def host_of(self, pid: int) -> str | None:
        out = subprocess.run(["ip", "netns", "identify", str(pid)], check=False, capture_output=True,
                             text=True).stdout.strip()
        return next((h for h in self.net.hosts if self.net.ns(h) == out), None)

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def fleet(tmp_path: Path, seaweed: Any) -> Iterator[Fleet]:
    why = netns.unavailable()
    if why:
        pytest.skip(why)
    from fleet_services import pg_database

    from deepflix.jobs.redis_server import _executable

    with netns.network(["gw", "w1", "w2"]) as net, pg_database() as db_url:
        gw = net.gateway_ip
        rport = 20000 + int(uuid.uuid4().hex[:4], 16) % 20000  # bound on our own bridge address only
        redis = subprocess.Popen([_executable(), "--bind", gw, "--port", str(rport), "--save", "", "--appendonly", "no",
                                  "--protected-mode", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pg = netns.Forwarder(gw, int(db_url.split(":")[-1].split("/")[0]))
        s3 = netns.Forwarder(gw, int(seaweed.endpoint.rsplit(":", 1)[1]))
        try:
            extra = {"DATABASE_URL": db_url, "REDIS_URL": f"redis://{gw}:{rport}/0", "DEEPFLIX_STORAGE": "s3",
                     "S3_ENDPOINT_URL": seaweed.endpoint, "S3_BUCKET": "deepflix-test",
                     "S3_PREFIX": f"p{uuid.uuid4().hex[:8]}/", "AWS_ACCESS_KEY_ID": "test",
                     "AWS_SECRET_ACCESS_KEY": "test", "JOBSTEST_HOLD": "1"}
            host_env = {"DATABASE_URL": db_url.replace("127.0.0.1:5432", f"{gw}:{pg.port}"),
                        "S3_ENDPOINT_URL": f"http://{gw}:{s3.port}"}
            with _jobs_env(tmp_path, extra) as je:
                f = Fleet(je, net, host_env)
                try:
                    yield f
                finally:
                    f.stop()
        finally:
            pg.close()
            s3.close()
            redis.terminate()
            redis.wait(10)


def _snapshot(mid: str) -> dict[str, Any]:
    from deepflix.db.models import Event, Stage

    with read_session() as s:
        m = movies.get_movie(s, "alice", mid)
        assert m is not None
        stages = sorted((st.id, st.name, st.scene, st.status, st.artifact_key, st.attempts, st.worker)
                        for st in s.scalars(select(Stage).where(Stage.movie_id == mid)))
        events = dict(s.execute(select(Event.kind, func.count()).where(Event.movie_id == mid).group_by(Event.kind)).all())
        return {"status": m.status, "result": json.dumps(m.result, sort_keys=True), "stages": stages, "events": events}


def test_a_worker_cut_off_mid_stage(fleet: Fleet) -> None:
    net = fleet.net
    fleet.spawn("gw", "serve", "--host", net.ip("gw"), "--port", "3006", "--no-workers", "--plain-logs")
    for w in ("w1", "w2"):
        fleet.spawn(w, "worker", "--queues", "gpu,cpu", "--processes", "1", "--threads", "1", "--no-reconcile")
    deadline = time.monotonic() + 40
    while True:  # the gateway answers over the bridge
        try:
            with urllib.request.urlopen(f"http://{net.ip('gw')}:3006/api/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, fleet.je.logs()
        time.sleep(0.2)

    with session_scope() as s:
        mid = movies.submit_movie(s, "alice", prompt=PROMPT, num_sequences=2, seed=71, resolution="360p",
                                   providers=fakes.FAKES).id
    victim: dict[str, Any] = {}
    deadline = time.monotonic() + 60
    while True:
        with read_session() as s:
            m = movies.get_movie(s, "alice", mid)
            assert m is not None
            if m.status not in ("queued", "running"):
                break
        assert time.monotonic() < deadline, _logs(fleet)
        for marker in fleet.je.markers.glob("*-*-*[0-9]"):
            go = marker.with_name(marker.name + ".go")
            if go.exists():
                continue
            stage, scene, pid = marker.name.split("-")
            if stage == "segment" and not victim:
                host = fleet.host_of(int(pid))
                assert host in ("w1", "w2"), (marker.name, host)
                net.cut(host)  # in the middle of its stage: it holds the message and the claim
                victim.update(host=host, scene=int(scene), pid=int(pid), at=time.monotonic())
            go.touch()
        time.sleep(0.05)
    m = wait_movie(mid)
    assert m.status == "succeeded", f"{m.error}\n{_logs(fleet)}"
    assert victim, "no segment ran"
    seg = next(st for st in m.stages if st.name == "segment" and st.scene == victim["scene"])
    other = "w2" if victim["host"] == "w1" else "w1"
    assert fleet.host_of(int(seg.worker.split(":")[1])) == other  # redelivered and finished elsewhere
    assert seg.attempts == 2
    before = _snapshot(mid)

    # the cut-off worker comes back and ends its late attempt (its staging folder empties)
    staging = fleet.data(victim["host"]) / "store" / ".staging"
    assert any(staging.iterdir()), "the cut-off worker was not still in its stage"
    net.heal(victim["host"])
    deadline = time.monotonic() + 60
    while any(staging.iterdir()) if staging.exists() else False:
        assert time.monotonic() < deadline, _logs(fleet)
        time.sleep(0.2)
    time.sleep(2)  # and records what it would (nothing, as the stage is finished)
    assert fleet.procs[victim["host"]].poll() is None
    assert _snapshot(mid) == before  # no stage, event or result changed or duplicated
    assert before["events"]["movie_done"] == 1
    assert before["events"]["stage_done"] == len(before["stages"])

    from deepflix.storage import open_store

    store = open_store()
    key = seg.artifact_key
    objs = [o["Key"] for o in store.s3.list_objects_v2(Bucket=store.bucket, Prefix=store._obj(key, ""))["Contents"]]
    assert len(objs) == 2, objs  # result.json and one upload's segment file: the late one left nothing
    ref = make_reference(fleet.je.tmp, PROMPT, 2, 71)
    assert film_bytes(m) == ref.files["movie"].read_bytes()


def _logs(fleet: Fleet) -> str:
    return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-2500:] for p in sorted(fleet.je.tmp.glob("proc-*.log")))
