"""Short-lived signed links to a film's files.

<video>, <img> and <track> cannot send an API key, so without these a web page
must download the whole MP4 into memory before it plays. A film's status JSON
gives its media URLs with a ``token`` query parameter that opens that one file
of that one film, for its owner's film only, for about an hour, like an S3
presigned URL: the browser then streams and seeks with Range as usual.

token = "<expiry, unix seconds>.<HMAC-SHA256(pepper, movie|file|owner|expiry), 32 hex>"

The expiry is rounded up to a quarter hour, so the same link is handed out for a
while and the browser's cache keeps working. The pepper is DEEPFLIX_SECRET_KEY,
as for the API keys' hashes: changing it revokes every link.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time

from ..core import config

TTL = 3600  # seconds a link lives at least
ROUND = 900  # ... and at most this much longer
MAX_AHEAD = TTL + ROUND + 60  # the latest expiry check() accepts (a minute for clocks that differ)
TOKEN_PATTERN = r"^[0-9]{1,12}\.[0-9a-f]{32}$"


def _mac(movie_id: str, file: str, owner: str, expires: int) -> str:
    pepper = config.settings.deepflix_secret_key.get_secret_value().encode()
    msg = f"deepflix.link|{movie_id}|{file}|{owner}|{expires}".encode()
    return hmac.new(pepper, msg, hashlib.sha256).hexdigest()[:32]


def sign(movie_id: str, file: str, owner: str, now: float | None = None) -> str:
    """A token for one file ("video", "srt", "vtt", "poster", "picture:3") of one film."""
    now = time.time() if now is None else now
    expires = math.ceil((now + TTL) / ROUND) * ROUND
    return f"{expires}.{_mac(movie_id, file, owner, expires)}"


def check(token: str, movie_id: str, file: str, owner: str, now: float | None = None) -> bool:
    """Whether the token opens this file of this owner's film now (constant-time compare)."""
    exp, _, mac = token.partition(".")
    if not exp.isdigit() or len(mac) != 32:
        return False
    expires = int(exp)
    now = time.time() if now is None else now
    if expires < now:
        return False
    if expires > now + MAX_AHEAD:  # we never sign so far ahead: a token minted elsewhere, refused
        return False
    return hmac.compare_digest(mac, _mac(movie_id, file, owner, expires))


def signed(url: str, movie_id: str, file: str, owner: str) -> str:
    return f"{url}?token={sign(movie_id, file, owner)}"
