"""One prompt's life on a ComfyUI server: queued once, followed to its end, cancelled when abandoned.

What the real server does (ComfyUI 0.3.x, ``main.prompt_worker``), and so what this follows:

- ``POST /prompt`` takes the client's own ``prompt_id``. Ours is derived from the workflow, so a
  retry, or another worker making the same picture, finds the prompt the server already knows in
  ``/queue`` or ``/history`` and waits on it instead of queueing a copy.
- It sends ``execution_success`` *before* it records the prompt in ``/history`` and ``executing``
  with ``node: null`` *after*: the latter is the end. ``/history`` is still polled briefly after it,
  for servers that differ.
- The clock starts when the prompt starts executing (``execution_start``, or ``/queue`` showing it
  running): time spent behind other prompts is not the run's.
- Messages go to the socket of the client that queued the prompt; a reused prompt or a replaced
  socket hears nothing, so silence is covered by asking ``/queue`` and ``/history`` every few seconds.
- What is abandoned is cancelled: ``POST /queue {"delete": [id]}`` while pending, ``POST /interrupt
  {"prompt_id": id}`` while running (never a global interrupt, which would stop someone else's).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from ..errors import ProviderError, ProviderTimeout, ProviderUnavailable

POLL_EVERY = 2.0  # seconds of WebSocket silence before /queue and /history are asked
HISTORY_GRACE = 10.0  # how long /history may lag the end message
CANCEL_WAIT = 15.0  # how long an interrupt may take to stop the run
_NAMESPACE = uuid.UUID("6f1d1c1e-8f51-4f0e-9a8b-2c1f0d5e7a11")

Call = Callable[..., httpx.Response]


def prompt_id_for(wf: dict[str, Any]) -> str:
    """The same workflow gets the same prompt_id in every attempt and every process."""
    return str(uuid.uuid5(_NAMESPACE, json.dumps(wf, sort_keys=True, separators=(",", ":"))))


class PromptRun:
    """Follows one prompt_id on the server; ``call`` is the provider's HTTP call (its errors)."""

    def __init__(self, call: Call, client: httpx.Client, prompt_id: str, *, timeout_s: float,
                 queue_timeout_s: float, progress: Callable[[float, str], None]) -> None:
        self.call, self.client, self.prompt_id = call, client, prompt_id
        self.timeout_s, self.queue_timeout_s, self.progress = timeout_s, queue_timeout_s, progress
        self.started: float | None = None  # monotonic time it began executing
        self.finished = False
        self.ahead = 0

    # ------------------------------------------------------------------ what the server knows

    def where(self) -> str:
        """running | pending | done | failed | unknown. The queue is read first: a prompt that
        finishes between the two reads is then still found in the history."""
        q = self._json("GET", "/queue")
        if any(_pid(item) == self.prompt_id for item in q.get("queue_running", [])):
            return "running"
        pending = q.get("queue_pending", [])
        mine = [item for item in pending if _pid(item) == self.prompt_id]
        if mine:
            number = _number(mine[0])
            self.ahead = len(q.get("queue_running", [])) + sum(1 for it in pending if _number(it) < number)
            return "pending"
        entry = self.history()
        if entry is None:
            return "unknown"
        status = entry.get("status") or {}
        return "failed" if status.get("status_str") == "error" or status.get("completed") is False else "done"

    def history(self) -> dict[str, Any] | None:
        entry = self._json("GET", f"/history/{self.prompt_id}").get(self.prompt_id)
        return entry or None

    def forget(self) -> None:
        """Drop a failed or interrupted run from /history before it is queued again under its id."""
        self.call(self.client, "POST", "/history", json={"delete": [self.prompt_id]})

    def result(self) -> dict[str, Any]:
        """The history entry, polled briefly: some servers record it just after the end message."""
        deadline = time.monotonic() + HISTORY_GRACE
        while True:
            entry = self.history()
            if entry is not None or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if entry is None:
            raise ProviderUnavailable(f"ComfyUI finished prompt {self.prompt_id} but its /history has no record of "
                                      f"it after {HISTORY_GRACE:.0f}s")
        return entry

    def cancel(self) -> None:
        """Best effort: take our prompt off the queue, or stop it if it is running."""
        try:
            for _ in range(2):  # it may start between reading the queue and deleting it
                state = self.where()
                if state == "pending":
                    self.call(self.client, "POST", "/queue", json={"delete": [self.prompt_id]})
                elif state == "running":
                    self.call(self.client, "POST", "/interrupt", json={"prompt_id": self.prompt_id})
                    deadline = time.monotonic() + CANCEL_WAIT
                    while self.where() == "running" and time.monotonic() < deadline:
                        time.sleep(0.25)
                    return
                else:
                    return
        except (ProviderError, httpx.HTTPError, ValueError):
            return  # the server is gone: nothing left to cancel there

    # ------------------------------------------------------------------ following it

    def wait(self, ws: Any | None) -> None:
        """Until the prompt ends; cancels it when leaving for any other reason (timeout, Ctrl-C)."""
        try:
            self._wait(ws)
        except BaseException:
            if not self.finished:
                self.cancel()
            raise

    def _wait(self, ws: Any | None) -> None:
        queued_at = time.monotonic()
        self._note(self.where())
        while not self.finished:
            now = time.monotonic()
            if self.started is not None:
                left = self.started + self.timeout_s - now
                if left <= 0:
                    raise ProviderTimeout(f"ComfyUI ran prompt {self.prompt_id} for more than {self.timeout_s:g}s "
                                          f"(counted from its start): cancelled it")
            else:
                left = queued_at + self.queue_timeout_s - now
                if left <= 0:
                    raise ProviderTimeout(f"ComfyUI did not start prompt {self.prompt_id} within "
                                          f"{self.queue_timeout_s:g}s in its queue: took it off")
            msg, ws = _receive(ws, min(POLL_EVERY, left))
            if msg is None:  # silence: ask the server
                self._note(self.where())
            else:
                self._message(msg)

    def _note(self, state: str) -> None:
        if state == "running":
            self._start()
        elif state == "pending":
            if self.ahead:
                self.progress(0.0, f"queued ({self.ahead} ahead)")
        elif state in ("done", "failed"):
            self.finished = True
        else:
            raise ProviderUnavailable(f"ComfyUI no longer knows prompt {self.prompt_id} (taken off its queue, "
                                      f"or the server restarted)")

    def _start(self) -> None:
        if self.started is None:
            self.started = time.monotonic()
            self.progress(0.0, "running")

    def _message(self, msg: dict[str, Any]) -> None:
        kind, data = msg.get("type"), msg.get("data") or {}
        pid = data.get("prompt_id")
        if pid not in (None, self.prompt_id):
            return  # another prompt on a shared server
        if kind == "status":
            if self.started is None:  # queue_remaining counts our own running prompt: read the queue
                self._note(self.where())
        elif kind == "execution_start":
            self._start()
        elif kind == "progress" and data.get("max") and (pid or self.started is not None):
            self._start()
            self.progress(float(data["value"]) / float(data["max"]), f"step {data['value']}/{data['max']}")
        elif kind == "execution_error" and pid:
            self.finished = True
            raise ProviderError(
                f"ComfyUI node {data.get('node_id')} ({data.get('node_type')}) failed: "
                f"{data.get('exception_type', 'error')}: {str(data.get('exception_message', '')).strip()}"
            )
        elif kind == "execution_interrupted" and pid:
            self.finished = True
            raise ProviderUnavailable(f"ComfyUI interrupted prompt {self.prompt_id}")
        elif kind == "executing" and data.get("node") is None and pid:
            self.finished = True  # the end: sent after the history is recorded (execution_success is not)

    def _json(self, method: str, path: str) -> dict[str, Any]:
        resp = self.call(self.client, method, path)
        if resp.status_code != 200:
            raise ProviderUnavailable(f"ComfyUI {method} {path} answered {resp.status_code}")
        body = resp.json()
        return body if isinstance(body, dict) else {}


def _receive(ws: Any | None, timeout: float) -> tuple[dict[str, Any] | None, Any | None]:
    """One JSON message, or None after ``timeout`` of silence; a closed socket turns into polling."""
    if ws is None:
        time.sleep(timeout)
        return None, None
    from websockets.exceptions import ConnectionClosed

    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, ws
        try:
            raw = ws.recv(timeout=left)
        except TimeoutError:
            return None, ws
        except ConnectionClosed:
            return None, None
        if isinstance(raw, bytes):  # binary frames are live previews
            continue
        return json.loads(raw), ws


def _pid(item: Any) -> Any:
    return item[1] if isinstance(item, list | tuple) and len(item) > 1 else None


def _number(item: Any) -> float:
    try:
        return float(item[0])
    except (TypeError, ValueError, IndexError):
        return 0.0
