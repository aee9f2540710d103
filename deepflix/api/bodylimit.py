"""Request bodies are refused (413) past a limit before they are read.

FastAPI reads a body before it resolves the key dependency, so without this a
caller with no key could make the server hold any number of large bodies. A
declared Content-Length over the limit is answered at once, nothing read; a
chunked body (or one that lies about its length) is counted as it streams and
stopped at the limit. Uploads (multipart, octet-stream, images) get the larger
DEEPFLIX_MAX_UPLOAD_BYTES; everything else DEEPFLIX_MAX_BODY_BYTES.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_TYPES = (b"multipart/form-data", b"application/octet-stream", b"image/")


class BodyTooLarge(Exception):
    """Raised from receive() once the body passes the limit (the app's read stops there)."""


class BodyLimitMiddleware:
    """``limits()`` gives (json_limit, upload_limit) in bytes, read per request so a
    test or operator change of the settings object takes effect."""

    def __init__(self, app: ASGIApp, limits: Callable[[], tuple[int, int]]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_limit, upload_limit = self.limits()
        length: int | None = None
        limit = body_limit
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    length = int(v)
                except ValueError:
                    length = None
            elif k == b"content-type" and v.lower().lstrip().startswith(UPLOAD_TYPES):
                limit = upload_limit
        if length is not None and length > limit:
            await _refuse(send, limit)
            return

        seen = 0
        exceeded = False
        started = False

        async def counted() -> Message:
            nonlocal seen, exceeded
            if exceeded:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:  # whatever the app made of the cut-off read, the answer is 413
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"the request body is larger than this server accepts ({limit} bytes)"}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
