"""A stage added to the film plan, in this test only, runs through both the
in-process runner and the job system without editing any other module: its
rows, fan-in, dispatch, provider lookup and manifest entry all come from the
plan."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jobs_fake_providers as fakes
import pytest
from conftest import JobsEnv, make_reference, wait_movie
from pydantic import BaseModel, ConfigDict

from deepflix import plugins
from deepflix.db import session_scope
from deepflix.film import plan
from deepflix.hookspecs import hookimpl
from deepflix.provider import Provider, StageContext
from deepflix.service import movies
from deepflix.storage import open_store


class LineCountRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scene_index: int
    words: list[str]
    speech_seconds: float


class LineCountResult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report: str
    words: int


class LineCounter(Provider):
    """Counts a scene's spoken words: needs the story and the scene's speech."""

    stage = "wordcount"
    provider_id = "toy/wordcount"
    request_model = LineCountRequest
    result_model = LineCountResult

    def generate(self, request: LineCountRequest, ctx: StageContext) -> LineCountResult:
        text = f"scene {request.scene_index}: {len(request.words)} words in {request.speech_seconds:.2f} s\n"
        (ctx.out_dir / "report.txt").write_text(text)
        return LineCountResult(report="report.txt", words=len(request.words))


def _build(parts: plan.FilmParts, i: int) -> BaseModel:
    scene = parts.story.scenes[i]
    words = (scene.narration + " " + " ".join(d.text for d in scene.dialogue)).split()
    return LineCountRequest(scene_index=i, words=words, speech_seconds=parts.speech[i].duration)


TOY = plan.StageSpec("wordcount", "scene", ("speech",), "cpu", LineCountResult, _build, "toy/wordcount",
                     "Word count", "wordcounts")


class _Plugin:
    @hookimpl
    def register_providers(self, register: Any) -> None:
        register(LineCounter)


@pytest.fixture
def toy_plan(jobs_env: JobsEnv) -> Iterator[plan.Plan]:
    plugin = _Plugin()
    plugins.pm.register(plugin, "toy-plugin")
    plugins.reset()
    try:
        with plan.extended(TOY, before="cut", feeds=("cut",)) as p:
            yield p
    finally:
        plugins.pm.unregister(plugin)
        plugins.reset()


def _reports(keys: list[str]) -> list[str]:
    store = open_store()
    return [store.local_path(k, "report.txt").read_text() for k in keys]


def test_toy_stage_runs_in_process_and_in_the_job_system(toy_plan: plan.Plan, jobs_env: JobsEnv,
                                                        inproc_worker: object) -> None:
    assert "wordcount" in toy_plan and toy_plan["cut"].needs == ("score", "segment", "wordcount")

    # in process: the runner schedules it after speech, the manifest names its keys
    ref = make_reference(jobs_env.tmp, "A lighthouse keeper finds a message", 2, 7)
    toy_keys = ref.keys["wordcounts"]
    assert len(toy_keys) == 2 and all(toy_keys)
    assert ref.computed.get("wordcount") == 2
    manifest = Path(ref.files["manifest"]).read_text()
    assert all(k in manifest for k in toy_keys)

    # the job system: its rows exist from the fan-out, it is dispatched, the cut waits for it
    with session_scope() as s:
        mid = movies.submit_movie(s, "alice", prompt="A lighthouse keeper finds a message", num_sequences=2, seed=7,
                                   resolution="360p", providers=fakes.FAKES).id
    m = wait_movie(mid)
    assert m.status == "succeeded", m.error
    rows = sorted((st.name, st.scene, st.status) for st in m.stages if st.name == "wordcount")
    assert rows == [("wordcount", 0, "succeeded"), ("wordcount", 1, "succeeded")]
    assert m.result["artifacts"]["wordcounts"] == toy_keys  # the same keys as in process
    assert m.result["artifacts"]["cut"] == ref.keys["cut"]
    cut = next(st for st in m.stages if st.name == "cut")
    last_count = max(st.finished_at for st in m.stages if st.name == "wordcount")
    assert cut.started_at >= last_count  # the cut waited for the toy stage
    texts = _reports(toy_keys)
    assert texts[0].startswith("scene 0: ") and texts[1].startswith("scene 1: ")
    assert hashlib.sha256(texts[0].encode()).hexdigest() != hashlib.sha256(texts[1].encode()).hexdigest()


def test_the_plan_is_restored_after_the_test() -> None:
    assert "wordcount" not in plan.current()
    assert plan.current().names == ("story", "cast", "speech", "picture", "clip", "score", "segment", "cut")
