"""The runner and the store: cache keys, hits, --force, retries, atomic publish."""

from pathlib import Path

import pytest

from deepflix import plugins
from deepflix.errors import InvalidInput, ProviderError, ProviderUnavailable
from deepflix.hookspecs import hookimpl
from deepflix.models import ScoreCue, ScoreRequest, ScoreResult
from deepflix.runner import run_stage, stage_key
from deepflix.score.base import ScoreProvider
from deepflix.storage import LocalStore


class Flaky(ScoreProvider):
    provider_id = "test/flaky"
    calls = 0
    fail_times = 0
    error: type[ProviderError] = ProviderUnavailable

    def generate(self, request: ScoreRequest, ctx):  # type: ignore[no-untyped-def]
        type(self).calls += 1
        if type(self).calls <= type(self).fail_times:
            (ctx.out_dir / "partial.wav").write_bytes(b"half")
            raise type(self).error("service down", retry_after=0.0)
        (ctx.out_dir / "score.wav").write_bytes(b"RIFF" + bytes(str(request.duration), "ascii"))
        return ScoreResult(audio="score.wav", sample_rate=48000, duration=request.duration)


class Plugin:
    @hookimpl
    def register_score_providers(self, register):  # type: ignore[no-untyped-def]
        register(Flaky)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture(autouse=True)
def flaky_registered():  # type: ignore[no-untyped-def]
    plugin = Plugin()
    plugins.pm.register(plugin, "test-flaky")
    plugins.reset()
    Flaky.calls, Flaky.fail_times, Flaky.error = 0, 0, ProviderUnavailable
    yield
    plugins.pm.unregister(plugin)
    plugins.reset()


def req(d: float = 10.0) -> ScoreRequest:
    return ScoreRequest(genre="noir", cues=[ScoreCue(start=0, duration=d)], duration=d)


def test_second_run_is_a_cache_hit(store: LocalStore) -> None:
    a = run_stage("score", req(), store=store, provider="test/flaky")
    b = run_stage("score", req(), store=store, provider="test/flaky")
    assert not a.cached and b.cached
    assert a.key == b.key and Flaky.calls == 1
    assert b.result == a.result
    assert store.resolve(b.ref("score.wav")).read_bytes() == b"RIFF10.0"


def test_other_inputs_other_key(store: LocalStore) -> None:
    a = run_stage("score", req(10), store=store, provider="test/flaky")
    b = run_stage("score", req(11), store=store, provider="test/flaky")
    assert a.key != b.key and Flaky.calls == 2


def test_force_recomputes(store: LocalStore) -> None:
    run_stage("score", req(), store=store, provider="test/flaky")
    c = run_stage("score", req(), store=store, provider="test/flaky", force=True)
    assert not c.cached and Flaky.calls == 2


def test_transient_errors_are_retried_and_leave_nothing(store: LocalStore) -> None:
    Flaky.fail_times = 2
    slept: list[float] = []
    oc = run_stage("score", req(), store=store, provider="test/flaky", retries=3, sleep=slept.append)
    assert oc.attempts == 3 and slept == [0.0, 0.0]
    files = sorted(p.name for p in Path(store.root).rglob("*") if p.is_file())
    assert files == ["result.json", "score.wav"]  # no partial.wav, no staging leftovers


def test_retries_exhausted_reports_stage(store: LocalStore) -> None:
    Flaky.fail_times = 10
    with pytest.raises(ProviderUnavailable) as exc:
        run_stage("score", req(), store=store, provider="test/flaky", retries=2, sleep=lambda s: None, scene=None)
    assert Flaky.calls == 3
    assert "[score] service down" == str(exc.value)
    assert not store.has(stage_key(Flaky(), req()))


def test_permanent_errors_are_not_retried(store: LocalStore) -> None:
    Flaky.fail_times, Flaky.error = 5, ProviderError
    with pytest.raises(ProviderError):
        run_stage("score", req(), store=store, provider="test/flaky", retries=3, sleep=lambda s: None)
    assert Flaky.calls == 1


def test_wrong_stage_and_unknown_provider(store: LocalStore) -> None:
    with pytest.raises(InvalidInput):
        run_stage("story", req(), store=store, provider=Flaky())
    with pytest.raises(Exception, match="no score provider named 'nope'"):
        run_stage("score", req(), store=store, provider="nope")


def test_corrupt_result_is_recomputed(store: LocalStore) -> None:
    a = run_stage("score", req(), store=store, provider="test/flaky")
    (store.root / a.key[:2] / a.key / "result.json").write_text("{not json")
    b = run_stage("score", req(), store=store, provider="test/flaky")
    assert not b.cached and Flaky.calls == 2
