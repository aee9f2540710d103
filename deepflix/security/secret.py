"""A real secret for a service reachable from other machines.

DEEPFLIX_SECRET_KEY peppers the API keys' hashes and signs media links. Its
default, ``changethis``, is public: anyone who can reach the service and knows a
film id could mint links. So `deepflix serve` off loopback with the default
makes a random secret once per data folder (``<data dir>/secret_key``, 0600)
and keeps it; every process on that data folder (`deepflix keys`, workers)
then reads it (core/config.py). On loopback the default is kept, so a laptop's
existing keys go on working. A fleet sets DEEPFLIX_SECRET_KEY itself.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from pathlib import Path

from ..core import config
from ..core.private import private_dir

log = logging.getLogger("deepflix.security")

DEFAULT = "changethis"
FILE_NAME = "secret_key"


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def read_or_create(path: Path) -> str:
    """The secret kept in ``path``; made (random, 0600, never replaced) when absent."""

    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text().strip()
        if len(value) < 32:
            raise RuntimeError(f"{path} holds no usable secret: delete it (links and keys made with it stop "
                               "working) or set DEEPFLIX_SECRET_KEY") from None
        return value
    value = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    log.warning("DEEPFLIX_SECRET_KEY is not set: made a random secret in %s (keys made earlier with the default "
                "secret must be made again; other machines of a fleet need DEEPFLIX_SECRET_KEY set)", path)
    return value


def ensure_serving_secret(host: str) -> bool:
    """Before serving on ``host``: replace the public default secret when the service is
    reachable from other machines. True when the data folder's secret is now in use."""
    s = config.settings
    if s.deepflix_secret_key.get_secret_value() != DEFAULT or is_loopback(host):
        return False
    os.environ["DEEPFLIX_SECRET_KEY"] = read_or_create(s.deepflix_data_dir / FILE_NAME)
    config.reload_settings()
    return True
