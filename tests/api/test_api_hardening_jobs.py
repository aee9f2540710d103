"""Hardening (issue 17): the seed's stage endpoints on bounded capacity of their own,
counted against the caller's key (finding 1); the day's quota counts admissions, not
rows (finding 4); the provider allow-list and priority (finding 10); the webhook
(finding 14)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from conftest import Gateway, make_gateway
from scipy.io import wavfile

from deepflix.hookspecs import hookimpl
from deepflix.models import Segment, SpeechRequest, SpeechResult
from deepflix.speech.base import SpeechProvider

RELEASE = threading.Event()  # the voice provider holds every call until this is set
ENTERED: list[str] = []


class HeldVoice(SpeechProvider):
    """Speaks a short tone, after waiting for RELEASE: a slow voice, under the test's control."""

    provider_id = "apitest/held-voice"

    def generate(self, request: SpeechRequest, ctx: Any) -> SpeechResult:
        ENTERED.append(request.lines[0].text)
        RELEASE.wait(60)
        sr = 8000
        wav = (0.2 * np.sin(2 * np.pi * 220 * np.arange(sr // 4) / sr) * 32767).astype(np.int16)
        wavfile.write(ctx.out_dir / "speech.wav", sr, wav)
        return SpeechResult(audio="speech.wav", sample_rate=sr, duration=0.25,
                            segments=[Segment(start=0.0, end=0.25, text=request.lines[0].text)])


class _Plugin:
    @hookimpl
    def register_speech_providers(self, register: Any) -> None:
        register(HeldVoice)


@pytest.fixture(scope="module")
def held_voice() -> Iterator[None]:
    from deepflix import plugins

    plugin = _Plugin()
    plugins.pm.register(plugin, "apitest-held-voice")
    plugins.reset()
    old = os.environ.get("DEEPFLIX_SPEECH_PROVIDER")
    os.environ["DEEPFLIX_SPEECH_PROVIDER"] = HeldVoice.provider_id
    yield
    if old is None:
        os.environ.pop("DEEPFLIX_SPEECH_PROVIDER", None)
    else:
        os.environ["DEEPFLIX_SPEECH_PROVIDER"] = old
    plugins.pm.unregister(plugin)
    plugins.reset()


class Served:
    """The gateway app on a real uvicorn server on 127.0.0.1 (an ephemeral port), so
    concurrent clients meet the same thread pools a deployment has."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None,
                                                    lifespan="on", limit_concurrency=None))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.server.servers[0].sockets[0].getsockname()[1]}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@pytest.fixture(scope="module")
def voice_gw(tmp_path_factory: pytest.TempPathFactory, held_voice: None) -> Iterator[tuple[Gateway, Served]]:
    # one voice thread and one waiting place: two calls in flight at most, whoever sends them
    gen = make_gateway(tmp_path_factory.mktemp("voice"), deepflix_stage_workers_voice=1, deepflix_stage_queue=1)
    gw = next(gen)
    served = Served(gw.client.app)
    yield gw, served
    RELEASE.set()
    served.stop()
    next(gen, None)


def _wait(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_voice_flood_from_one_key_leaves_others_reads_alone(voice_gw: tuple[Gateway, Served]) -> None:
    gw, served = voice_gw
    RELEASE.clear()
    ENTERED.clear()
    n = 44  # the attack: more calls at once than the gateway's shared thread pool (40) has threads
    pool = ThreadPoolExecutor(n + 8)
    client = httpx.Client(base_url=served.url, timeout=90)

    def voice(i: int, user: str = "alice") -> httpx.Response:
        return client.post("/generate-voice", json={"text": f"Line number {i} of the flood."}, headers=gw.h(user))

    calls = [pool.submit(voice, i) for i in range(n)]
    # saturated: the held calls are inside the provider, every other one has answered
    # (or, on a gateway without its own voice pool, the shared pool is full)
    _wait(lambda: len(ENTERED) >= 40 or (ENTERED and sum(f.done() for f in calls) >= n - 2), 60,
          "the voice calls neither entered the provider nor answered")
    reads: list[Future[httpx.Response]] = [
        pool.submit(client.get, "/api/movies", headers=gw.h("bob")) for _ in range(5)]
    other_voice = pool.submit(voice, 999, "bob")
    deadline = time.monotonic() + 20
    while not all(f.done() for f in reads) and time.monotonic() < deadline:
        time.sleep(0.02)
    reads_done_while_held = all(f.done() for f in reads)
    bob_voice_done_while_held = other_voice.done()
    RELEASE.set()
    answers = [f.result() for f in calls]
    pool.shutdown()
    client.close()
    assert reads_done_while_held, "another user's reads waited behind one key's voice calls"
    assert all(f.result().status_code == 200 for f in reads)
    # one key may hold two calls; the rest were refused at once, saying when to come back
    ok = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(ok) == 2 and len(refused) == n - 2, sorted(a.status_code for a in answers)
    assert all(int(a.headers["retry-after"]) >= 1 and "at once is 2" in a.json()["detail"] for a in refused)
    assert all(a.headers["content-type"] == "audio/wav" and a.content[:4] == b"RIFF" for a in ok)
    # the voice pool (one thread, one waiting place) was full: bob was told so at once
    assert bob_voice_done_while_held
    r = other_voice.result()
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1 and "busy" in r.json()["detail"]


@pytest.fixture(scope="module")
def costly(tmp_path_factory: pytest.TempPathFactory, held_voice: None) -> Iterator[Gateway]:
    yield from make_gateway(tmp_path_factory.mktemp("cost"), deepflix_rate_per_minute=6.0, deepflix_rate_burst=30)


def test_voice_costs_its_characters_and_long_text_is_refused(costly: Gateway) -> None:
    RELEASE.set()
    c = costly.client
    r = c.post("/generate-voice", json={"text": "x " * 1500}, headers=costly.h("alice"))
    assert r.status_code == 422 and "the most this server speaks in one call is 2000" in r.text
    long = "A long line of speech. " * 86  # 1978 characters: 20 requests' worth
    r = c.post("/generate-voice", json={"text": long}, headers=costly.h("alice"))
    assert r.status_code == 200, r.text
    # 30 - 20 = 10 left: the next long call cannot pay, though a request count would allow it
    r = c.post("/generate-voice", json={"text": long + " Again."}, headers=costly.h("alice"))
    assert r.status_code == 429 and "costs 20 requests" in r.json()["detail"]
    assert int(r.headers["retry-after"]) >= 60  # 10 more tokens at 6 a minute
    # a short call still fits, and bob's bucket is his own
    assert c.post("/generate-voice", json={"text": "Short."}, headers=costly.h("alice")).status_code == 200
    assert c.post("/generate-voice", json={"text": long}, headers=costly.h("bob")).status_code == 200


def test_story_endpoint_runs_on_its_own_pool(costly: Gateway) -> None:
    from deepflix.api import stage_pool

    r = costly.client.post("/generate-cinematic-story", json={"genre": "noir", "prompt": "a pool of its own",
                                                              "num_scenes": 3}, headers=costly.h("root"))
    assert r.status_code == 200, r.text
    pools = costly.client.app.state.stage_pools  # type: ignore[attr-defined]
    assert isinstance(pools["story"], stage_pool.StagePool) and pools["story"].admitted == 0


# --------------------------------------------------------------------------- finding 4: the day's quota


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from make_gateway(tmp_path_factory.mktemp("daily"), deepflix_films_per_day=3)


def test_deleting_films_does_not_give_the_days_quota_back(daily: Gateway) -> None:
    c, h = daily.client, daily.h("alice")
    body = {"prompt": "a film to delete", "num_sequences": 1}
    for _ in range(3):
        r = c.post("/api/movies", json=body, headers=h)
        assert r.status_code == 202, r.text
        assert c.delete(f"/api/movies/{r.json()['id']}", headers=h).status_code == 204
    assert c.get("/api/movies", headers=h).json()["total"] == 0  # no rows left to count
    r = c.post("/api/movies", json=body, headers=h)
    assert r.status_code == 429 and "you started 3 films in the last 24 hours" in r.json()["detail"]
    assert 3600 < int(r.headers["retry-after"]) <= 86400
    assert c.post("/api/movies", json=body, headers=daily.h("bob")).status_code == 202  # bob's day is his own


def test_the_ledger_starts_with_the_films_already_there(tmp_path: Path) -> None:
    """Upgrading a database counts the films it already holds as admitted."""
    from sqlalchemy import create_engine, text

    from deepflix.db import migrate

    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate(url, "0002_gateway")
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text("INSERT INTO movies (id, owner, request, options, status, priority, created_at, updated_at) "
                          "VALUES ('m1', 'alice', '{}', '{}', 'succeeded', 'normal', '2026-12-01 10:00:00', "
                          "'2026-12-01 10:00:00')"))
    migrate(url)
    with eng.connect() as conn:
        assert conn.execute(text("SELECT owner, movie_id FROM admissions")).all() == [("alice", "m1")]
        assert conn.execute(text("SELECT count(*) FROM api_keys WHERE high_priority")).scalar() == 0
    eng.dispose()


# --------------------------------------------------------------------------- finding 10: providers and priority


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from make_gateway(tmp_path_factory.mktemp("policy"))


def test_users_pick_only_allowed_providers_and_admins_any(policy: Gateway) -> None:
    c = policy.client
    body = {"prompt": "a film with a chosen painter", "num_sequences": 1, "providers": {"picture": "comfyui/workflow"}}
    r = c.post("/api/movies", json=body, headers=policy.h("alice"))
    assert r.status_code == 403 and "builtin/illustrator" in r.json()["detail"], r.text
    assert c.get("/api/movies", headers=policy.h("alice")).json()["total"] == 0  # nothing was made
    assert c.post("/api/movies", json=body, headers=policy.h("root")).status_code == 202
    ok = {**body, "providers": {"picture": "builtin/illustrator", "story": "builtin/planner"}}
    assert c.post("/api/movies", json=ok, headers=policy.h("alice")).status_code == 202
    story = {"genre": "noir", "prompt": "a paid writer", "num_scenes": 2, "provider": "anthropic/claude"}
    r = c.post("/generate-cinematic-story", json=story, headers=policy.h("alice"))
    assert r.status_code == 403 and "builtin/planner" in r.json()["detail"]


def test_the_operator_opens_providers_to_users(tmp_path: Path) -> None:
    gen = make_gateway(tmp_path, deepflix_user_providers="picture=builtin/illustrator,comfyui/workflow;story=*")
    gw = next(gen)
    body = {"prompt": "an opened painter", "num_sequences": 1, "providers": {"picture": "comfyui/workflow",
                                                                             "story": "openai/chat"}}
    assert gw.client.post("/api/movies", json=body, headers=gw.h("alice")).status_code == 202
    r = gw.client.post("/api/movies", json={**body, "providers": {"picture": "diffusers/local"}}, headers=gw.h("bob"))
    assert r.status_code == 403 and "builtin/illustrator, comfyui/workflow" in r.json()["detail"]
    next(gen, None)


def test_priority_high_needs_an_admin_or_a_key_allowed_it(policy: Gateway) -> None:
    from deepflix import db
    from deepflix.security import keys

    with db.session_scope() as s:
        fast = keys.create_key(s, "carol", high_priority=True)[0]
    c = policy.client
    body = {"prompt": "a rushed film", "num_sequences": 1, "priority": "high"}
    r = c.post("/api/movies", json=body, headers=policy.h("alice"))
    assert r.status_code == 403 and "send 'normal' or 'low'" in r.json()["detail"]
    assert c.post("/api/movies", json={**body, "priority": "low"}, headers=policy.h("alice")).status_code == 202
    assert c.post("/api/movies", json=body, headers=policy.h("root")).status_code == 202
    assert c.post("/api/movies", json=body, headers={"X-API-Key": fast}).status_code == 202


def test_users_see_what_to_change_and_the_log_keeps_the_address(policy: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    """A picture stage whose ComfyUI (on the operator's network) is down: the film's error
    names no address, says what to do, and the log line has the address."""
    import socket

    from deepflix.core import config
    from deepflix.db import read_session
    from deepflix.db.models import Stage
    from deepflix.jobs import tasks

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    saved = {k: os.environ.get(k) for k in ("COMFYUI_URL", "DEEPFLIX_MAX_ATTEMPTS", "DEEPFLIX_RETRIES")}
    os.environ.update(COMFYUI_URL=f"http://127.0.0.1:{port}", DEEPFLIX_MAX_ATTEMPTS="1", DEEPFLIX_RETRIES="0")
    config.reload_settings()
    try:
        body = {"prompt": "a lighthouse at night", "num_sequences": 1, "providers": {"picture": "comfyui/workflow"}}
        r = policy.client.post("/api/movies", json=body, headers=policy.h("root"))
        mid = r.json()["id"]

        def step() -> bool:  # what the workers do with the stages' messages, until the film ends
            with read_session() as s:
                todo = [st.id for st in s.query(Stage).filter_by(movie_id=mid)
                        if st.status in ("ready", "queued")]
            for sid in todo:
                try:
                    tasks.execute(mid, sid)
                except tasks.RetryStage:
                    pass
            return bool(todo)

        with caplog.at_level("WARNING", logger="deepflix.jobs"):
            for _ in range(10):
                if not step():
                    break
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        config.reload_settings()
    m = policy.client.get(f"/api/movies/{mid}", headers=policy.h("root")).json()
    assert m["status"] == "failed", m["stages"]
    shown = m["error"] + " ".join(st["error"] or "" for st in m["stages"])
    assert str(port) not in shown and "127.0.0.1" not in shown and "http://" not in shown, shown
    assert "choose another picture provider" in m["error"], m["error"]
    assert any(f"127.0.0.1:{port}" in rec.getMessage() for rec in caplog.records)


# --------------------------------------------------------------------------- finding 14: the webhook


class Receiver:
    """A webhook receiver on 127.0.0.1 (an ephemeral port): records every request;
    /fail answers 500, /redirect answers 307 to /elsewhere."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        seen = self.seen = []  # type: list[tuple[str, dict[str, str], bytes]]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                seen.append((self.path, dict(self.headers), body))
                if self.path == "/fail":
                    self.send_response(500)
                elif self.path == "/redirect":
                    self.send_response(307)
                    self.send_header("Location", "/elsewhere")
                else:
                    self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, Receiver]]:
    rx = Receiver()
    gen = make_gateway(tmp_path_factory.mktemp("hooks"))
    gw = next(gen)
    yield gw, rx
    next(gen, None)
    rx.close()


def _allow_private(on: bool) -> None:
    from deepflix.core import config

    if on:
        os.environ["DEEPFLIX_WEBHOOK_ALLOW_PRIVATE"] = "1"
    else:
        os.environ.pop("DEEPFLIX_WEBHOOK_ALLOW_PRIVATE", None)
    config.reload_settings()


def _failed_film_with_hook(gw: Gateway, url: str) -> str:
    from deepflix import db
    from deepflix.db.models import Stage
    from deepflix.jobs import state

    r = gw.client.post("/api/movies", json={"prompt": "a film that fails", "num_sequences": 1, "webhook_url": url},
                       headers=gw.h("alice"))
    assert r.status_code == 202, r.text
    mid = r.json()["id"]
    with db.session_scope() as s:  # as a worker records a stage that failed for good
        sid = s.query(Stage).filter_by(movie_id=mid, name="story").one().id
        s.query(Stage).filter_by(id=sid).update({"status": "running"})
        state.fail_stage(s, mid, sid, "the story provider failed (test)")
    return mid


def _events(mid: str, prefix: str = "webhook") -> list[Any]:
    from deepflix import db
    from deepflix.db.models import Event

    with db.read_session() as s:
        return [(e.kind, e.message, e.data) for e in s.query(Event).filter_by(movie_id=mid).order_by(Event.id)
                if e.kind.startswith(prefix)]


@pytest.mark.parametrize("url,why", [
    ("http://127.0.0.1:9/hook", "is a loopback address"), ("http://localhost:9/hook", "is a loopback address"),
    ("http://169.254.169.254/latest", "is a cloud metadata address"), ("http://10.1.2.3/hook", "is a private address"),
    ("http://[::1]:9/hook", "is a loopback address"), ("http://user:pw@example.com/", "must not carry a user name"),
])
def test_webhook_to_an_inner_address_is_refused(hooks: tuple[Gateway, Receiver], url: str, why: str) -> None:
    gw, _ = hooks
    _allow_private(False)
    r = gw.client.post("/api/movies", json={"prompt": "a hooked film", "webhook_url": url}, headers=gw.h("alice"))
    assert r.status_code == 422 and why in str(r.json()["detail"]), r.text
    assert gw.client.get("/api/movies", headers=gw.h("alice")).json()["total"] == 0  # nothing was made


def test_webhook_is_signed_recorded_and_retried(hooks: tuple[Gateway, Receiver]) -> None:
    import hashlib
    import hmac
    import json

    from deepflix.core import config
    from deepflix.jobs import webhook

    gw, rx = hooks
    _allow_private(True)
    try:
        mid = _failed_film_with_hook(gw, rx.url + "/hook")
        webhook.notify(mid)  # what the notify actor does
        path, headers, body = rx.seen[-1]
        assert path == "/hook" and json.loads(body)["status"] == "failed" and json.loads(body)["id"] == mid
        secret = config.settings.deepflix_secret_key.get_secret_value().encode()
        ts = headers["X-DeepFlix-Timestamp"]
        expect = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-DeepFlix-Signature"], expect)
        assert _events(mid) == [("webhook", "HTTP 204", {"attempt": 1, "status": 204})]
        # a receiver that fails: the attempt is recorded and the actor raises, so Dramatiq retries with backoff
        bad = _failed_film_with_hook(gw, rx.url + "/fail")
        with pytest.raises(RuntimeError, match="HTTP 500"):
            webhook.notify(bad)
        assert _events(bad) == [("webhook_failed", "HTTP 500", {"attempt": 1, "status": 500})]
        # a redirect is not followed (it could lead anywhere), and not retried
        hop = _failed_film_with_hook(gw, rx.url + "/redirect")
        webhook.notify(hop)
        assert [p for p, _, _ in rx.seen].count("/elsewhere") == 0
        assert _events(hop)[0][0] == "webhook_refused" and "redirects are not followed" in _events(hop)[0][1]
    finally:
        _allow_private(False)


def test_webhook_is_checked_again_when_sent(hooks: tuple[Gateway, Receiver]) -> None:
    """Allowed when the film was submitted, refused when the setting is gone: the address
    is checked on every send, after resolving, and nothing reaches the receiver."""
    from deepflix.jobs import webhook

    gw, rx = hooks
    _allow_private(True)
    mid = _failed_film_with_hook(gw, rx.url + "/late")
    _allow_private(False)
    webhook.notify(mid)
    assert "/late" not in [p for p, _, _ in rx.seen]
    kind, message, data = _events(mid)[0]
    assert kind == "webhook_refused" and "loopback" in message and data == {"attempt": 1, "status": None}
