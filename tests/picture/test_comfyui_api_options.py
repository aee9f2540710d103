"""Picture options in POST /api/movies, against the real service and a local server that
speaks ComfyUI's protocol: only the keys the operator opens (DEEPFLIX_COMFYUI_API_OPTIONS)
are taken, a refused one is a 422 naming it and makes no film; the ones taken are stored
with the film and reach the workers' provider: the workflow ComfyUI runs, and the cache
key (the dry run, built as the workers build it, finds every stage made)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("websockets")
pytest.importorskip("uvicorn")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))

from comfy_fake_server import FakeComfy, serve  # noqa: E402
from review_flow import dry_rows, wait_status  # noqa: E402
from web_harness import Gateway, start_gateway  # noqa: E402

FILM = {"prompt": "A keeper finds a bottle on the shore.", "num_sequences": 1, "resolution": "360p", "seed": 3,
        "providers": {"picture": "comfyui/workflow"}}
OWNER = "admin"  # an admin key may pick ComfyUI (the harness opens only the story stage's providers to users)


@pytest.fixture(scope="module")
def comfy() -> Iterator[FakeComfy]:
    yield from serve(FakeComfy())


@pytest.fixture(scope="module")
def gw(comfy: FakeComfy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    old = os.environ.get("COMFYUI_URL")
    os.environ["COMFYUI_URL"] = comfy.url  # type: ignore[attr-defined]
    try:
        with start_gateway(tmp_path_factory.mktemp("comfy-api")) as g:
            yield g
    finally:
        if old is None:
            os.environ.pop("COMFYUI_URL", None)
        else:
            os.environ["COMFYUI_URL"] = old


def _post(gw: Gateway, body: dict[str, Any], user: str = OWNER) -> httpx.Response:
    return httpx.post(f"{gw.base_url}/api/movies", json=body, headers=gw.auth(user), timeout=60)


def _count(gw: Gateway, user: str = OWNER) -> int:
    return int(httpx.get(f"{gw.base_url}/api/movies", headers=gw.auth(user)).json()["total"])


@pytest.mark.parametrize(("options", "key", "words"), [
    ({"bogus": 1}, "bogus", "the operator opens only: cfg, checkpoint"),
    ({"steps": 3, "queue_timeout_s": 5}, "queue_timeout_s", "DEEPFLIX_COMFYUI_API_OPTIONS"),
    ({"workflow": "/etc/passwd"}, "workflow", "shipped templates"),
    ({"timeout_s": 100_000}, "timeout_s", "DEEPFLIX_COMFYUI_TIMEOUT_S"),
    ({"steps": 0}, "steps", "greater than or equal to 1"),
    ({"cfg_scale": 99}, "cfg_scale", "less than or equal to 30"),
    ({"cfg": 3, "cfg_scale": 4}, "cfg_scale", "given twice"),
])
def test_a_refused_option_is_a_422_naming_it(gw: Gateway, options: dict[str, Any], key: str, words: str) -> None:
    before = _count(gw)
    r = _post(gw, {**FILM, "picture_options": options})
    assert r.status_code == 422, r.text
    err = r.json()["detail"][0]
    assert err["loc"] == ["body", "picture_options", key] and words in err["msg"], err
    assert _count(gw) == before  # no film


def test_the_operator_decides_which_keys_are_open(gw: Gateway) -> None:
    from deepflix.core import config

    os.environ["DEEPFLIX_COMFYUI_API_OPTIONS"] = "steps, scheduler"
    config.reload_settings()
    try:
        r = _post(gw, {**FILM, "picture_options": {"steps": 3, "checkpoint": "mine.safetensors"}})
    finally:
        os.environ.pop("DEEPFLIX_COMFYUI_API_OPTIONS")
        config.reload_settings()
    assert r.status_code == 422 and "'checkpoint' is not open" in r.text and "scheduler, steps" in r.text
    # a provider that takes none from callers: the default illustrator
    r = _post(gw, {**{k: v for k, v in FILM.items() if k != "providers"}, "picture_options": {"steps": 3}},
              user="alice")
    assert r.status_code == 422 and "builtin/illustrator takes no options from callers" in r.text


def test_options_reach_the_provider_and_its_cache_key(gw: Gateway, comfy: FakeComfy) -> None:
    comfy.reset()
    options = {"checkpoint": "mine.safetensors", "scheduler": "karras", "steps": 3, "cfg_scale": 4.5,
               "long_side": 256, "timeout_s": 120}
    r = _post(gw, {**FILM, "steps": 9, "picture_options": options})
    assert r.status_code == 202, r.text
    mid = r.json()["id"]
    m = wait_status(gw, OWNER, mid, "succeeded", 300)
    assert m["request"]["picture_options"] == {**{k: v for k, v in options.items() if k != "cfg_scale"}, "cfg": 4.5}
    pictures = [p["workflow"] for p in comfy.prompts]
    # the cast's portraits first (a figure and a face per character, on ComfyUI too), then the one scene
    assert len(pictures) >= 3 and len(pictures) % 2 == 1
    for wf in pictures:  # the options reach the portraits as well as the scene
        sampler = next(n["inputs"] for n in wf.values() if n["class_type"] == "KSampler")
        assert (sampler["steps"], sampler["scheduler"], sampler["cfg"]) == (3, "karras", 4.5)  # the film's 9 steps pinned
        assert next(n["inputs"]["ckpt_name"] for n in wf.values() if n["class_type"] == "CheckpointLoaderSimple") \
            == "mine.safetensors"
    wf = pictures[-1]
    assert max(next(n["inputs"] for n in wf.values() if n["class_type"] == "EmptyLatentImage")[k]
               for k in ("width", "height")) == 256
    # the dry run builds each stage's key as the workers do (with the film's options): nothing to remake
    dry = dry_rows(gw, OWNER, mid)
    assert dry["remake"] == set(), dry["rows"]
    key = next(x["key"] for x in dry["rows"] if x["stage"] == "picture")
    from deepflix.runner import stage_key

    assert key == next(s for s in _stage_keys(mid) if s[0] == "picture")[1]
    with_options, without = _keys(mid, stage_key)
    assert key == with_options != without


def _stage_keys(mid: str) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from deepflix import db
    from deepflix.db.models import Stage

    with db.read_session() as s:
        return [(st.name, str(st.artifact_key)) for st in s.scalars(select(Stage).where(Stage.movie_id == mid))]


def _keys(mid: str, stage_key: Any) -> tuple[str, str]:
    """The picture's key built here with the film's stored options (and its cast's portraits as
    the references, as the plan builds it from the stored rows), and had it carried no options."""
    from deepflix import db
    from deepflix.db.models import Movie
    from deepflix.film.options import FilmOptions
    from deepflix.film.plan import FilmParts, current
    from deepflix.jobs.compute import stored_outcome
    from deepflix.models import Story
    from deepflix.picture.comfyui import ComfyUI
    from deepflix.storage import open_store

    with db.read_session() as s:
        m = s.get(Movie, mid)
        assert m is not None
        opts, story = FilmOptions.model_validate(m.options), Story.model_validate(m.story)
        rows = {(st.name, st.scene or 0): str(st.artifact_key) for st in m.stages}
    store = open_store()

    def load(stage: str) -> list[Any]:
        n = 1 + max((i for (name, i) in rows if name == stage), default=-1)
        return [stored_outcome(store, stage, rows[(stage, i)]) for i in range(n)]

    req = current()["picture"].build(FilmParts(opts, dict(opts.providers), story=story, load=load,
                                               picture_references=True), 0)
    assert req.references  # the portraits
    return str(stage_key(ComfyUI(opts.provider_options["picture"]), req)), str(stage_key(ComfyUI(), req))
