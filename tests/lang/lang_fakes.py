"""Stories written in other languages, and a local server on 127.0.0.1 that speaks the
OpenAI wire format (chat completions for the story, audio/speech for the voice)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

LINES = {  # two scenes' narration per language, short: tiny films
    "es": ["La guardiana del faro encuentra una botella en la playa. Dentro hay una carta de 1923.",
           "Lee la carta en voz alta y, por fin, sonríe bajo la luz del faro."],
    "hi": ["एक बूढ़ी औरत समुद्र के किनारे एक बोतल पाती है। उसमें एक पुराना पत्र है।",
           "वह पत्र पढ़ती है और मुस्कुराती है।"],
    "ar": ["تجد حارسة المنارة زجاجة على الشاطئ. في داخلها رسالة قديمة.",
           "تقرأ الرسالة بصوت عال، ثم تبتسم تحت ضوء المنارة."],
    "ja": ["灯台守の女性が、浜辺で古い瓶を見つけます。中には手紙が入っています。",
           "彼女は手紙を読み、静かにほほえみます。"],
    "pt-BR": ["Uma avó 👵 e seu gato 🐈 atravessam São Paulo à noite, sob a chuva fina. ✨",
              "Ela paga R$ 12,50 por um café quente e sorri: a cidade é dela. 😀"],
}
TITLES = {"es": "La carta del faro", "hi": "बोतल का पत्र", "ar": "رسالة المنارة", "ja": "灯台の手紙",
          "pt-BR": "A avó e o gato 🐈"}


def story_fields(lang: str) -> dict[str, Any]:
    """What a model writes (our schema's fields), in ``lang``."""
    scenes = []
    for i, text in enumerate(LINES[lang]):
        scenes.append({
            "scene_description": "an old woman on a beach by a lighthouse at dusk", "atmosphere": "quiet",
            "setting": "lighthouse" if i == 0 else "coast", "location": "the beach", "time_of_day": "dusk",
            "weather": "clear", "shot": "wide", "characters": ["ana"], "narration": text, "dialogue": [],
            "music": {"mood": "calm", "intensity": 0.4}, "duration": 6})
    return {"title": TITLES[lang], "logline": "", "scenes": scenes, "characters": [{
        "id": "ana", "name": "Ana", "role": "keeper", "base_traits": "old woman, slim, brown skin",
        "facial_features": "grey eyes, white hair in a bun", "clothing": "blue coat",
        "distinctive_features": "a red scarf"}]}


def story_json(lang: str, genre: str = "drama") -> dict[str, Any]:
    """A whole Story (what `make --story` reads)."""
    fields = story_fields(lang)
    chars = [{**c, "voice": {"voice_id": "default"}} for c in fields["characters"]]
    return {**fields, "genre": genre, "language": lang, "characters": chars}


def pcm(seconds: float, rate: int = 24000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    tone = sum(np.sin(2 * np.pi * 150 * k * t + k) / k for k in range(1, 10))
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 4.0 * t) ** 2
    return (np.clip(0.25 * tone / np.abs(tone).max() * env, -1, 1) * 32767).astype("<i2").tobytes()


class OpenAIServer:
    """/v1/chat/completions answers with the story in ``lang``; /v1/audio/speech with speech-like PCM
    whose length follows the text (about ``chars_per_second`` characters a second)."""

    def __init__(self, lang: str, chars_per_second: float = 4.0) -> None:
        self.seen: list[dict[str, Any]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                outer.seen.append({"path": self.path, "body": body})
                if self.path.endswith("/chat/completions"):
                    content = json.dumps(story_fields(lang), ensure_ascii=False)
                    data = json.dumps({"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
                                       "choices": [{"index": 0, "finish_reason": "stop",
                                                    "message": {"role": "assistant", "content": content}}],
                                       "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
                                      ).encode()
                    ctype = "application/json"
                else:
                    text = str(body.get("input", ""))
                    data = pcm(0.3 + len(text.replace(" ", "")) / chars_per_second)
                    ctype = "audio/pcm"
                self.send_response(200)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
