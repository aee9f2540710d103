"""Artifacts in an S3-compatible bucket (the fleet's store), with a local cache.

Layout: ``<prefix><key>/result.json`` names an upload folder
``<prefix><key>/<upload id>/`` holding the artifact's files. A publish uploads
the files first and result.json LAST, as a conditional put (If-None-Match: *):
result.json exists only once every file it names does, and the first writer
wins, so two workers that computed the same key never mix their files (a
store that ignores the condition makes it last-writer-wins, still never mixed).

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

from .base import ArtifactStore

RESULT = "result.json"


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
        from ..core import config

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

    def _remote_result(self, key: str) -> dict[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self._obj(key, RESULT))["Body"].read()
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise
        try:
            return json.loads(body)  # type: ignore[no-any-return]
        except json.JSONDecodeError:
            return None

    def _cache_result(self, key: str, stored: dict[str, Any]) -> None:
        d = self._dir(key)
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".{RESULT}.{uuid.uuid4().hex[:8]}"
        tmp.write_text(json.dumps(stored, indent=1, sort_keys=True))
        os.replace(tmp, d / RESULT)

    # ------------------------------------------------------------------ the contract

    def load_result(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads((self._dir(key) / RESULT).read_text())  # type: ignore[no-any-return]
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        stored = self._remote_result(key)
        if stored is not None:
            self._cache_result(key, stored)
        return stored

    def publish(self, key: str, folder: Path) -> None:
        self.ensure_bucket()
        if self._remote_result(key) is not None:  # someone published it first: same inputs, same artifact
            shutil.rmtree(folder, ignore_errors=True)
            return
        stored = json.loads((folder / RESULT).read_text())
        upload = uuid.uuid4().hex[:12]
        stored["_s3"] = {"dir": upload}
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != RESULT)
        for p in files:
            rel = p.relative_to(folder).as_posix()
            self.s3.upload_file(str(p), self.bucket, self._obj(key, f"{upload}/{rel}"), ExtraArgs=dict(self.extra))
        body = json.dumps(stored, indent=1, sort_keys=True).encode()
        try:
            self.s3.put_object(Bucket=self.bucket, Key=self._obj(key, RESULT), Body=body,
                               ContentType="application/json", IfNoneMatch="*", **self.extra)
        except Exception as exc:
            if not _is_precondition(exc):
                raise
            # lost the race: the winner's files stand; drop ours
            for p in files:
                self.s3.delete_object(Bucket=self.bucket, Key=self._obj(key, f"{upload}/{p.relative_to(folder).as_posix()}"))
            shutil.rmtree(folder, ignore_errors=True)
            return
        # keep what we made as this machine's cached copy (no download later)
        (folder / RESULT).write_text(json.dumps(stored, indent=1, sort_keys=True))
        dest = self._dir(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(folder, dest)
        except OSError:
            shutil.rmtree(dest, ignore_errors=True)
            try:
                os.rename(folder, dest)
            except OSError:
                shutil.rmtree(folder, ignore_errors=True)

    def local_path(self, key: str, name: str) -> Path:
        p = self._dir(key) / name
        if p.exists():
            return p
        stored = self.load_result(key)
        if stored is None:
            raise FileNotFoundError(f"artifact {key[:12]}… is not in the store")
        upload = (stored.get("_s3") or {}).get("dir")
        remote = self._obj(key, f"{upload}/{name}" if upload else name)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            self.s3.download_file(self.bucket, remote, str(tmp))
        except Exception as exc:
            tmp.unlink(missing_ok=True)
            if _is_missing(exc):
                raise FileNotFoundError(f"artifact {key[:12]}… has no file {name!r}") from exc
            raise
        os.replace(tmp, p)
        return p

    def scratch_dir(self) -> Path:
        d = self.cache / ".staging"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def delete(self, key: str) -> None:
        shutil.rmtree(self._dir(key), ignore_errors=True)
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}{key}/"):
            objs = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if objs:
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": objs, "Quiet": True})

    def ping(self) -> bool:
        try:
            self.ensure_bucket()
            return True
        except Exception:
            return False
