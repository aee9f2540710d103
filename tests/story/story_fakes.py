"""A small HTTP server on 127.0.0.1 that speaks the Anthropic Messages and the
OpenAI Chat Completions wire formats, scripted per test: the real SDK clients
talk to it over a real socket, headers, status codes and all."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from deepflix.models import Story, StoryRequest
from deepflix.story.planner import plan_story


@dataclass
class Canned:
    status: int = 200
    body: Any = None  # dict -> JSON; str -> sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: Any


class FakeLLMServer:
    def __init__(self) -> None:
        self.script: deque[Canned] = deque()
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                server.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                canned = server.script.popleft() if server.script else Canned(500, {"error": {"message": "no script"}})
                if canned.delay:
                    time.sleep(canned.delay)
                data = canned.body if isinstance(canned.body, str) else json.dumps(canned.body)
                try:
                    self.send_response(canned.status)
                    self.send_header("content-type", "application/json")
                    for k, v in canned.headers.items():
                        self.send_header(k, v)
                    self.send_header("content-length", str(len(data.encode())))
                    self.end_headers()
                    self.wfile.write(data.encode())
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def push(self, *items: Canned) -> None:
        self.script.extend(items)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


_LLM_FIELDS = {
    "characters": {"__all__": {"id", "name", "role", "base_traits", "facial_features", "clothing",
                               "distinctive_features"}},
    "scenes": {"__all__": {"scene_description", "atmosphere", "setting", "location", "time_of_day", "weather", "shot",
                           "characters", "narration", "dialogue", "music", "duration"}},
    "title": True, "logline": True,
}


def llm_story(prompt: str = "A lighthouse keeper finds a message in a bottle", genre: str = "noir",
              n: int = 6, seed: int = 0) -> dict[str, Any]:
    """What a well-behaved model would send: the story fields of our schema, no voices or colours."""
    story: Story = plan_story(StoryRequest(prompt=prompt, genre=genre, num_scenes=n, seed=seed))  # type: ignore[arg-type]
    return story.model_dump(mode="json", include=_LLM_FIELDS)  # type: ignore[arg-type]


def anthropic_message(tool_input: Any = None, text: str | None = None, stop: str = "tool_use") -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if text is not None:
        content.append({"type": "text", "text": text})
    if tool_input is not None:
        content.append({"type": "tool_use", "id": "toolu_01", "name": "write_story", "input": tool_input})
    return {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-test", "content": content,
            "stop_reason": stop if tool_input is not None or stop != "tool_use" else "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 20}}


def anthropic_error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def chat_completion(content: str, finish: str = "stop") -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "test-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}}


def openai_error(message: str, param: str | None = None, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": None}}
