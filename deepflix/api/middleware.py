"""Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer the server-sent
event streams and the video): security headers, and a request context that sets
the request id, logs one JSON line per request and feeds the HTTP metrics."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import logs

log = logging.getLogger("deepflix.api.access")

# Everything from this origin, nothing from a CDN, no inline script, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class SecurityHeadersMiddleware:
    """Adds the headers to every response. A response that sets its own
    Content-Security-Policy (the API docs page) keeps it; JSON under /api is
    marked no-store unless the route chose a Cache-Control."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                for k, v in SECURITY_HEADERS:
                    if k not in names:
                        headers.append((k, v))
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestContextMiddleware:
    """Sets ``logs.request_id`` (the caller's X-Request-ID when it is sane, else a
    new one), echoes it back, logs the request as one JSON line, and calls
    ``observe(method, route, status, seconds)`` for the metrics."""

    def __init__(self, app: ASGIApp, observe: Callable[[str, str, int, float], None] | None = None) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        for k, v in scope.get("headers", []):
            if k == b"x-request-id":
                candidate = v.decode("latin-1")
                rid = candidate if _REQUEST_ID.fullmatch(candidate) else None
                break
        rid = rid or uuid.uuid4().hex
        token = logs.request_id.set(rid)
        job_token = logs.job_id.set(None)
        user_token = logs.user.set(None)
        status = 500
        t0 = time.perf_counter()

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Answered here rather than by Starlette's outermost error middleware, so the
            # 500 still carries the request id and the security headers. The client gets
            # no detail; the log gets all of it.
            log.error("unhandled error on %s %s", scope["method"], scope.get("path", ""), exc_info=exc)
            if started:
                raise  # the response is half sent: all we can do is drop the connection
            body = json.dumps({"detail": f"internal error; the server logged it (request {rid})"}).encode()
            await send_with_id({"type": "http.response.start", "status": 500, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send_with_id({"type": "http.response.body", "body": body})
        finally:
            took = time.perf_counter() - t0
            route = _route_template(scope)
            if self.observe is not None:
                self.observe(scope["method"], route, status, took)
            state = scope.get("state") or {}  # request.state: routes note the user and job there
            log.info(
                "%s %s %d",
                scope["method"],
                scope.get("path", ""),
                status,
                extra={
                    "request_id": rid, "status": status, "route": route, "ms": round(took * 1000, 2), "client": _client(scope),
                    "user": state.get("user") or logs.user.get(), "job_id": state.get("job_id") or logs.job_id.get(),
                },
            )
            logs.request_id.reset(token)
            logs.job_id.reset(job_token)
            logs.user.reset(user_token)


def _route_template(scope: Scope) -> str:
    """The matched route's path template (/api/movies/{movie_id}), not the raw path,
    so metrics have few label values; unmatched paths are one label."""
    route: Any = scope.get("route")
    return getattr(route, "path", None) or "<unmatched>"


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None
