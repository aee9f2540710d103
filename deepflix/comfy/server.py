"""The ComfyUI client every ComfyUI provider uses: its own HTTP API and its progress WebSocket.

``GET /object_info`` to check that the workflow's node types exist, ``POST /upload/image`` for an
input image, ``POST /prompt`` (a workflow in API format plus our ``client_id`` and ``prompt_id``),
progress and errors from ``/ws?clientId=``, ``GET /history/{prompt_id}`` for the outputs and
``GET /view`` for the files. ``run`` reuses a prompt the server already has (queued, running or
done: the prompt id is derived from the workflow) instead of queueing a copy.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from ..core import config
from ..errors import ProviderBadOutput, ProviderError, ProviderTimeout, ProviderUnavailable
from .prompt import PromptRun, prompt_id_for

_SERVER_IDS: dict[str, str] = {}  # our prompt_id -> the server's, for a server that does not take ours


def comfyui_url() -> str:
    return str(config.settings.comfyui_url).rstrip("/")


class ComfyServer:
    """One ComfyUI server, reached through one ``httpx.Client`` (use as a context manager)."""

    def __init__(self, url: str | None = None, *, timeout: float = 60.0) -> None:
        self.url = (url or comfyui_url()).rstrip("/")
        self.client = httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0))

    def __enter__(self) -> ComfyServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def call(self, client: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            resp = client.request(method, self.url + path, **kw)
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(f"ComfyUI at {self.url} timed out on {method} {path}") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(
                f"ComfyUI is not reachable at {self.url} ({type(exc).__name__}): start it, or set COMFYUI_URL"
            ) from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            ra = resp.headers.get("retry-after")
            raise ProviderUnavailable(f"ComfyUI {method} {path} answered {resp.status_code}",
                                      retry_after=float(ra) if ra and ra.replace(".", "").isdigit() else None)
        return resp

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.call(self.client, method, path, **kw)

    def object_info(self) -> dict[str, Any]:
        resp = self.request("GET", "/object_info")
        if resp.status_code != 200:
            raise ProviderBadOutput(f"ComfyUI GET /object_info answered {resp.status_code}")
        info = resp.json()
        return info if isinstance(info, dict) else {}

    def check_nodes(self, wf: dict[str, Any], workflow: str, *, fallback: str | None = None) -> dict[str, Any]:
        """Fail before queueing when the server lacks a node type the workflow uses, naming them."""
        info = self.object_info()
        missing = sorted({n["class_type"] for n in wf.values()} - set(info))
        if missing:
            instead = f", use the workflow {fallback!r} instead (core nodes only)," if fallback else ""
            raise ProviderError(
                f"ComfyUI at {self.url} lacks the node types {', '.join(missing)} that workflow "
                f"{workflow!r} needs: install those custom nodes{instead} or choose another workflow"
            )
        return info

    def upload(self, data: bytes, name: str, mime: str = "image/png") -> str:
        resp = self.request("POST", "/upload/image", files={"image": (name, data, mime)},
                            data={"overwrite": "true", "type": "input"})
        if resp.status_code != 200:
            raise ProviderError(f"ComfyUI POST /upload/image answered {resp.status_code}: {resp.text[:200]}")
        body = resp.json()
        return f"{body['subfolder']}/{body['name']}" if body.get("subfolder") else str(body["name"])

    def queue(self, wf: dict[str, Any], client_id: str, prompt_id: str) -> str:
        resp = self.request("POST", "/prompt", json={"prompt": wf, "client_id": client_id, "prompt_id": prompt_id})
        if resp.status_code != 200:
            raise ProviderError(f"ComfyUI rejected the workflow: {describe_rejection(resp)}")
        return str(resp.json()["prompt_id"])

    def run(self, wf: dict[str, Any], *, timeout_s: float, queue_timeout_s: float,
            progress: Callable[[float, str], None]) -> tuple[str, dict[str, Any]]:
        """Queue ``wf`` (or find it queued, running or done already), follow it to its end and
        return its prompt id and ``/history`` entry; what is abandoned is cancelled."""
        client_id = uuid.uuid4().hex
        ours = prompt_id_for(wf)
        run = PromptRun(self.call, self.client, _SERVER_IDS.get(ours, ours), timeout_s=timeout_s,
                        queue_timeout_s=queue_timeout_s, progress=progress)
        state = run.where()  # a retry, or another worker, may find it queued, running or done already
        if state == "failed":
            run.forget()
            state = "unknown"
        ws = self.connect(client_id) if state != "done" else None  # opened before queueing: no message missed
        try:
            if state == "unknown":
                run.prompt_id = _SERVER_IDS[ours] = self.queue(wf, client_id, ours)
                progress(0.0, f"queued {run.prompt_id}")
            else:
                progress(0.0, f"reusing prompt {run.prompt_id} ({state})")
            if state != "done":
                run.wait(ws)
        finally:
            if ws is not None:
                ws.close()
        return run.prompt_id, run.result()

    def output_files(self, prompt_id: str, entry: dict[str, Any], keys: tuple[str, ...] = ("images",)) -> Iterator[dict[str, Any]]:
        """The output files a finished prompt recorded under ``keys`` (``images``, ``gifs``, ``videos``)."""
        status = entry.get("status", {})
        if status.get("status_str") == "error":
            raise ProviderError(f"ComfyUI prompt {prompt_id} ended in error: {history_error(status)}")
        for output in entry.get("outputs", {}).values():
            for key in keys:
                for item in output.get(key, []) or []:
                    if isinstance(item, dict) and "filename" in item and item.get("type", "output") == "output":
                        yield item

    def view(self, item: dict[str, Any]) -> bytes:
        resp = self.request("GET", "/view", params={
            "filename": item["filename"], "subfolder": item.get("subfolder", ""), "type": "output"})
        if resp.status_code != 200:
            raise ProviderBadOutput(f"ComfyUI GET /view {item['filename']} answered {resp.status_code}")
        return resp.content

    def connect(self, client_id: str) -> Any | None:
        """The progress WebSocket, opened before queueing so no message is missed; None when the
        ``websockets`` package is not installed (then /history is polled)."""
        try:
            from websockets.sync.client import connect
        except ImportError:
            return None
        ws_url = ("wss://" if self.url.startswith("https://") else "ws://") + self.url.split("://", 1)[1] + f"/ws?clientId={client_id}"
        try:
            return connect(ws_url, open_timeout=10, max_size=None)
        except OSError as exc:
            raise ProviderUnavailable(f"ComfyUI WebSocket is not reachable at {ws_url}: check COMFYUI_URL") from exc

    def health(self, provider_id: str) -> dict[str, Any]:
        try:
            ok = self.request("GET", "/system_stats").status_code == 200
        except ProviderError as exc:
            return {"provider": provider_id, "ok": False, "error": str(exc)}
        return {"provider": provider_id, "ok": ok, "url": self.url}


def describe_rejection(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return f"HTTP {resp.status_code}: {resp.text[:200]}"
    err = body.get("error", {})
    parts = [str(err.get("message", "")) + (f" ({err['details']})" if err.get("details") else "")]
    for node_id, ne in (body.get("node_errors") or {}).items():
        for e in ne.get("errors", []):
            parts.append(f"node {node_id} ({ne.get('class_type', '?')}): {e.get('message', '')} {e.get('details', '')}".strip())
    return "; ".join(p for p in parts if p) or f"HTTP {resp.status_code}"


def history_error(status: dict[str, Any]) -> str:
    for name, data in status.get("messages", []):
        if name == "execution_error":
            return f"node {data.get('node_id')} ({data.get('node_type')}): {data.get('exception_message', '').strip()}"
    return "unknown error"
