"""Artifacts in an S3-compatible bucket (the fleet's store), with a local cache.

Layout: ``<prefix><key>/result.json`` names an upload folder
``<prefix><key>/<upload id>/`` holding the artifact's files. A publish uploads
the files first and result.json LAST, as a conditional put (If-None-Match: *):
result.json exists only once every file it names does, and the first writer
wins, so two workers that computed the same key never mix their files (a
store that ignores the condition makes it last-writer-wins, still never mixed).

Every file's size and sha256 are in result.json (see integrity.py): a cache
lookup checks cached copies, fetches and hashes small files and sizes large ones
with HEAD; a download is checked whole. A broken artifact is replaced by the
next publish: its new files go to a new upload folder, then result.json is
overwritten on condition (If-Match) that it is still the broken one.

Reads go through ``cache_dir`` (same layout as LocalStore): a file is
downloaded once per machine, into a temporary name then renamed, so a reader
never sees half a file. Server-side encryption (S3_SSE=AES256 or aws:kms) is
requested on every upload when set.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from ..core import config
from . import integrity
from .base import ArtifactStore
from .integrity import ArtifactBroken, check_file, recorded, well_formed
from .local import read_result, swap_in

RESULT = "result.json"
BROKEN = ".broken"  # in a cached folder: the upload id whose download failed its check


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


class S3Options(BaseSettings):
    """Extra S3 settings (env): S3_SSE, S3_PREFIX, S3_ADDRESSING_STYLE."""

    model_config = SettingsConfigDict(env_prefix="S3_", env_file=".env", extra="ignore")
    sse: str = ""  # "", "AES256" or "aws:kms"
    sse_kms_key_id: str = ""
    prefix: str = "artifacts/"
    addressing_style: str = "path"  # most self-hosted stores (SeaweedFS, MinIO) want path style


def _is_missing(exc: Exception) -> bool:
    resp = getattr(exc, "response", None) or {}
    code = str(resp.get("Error", {}).get("Code", ""))
    status = resp.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("404", "NoSuchKey", "NotFound") or status == 404


def _is_precondition(exc: Exception) -> bool:
    resp = getattr(exc, "response", None) or {}
    return str(resp.get("Error", {}).get("Code", "")) in ("PreconditionFailed", "412", "ConditionalRequestConflict")


class S3Store(ArtifactStore):
    def __init__(self, cache_dir: Path, *, bucket: str | None = None, endpoint_url: str | None = None,
                 client: Any = None, prefix: str | None = None) -> None:

        s = config.settings
        opts = S3Options()
        self.cache = Path(cache_dir)
        self.cache.mkdir(parents=True, exist_ok=True)
        self.bucket = bucket or s.s3_bucket
        self.prefix = opts.prefix if prefix is None else prefix
        self.extra: dict[str, str] = {}
        if opts.sse:
            self.extra["ServerSideEncryption"] = opts.sse
            if opts.sse == "aws:kms" and opts.sse_kms_key_id:
                self.extra["SSEKMSKeyId"] = opts.sse_kms_key_id
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url or s.s3_endpoint_url,
                region_name=s.s3_region,
                aws_access_key_id=s.aws_access_key_id.get_secret_value() if s.aws_access_key_id else None,
                aws_secret_access_key=s.aws_secret_access_key.get_secret_value() if s.aws_secret_access_key else None,
                config=Config(s3={"addressing_style": opts.addressing_style}, retries={"max_attempts": 5, "mode": "standard"},
                              connect_timeout=10, read_timeout=120),
            )
        self.s3 = client
        self._bucket_ok = False
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ helpers

    def _obj(self, key: str, name: str) -> str:
        return f"{self.prefix}{key}/{name}"

    def _dir(self, key: str) -> Path:
        return self.cache / key[:2] / key

    def ensure_bucket(self) -> None:
        if self._bucket_ok:
            return
        with self._lock:
            try:
                self.s3.head_bucket(Bucket=self.bucket)
            except Exception as exc:
                if not _is_missing(exc):
                    raise
                try:
                    self.s3.create_bucket(Bucket=self.bucket)
                except Exception as create_exc:  # another worker created it meanwhile
                    code = str(getattr(create_exc, "response", {}).get("Error", {}).get("Code", ""))
                    if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            self._bucket_ok = True

    def _remote_result_etag(self, key: str) -> tuple[dict[str, Any] | None, str | None]:
        """The remote result.json (None when absent or garbage) and its ETag (None when absent)."""
        try:
            obj = self.s3.get_object(Bucket=self.bucket, Key=self._obj(key, RESULT))
        except Exception as exc:
            if _is_missing(exc):
                return None, None
            raise
        body, etag = obj["Body"].read(), str(obj.get("ETag") or "") or None
        try:
            stored = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None, etag
        return (stored if isinstance(stored, dict) else None), etag

    def _remote_result(self, key: str) -> dict[str, Any] | None:
        return self._remote_result_etag(key)[0]

    def _cache_result(self, key: str, stored: dict[str, Any]) -> None:
        d = self._dir(key)
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".{RESULT}.{uuid.uuid4().hex[:8]}"
        tmp.write_text(json.dumps(stored, indent=1, sort_keys=True))
        os.replace(tmp, d / RESULT)

    def _remote_name(self, stored: dict[str, Any] | None, key: str, name: str) -> str:
        upload = ((stored or {}).get("_s3") or {}).get("dir")
        return self._obj(key, f"{upload}/{name}" if upload else name)

    def _remote_size(self, remote: str) -> int | None:
        try:
            return int(self.s3.head_object(Bucket=self.bucket, Key=remote)["ContentLength"])
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise

    def _problems(self, key: str, stored: dict[str, Any], *, remote: bool = False) -> list[str]:
        """What is wrong with an artifact: a cached copy that checks out counts (unless
        ``remote``); small files are fetched and hashed, large ones sized with HEAD."""
        if not well_formed(stored):
            return ["result.json is not a stored result"]
        d = self._dir(key)
        upload = str((stored.get("_s3") or {}).get("dir"))
        if _read(d / BROKEN) == upload:
            return ["a download did not match its recorded size or hash"]
        out = []
        for name, entry in recorded(stored).items():
            if not remote:
                if check_file(d / name, entry) is None:
                    continue
                (d / name).unlink(missing_ok=True)  # a missing or corrupt cached copy: look at the bucket
                if entry["size"] <= integrity.HASH_LIMIT:
                    try:
                        self._download(key, name, stored)  # checks size and hash
                    except ArtifactBroken as exc:
                        out.append(f"{name}: {exc.why}")
                    continue
            size = self._remote_size(self._remote_name(stored, key, name))
            if size != entry["size"]:
                out.append(f"{name}: " + ("missing" if size is None else f"{size} bytes, {entry['size']} recorded"))
        return out

    # ------------------------------------------------------------------ the contract

    def load_result(self, key: str) -> dict[str, Any] | None:
        stored = read_result(self._dir(key) / RESULT)
        if stored is not None:
            return stored
        stored = self._remote_result(key)
        if stored is not None:
            self._cache_result(key, stored)
        return stored

    def verify(self, key: str, stored: dict[str, Any]) -> list[str]:
        return self._problems(key, stored)

    def load_verified(self, key: str) -> dict[str, Any] | None:
        cached = read_result(self._dir(key) / RESULT) is not None
        stored = super().load_verified(key)
        if stored is None and cached:  # this machine's copy may be stale or corrupt: ask the bucket
            (self._dir(key) / RESULT).unlink(missing_ok=True)
            stored = super().load_verified(key)
        return stored

    def publish(self, key: str, folder: Path) -> None:
        self.ensure_bucket()
        current, etag = self._remote_result_etag(key)
        if current is not None and not self._problems(key, current, remote=True):
            shutil.rmtree(folder, ignore_errors=True)  # someone published it first: same inputs, same artifact
            return
        stored = json.loads((folder / RESULT).read_text())
        upload = uuid.uuid4().hex[:12]
        stored["_s3"] = {"dir": upload}
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != RESULT)
        for p in files:
            rel = p.relative_to(folder).as_posix()
            self.s3.upload_file(str(p), self.bucket, self._obj(key, f"{upload}/{rel}"), ExtraArgs=dict(self.extra))
        body = json.dumps(stored, indent=1, sort_keys=True).encode()
        # first writer wins; a broken result.json is replaced only if it is still the one we judged
        cond = {"IfNoneMatch": "*"} if etag is None else {"IfMatch": etag}
        try:
            self.s3.put_object(Bucket=self.bucket, Key=self._obj(key, RESULT), Body=body,
                               ContentType="application/json", **cond, **self.extra)
        except Exception as exc:
            if not _is_precondition(exc):
                raise
            # lost the race: the winner's files stand; drop ours
            for p in files:
                self.s3.delete_object(Bucket=self.bucket, Key=self._obj(key, f"{upload}/{p.relative_to(folder).as_posix()}"))
            shutil.rmtree(folder, ignore_errors=True)
            return
        if etag is not None:  # replaced a broken artifact: its files go
            self._delete_objects(key, keep=f"{self.prefix}{key}/{upload}/")
        # keep what we made as this machine's cached copy (no download later)
        (folder / RESULT).write_text(json.dumps(stored, indent=1, sort_keys=True))
        dest = self._dir(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            swap_in(folder, dest)
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)

    def _download(self, key: str, name: str, stored: dict[str, Any] | None) -> Path:
        p = self._dir(key) / name
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            self.s3.download_file(self.bucket, self._remote_name(stored, key, name), str(tmp))
        except Exception as exc:
            tmp.unlink(missing_ok=True)
            if _is_missing(exc):
                raise ArtifactBroken(key, name, "missing") from exc
            raise
        entry = recorded(stored).get(name) if stored is not None and well_formed(stored) else None
        why = check_file(tmp, entry, hash_limit=1 << 62)  # just downloaded: hashing it is cheap by comparison
        if why is not None:
            tmp.unlink(missing_ok=True)
            # remembered, so the next cache lookup on this machine is a miss (and the stage is made again)
            (self._dir(key) / BROKEN).write_text(str(((stored or {}).get("_s3") or {}).get("dir")))
            raise ArtifactBroken(key, name, why)
        os.replace(tmp, p)
        return p

    def local_path(self, key: str, name: str) -> Path:
        p = self._dir(key) / name
        stored = self.load_result(key)
        if stored is None:
            if p.exists():
                return p
            raise FileNotFoundError(f"artifact {key[:12]}… is not in the store")
        entry = recorded(stored).get(name) if well_formed(stored) else None
        if check_file(p, entry) is None:
            return p
        p.unlink(missing_ok=True)  # a corrupt cached copy: fetch it again
        return self._download(key, name, stored)

    def scratch_dir(self) -> Path:
        d = self.cache / ".staging"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def delete(self, key: str) -> None:
        shutil.rmtree(self._dir(key), ignore_errors=True)
        self._delete_objects(key)

    def _delete_objects(self, key: str, keep: str | None = None) -> None:
        """Every object under the key (but result.json and those under ``keep`` when it is given)."""
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}{key}/"):
            objs = [{"Key": o["Key"]} for o in page.get("Contents", [])
                    if keep is None or not (o["Key"].startswith(keep) or o["Key"] == self._obj(key, RESULT))]
            if objs:
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": objs, "Quiet": True})

    def ping(self) -> bool:
        try:
            self.ensure_bucket()
            return True
        except Exception:
            return False
