"""A DeepFlix service, through its REST API with one API key (httpx): what
`make --batch --server` and the MCP server's service mode act with. The key's
user, limits and quotas are the service's to enforce; its errors come back as
DeepFlixErrors carrying the service's own words."""

from __future__ import annotations

from typing import Any

import httpx

from ..errors import DeepFlixError, InvalidInput, ProviderUnavailable
from .films import FilmAsk


class ServiceClient:
    def __init__(self, server: str, api_key: str, timeout: float = 30.0, http: httpx.Client | None = None) -> None:
        if not server.startswith(("http://", "https://")):
            raise InvalidInput(f"--server must be an http(s) URL such as http://127.0.0.1:8000; got {server!r}")
        if not api_key:
            raise InvalidInput("--api-key is needed with --server (make one with `deepflix keys create USER`)")
        self.base = server.rstrip("/")
        self.key = api_key
        self.http = http or httpx.Client(base_url=self.base, timeout=timeout)  # http: e.g. a test's ASGI client

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            r = self.http.request(method, path, headers={"X-API-Key": self.key}, **kw)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"the service at {self.base} did not answer: {exc}") from exc
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail")
            except ValueError:
                detail = r.text[:200]
            if isinstance(detail, list):  # FastAPI's 422: the fields that were wrong
                detail = "; ".join(f"{'.'.join(str(x) for x in d.get('loc', []))}: {d.get('msg')}" for d in detail)
            err = InvalidInput if r.status_code in (400, 404, 409, 422) else DeepFlixError
            raise err(f"the service answered {r.status_code}: {detail}")
        return r.json() if r.content and r.headers.get("content-type", "").startswith("application/json") else r

    def make(self, ask: FilmAsk) -> str:
        body = {"prompt": ask.prompt, "genre": ask.genre, "num_sequences": ask.scenes, "seed": ask.seed,
                "aspect": ask.aspect, "resolution": ask.resolution}
        return str(self._call("POST", "/api/movies", json=body)["id"])

    def status(self, movie_id: str) -> dict[str, Any]:
        return self._call("GET", f"/api/movies/{movie_id}")  # type: ignore[no-any-return]

    def retry(self, movie_id: str) -> dict[str, Any]:
        return self._call("POST", f"/api/movies/{movie_id}/retry")  # type: ignore[no-any-return]

    def list(self, limit: int = 100) -> dict[str, Any]:
        return self._call("GET", "/api/movies", params={"limit": limit})  # type: ignore[no-any-return]

    def absolute(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base}{path}"
