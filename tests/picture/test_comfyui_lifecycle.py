"""A prompt's life on a ComfyUI server, against comfy_fake_server (the real server's order):
the end is `executing` null, not execution_success; timeouts count from the start and cancel
what they abandon; retries and other workers reuse the prompt the server knows; bad workflows
and choices fail before anything is queued."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import pytest

pytest.importorskip("websockets")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from comfy_fake_server import FakeComfy, pointed_at, serve  # noqa: E402

from deepflix.errors import InvalidInput, ProviderTimeout  # noqa: E402
from deepflix.models import CharacterSheet, GenerationParams, PictureRequest, SceneVisual  # noqa: E402
from deepflix.picture.comfyui import ComfyUI  # noqa: E402
from deepflix.provider import StageContext  # noqa: E402
from deepflix.runner import run_stage  # noqa: E402
from deepflix.storage.local import LocalStore  # noqa: E402


@pytest.fixture(scope="module")
def comfy() -> Any:
    yield from serve(FakeComfy())


@pytest.fixture
def use(comfy: FakeComfy, monkeypatch: pytest.MonkeyPatch) -> Any:
    fixture = pointed_at(comfy, monkeypatch)
    yield next(fixture)
    comfy.step_s = 0.0  # a slow prompt a test left running ends soon, before the wait for an idle server
    next(fixture, None)


def _request(what: str = "The keeper finds a bottle on the shore", steps: int = 2) -> PictureRequest:
    keeper = CharacterSheet(id="keeper", name="Elias", base_traits="old lighthouse keeper", facial_features="grey beard",
                            clothing="navy sweater", distinctive_features="brass spyglass")
    return PictureRequest(scene=SceneVisual(scene_description=what, atmosphere="hopeful", setting="coast",
                                            time_of_day="dawn", shot="medium", characters=["keeper"]),
                          characters=[keeper], genre="drama", width=128, height=128,
                          params=GenerationParams(seed=7, steps=steps))


def _ctx(tmp_path: Path, seen: list[str] | None = None) -> StageContext:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return StageContext(out_dir=tmp_path, progress=lambda f, m="": seen.append(m) if seen is not None else None)


def _opts(**kw: Any) -> dict[str, Any]:
    return {"long_side": 256, **kw}


def _background(fn: Any) -> tuple[threading.Thread, list[Any]]:
    box: list[Any] = []
    t = threading.Thread(target=lambda: box.append(_try(fn)), daemon=True)
    t.start()
    return t, box


def _try(fn: Any) -> Any:
    try:
        return fn()
    except Exception as exc:  # handed to the test thread
        return exc


def _until(cond: Any, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cond()


# ---------------------------------------------------------------------- the end of a run


def test_history_recorded_after_success_is_found(use: FakeComfy, tmp_path: Path) -> None:
    use.history_lag = 0.3  # the real server records the history only after execution_success
    res = ComfyUI(_opts()).generate(_request(), _ctx(tmp_path))
    assert cv2.imread(str(tmp_path / res.image)).shape == (128, 128, 3)
    assert len(use.prompts) == 1


def test_history_lagging_the_end_message_is_polled(use: FakeComfy, tmp_path: Path) -> None:
    use.end_before_history, use.history_lag = True, 0.5
    res = ComfyUI(_opts()).generate(_request(), _ctx(tmp_path))
    assert res.width == 128 and len(use.prompts) == 1  # waited for the record, did not queue again


def test_queued_is_not_shown_while_our_own_prompt_runs(use: FakeComfy, tmp_path: Path) -> None:
    seen: list[str] = []
    ComfyUI(_opts()).generate(_request(), _ctx(tmp_path, seen))
    assert not [m for m in seen if m.startswith("queued (")], seen
    assert "running" in seen


# ---------------------------------------------------------------------- timeouts


def test_waiting_in_the_queue_is_not_counted_in_the_timeout(use: FakeComfy, tmp_path: Path) -> None:
    use.step_s = 0.1
    blocker, box = _background(lambda: ComfyUI(_opts()).generate(_request("a storm", steps=12), _ctx(tmp_path / "b")))
    _until(lambda: use.running is not None)
    seen: list[str] = []
    res = ComfyUI(_opts(timeout_s=0.9)).generate(_request(steps=3), _ctx(tmp_path, seen))  # 1.2 s behind, 0.3 s run
    blocker.join(10)
    assert res.width == 128 and not isinstance(box[0], Exception)
    assert "queued (1 ahead)" in seen


def test_a_timeout_interrupts_only_our_running_prompt(use: FakeComfy, tmp_path: Path) -> None:
    use.step_s = 0.1
    with pytest.raises(ProviderTimeout, match="counted from its start"):
        ComfyUI(_opts(timeout_s=0.4)).generate(_request(steps=40), _ctx(tmp_path))
    pid = use.prompts[0]["prompt_id"]
    assert ("POST", "/interrupt", {"prompt_id": pid}) in use.calls
    assert all(body.get("prompt_id") for m, path, body in use.calls if path == "/interrupt")  # never global
    assert use.idle()  # nothing left running or queued
    # a later attempt finds the interrupted run, forgets it and runs it again under the same id
    use.step_s = 0.0
    ComfyUI(_opts()).generate(_request(steps=40), _ctx(tmp_path))
    assert ("POST", "/history", {"delete": [pid]}) in use.calls
    assert [p["prompt_id"] for p in use.prompts] == [pid, pid]


def test_a_prompt_stuck_in_the_queue_is_taken_off(use: FakeComfy, tmp_path: Path) -> None:
    use.step_s = 0.1
    blocker, _ = _background(lambda: ComfyUI(_opts()).generate(_request("a storm", steps=15), _ctx(tmp_path / "b")))
    _until(lambda: use.running is not None)
    with pytest.raises(ProviderTimeout, match="queue"):
        ComfyUI(_opts(queue_timeout_s=0.3)).generate(_request(), _ctx(tmp_path))
    ours = use.prompts[-1]["prompt_id"]
    assert ("POST", "/queue", {"delete": [ours]}) in use.calls
    assert all(it[1] != ours for it in use.pending)
    blocker.join(10)
    assert ours not in use.history  # it never ran


def test_retried_timeouts_leave_nothing_on_the_server(use: FakeComfy, tmp_path: Path) -> None:
    use.step_s = 0.1
    with pytest.raises(ProviderTimeout):
        run_stage("picture", _request(steps=40), store=LocalStore(tmp_path / "store"),
                  provider=ComfyUI(_opts(timeout_s=0.3)), retries=2, sleep=lambda s: None)
    assert len(use.prompts) == 3 and len({p["prompt_id"] for p in use.prompts}) == 1  # one prompt, run 3 times
    assert sum(1 for _, path, _ in use.calls if path == "/interrupt") == 3
    assert use.idle()


# ---------------------------------------------------------------------- reuse


def test_a_finished_prompt_is_reused_not_queued_again(use: FakeComfy, tmp_path: Path) -> None:
    first = ComfyUI(_opts()).generate(_request(), _ctx(tmp_path / "a"))
    seen: list[str] = []
    again = ComfyUI(_opts()).generate(_request(), _ctx(tmp_path / "b", seen))  # a retry, or another worker
    assert len(use.prompts) == 1 and any(m.startswith("reusing prompt") for m in seen)
    a, b = cv2.imread(str(tmp_path / "a" / first.image)), cv2.imread(str(tmp_path / "b" / again.image))
    assert (a == b).all()


def test_a_running_prompt_is_waited_on_by_another_worker(use: FakeComfy, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("deepflix.comfy.prompt.POLL_EVERY", 0.1)  # it hears no messages: it polls
    use.step_s = 0.1
    first, box = _background(lambda: ComfyUI(_opts()).generate(_request(steps=8), _ctx(tmp_path / "a")))
    _until(lambda: use.running is not None)
    res = ComfyUI(_opts()).generate(_request(steps=8), _ctx(tmp_path / "b"))
    first.join(10)
    assert res.width == 128 and not isinstance(box[0], Exception)
    assert len(use.prompts) == 1


# ---------------------------------------------------------------------- bad input, before any work


def _workflow_file(tmp_path: Path, output: str | None) -> str:
    from deepflix.picture.comfyui import load_workflow

    wf = load_workflow("txt2img_sd15")
    save = next(k for k, n in wf.items() if n["class_type"] == "SaveImage")
    if output is None:
        del wf[save]
    else:
        wf[save] = {"class_type": output, "inputs": {"images": wf[save]["inputs"]["images"]}}
    path = tmp_path / f"wf_{output}.json"
    path.write_text(json.dumps(wf))
    return str(path)


@pytest.mark.parametrize("output", ["PreviewImage", None])
def test_a_workflow_that_saves_nothing_fails_at_once(use: FakeComfy, tmp_path: Path, output: str | None) -> None:
    wf = _workflow_file(tmp_path, output)
    with pytest.raises(InvalidInput, match="SaveImage"):
        run_stage("picture", _request(), store=LocalStore(tmp_path / "store"),
                  provider=ComfyUI(_opts(workflow=wf, timeout_s=3)), retries=2, sleep=lambda s: None)
    assert use.prompts == []  # nothing queued, nothing retried


def test_an_unknown_scheduler_names_the_valid_ones(use: FakeComfy, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"no scheduler 'fastest'.*karras"):
        ComfyUI(_opts(scheduler="fastest")).generate(_request(), _ctx(tmp_path))
    assert use.prompts == []
    ComfyUI(_opts(scheduler="karras")).generate(_request(), _ctx(tmp_path))
    assert use.prompts[-1]["workflow"]["3"]["inputs"]["scheduler"] == "karras"


def test_a_sampler_option_is_checked_against_the_server(use: FakeComfy, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"no sampler_name 'dpmpp_3m_sde'.*it offers euler"):
        ComfyUI(_opts(sampler="dpmpp_3m_sde")).generate(_request(), _ctx(tmp_path))
    assert use.prompts == []
    ComfyUI(_opts(sampler="ipndm", steps=3, cfg=2.5)).generate(_request(), _ctx(tmp_path))
    ks = use.prompts[-1]["workflow"]["3"]["inputs"]
    assert (ks["sampler_name"], ks["steps"], ks["cfg"]) == ("ipndm", 3, 2.5)
