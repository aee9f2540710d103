"""Content-addressed artifact storage: a local folder, or an S3-compatible bucket."""

from ..core import config
from ..core.private import private_dir
from .base import ArtifactStore, Staging
from .integrity import ArtifactBroken
from .local import LocalStore
from .s3 import S3Store  # the fleet's store (boto3, of the `service` extra, is imported when one is made)

__all__ = ["ArtifactBroken", "ArtifactStore", "LocalStore", "Staging", "open_store"]


def open_store() -> ArtifactStore:
    s = config.settings
    private_dir(s.deepflix_data_dir)  # 0700: the database and the films (security/private.py)
    if s.deepflix_storage == "s3":
        return S3Store(cache_dir=s.store_dir)
    return LocalStore(s.store_dir)
