"""Run one stage: look its key up in the store, else call the provider, with
retries for transient faults, and publish the result atomically.

The key is a hash of (stage, provider id, provider version, options, request),
so the same inputs are never computed twice, in one process or across a fleet.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import DeepFlixError, InvalidInput, ProviderBadOutput, ProviderError
from .models import ArtifactRef
from .plugins import get_provider
from .provider import Provider, StageContext
from .storage import ArtifactBroken, ArtifactStore
from .storage.parts import remembered

log = logging.getLogger("deepflix.runner")

MAX_BACKOFF = 60.0


@dataclass
class StageOutcome:
    stage: str
    key: str
    result: Any  # the stage's result model
    cached: bool
    seconds: float
    provider: str
    attempts: int = 0

    def ref(self, name: str) -> ArtifactRef:
        return ArtifactRef(key=self.key, name=name)


def _no_progress(fraction: float, message: str = "") -> None:
    return None


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def stage_key(provider: Provider, request: BaseModel) -> str:
    body = {"stage": provider.stage, **provider.cache_identity(), "request": request.model_dump(mode="json")}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def load_cached(store: ArtifactStore, provider: Provider, key: str) -> Any | None:
    stored = store.load_verified(key)  # a file truncated or gone, or garbage result.json: a miss
    if stored is None:
        return None
    try:
        return provider.result_model.model_validate(stored["result"])
    except (KeyError, ValidationError):
        log.warning("stored result %s is unreadable; recomputing", key[:12])
        store.delete(key)
        return None


def run_stage(
    stage: str,
    request: BaseModel,
    *,
    store: ArtifactStore,
    provider: Provider | str | None = None,
    force: bool = False,
    retries: int = 3,
    scene: int | None = None,
    progress: Callable[[float, str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    options: dict[str, Any] | None = None,  # the provider's Options, when provider is a name
) -> StageOutcome:
    prov = provider if isinstance(provider, Provider) else get_provider(stage, provider, options)
    if prov.stage != stage:
        raise InvalidInput(f"{prov.provider_id} is a {prov.stage} provider, not a {stage} provider")
    key = stage_key(prov, request)
    t0 = time.perf_counter()
    if not force:
        cached = load_cached(store, prov, key)
        if cached is not None:
            return StageOutcome(stage, key, cached, True, time.perf_counter() - t0, prov.provider_id)

    prov.check_inputs(request)
    attempt = 0
    while True:
        attempt += 1
        staging = store.staging(key)
        ctx = StageContext(out_dir=staging.dir, resolve=store.resolve, progress=progress or _no_progress,
                           remember=functools.partial(remembered, store))
        try:
            result = prov.generate(request, ctx)
            if not isinstance(result, prov.result_model):
                raise ProviderBadOutput(f"{prov.provider_id} returned {type(result).__name__}, not a result")
            staging.publish(
                {
                    "stage": stage,
                    "provider": prov.provider_id,
                    "version": prov.version,
                    "seconds": round(time.perf_counter() - t0, 3),
                    "result": result.model_dump(mode="json"),
                }
            )
            return StageOutcome(stage, key, result, False, time.perf_counter() - t0, prov.provider_id, attempt)
        except ProviderError as exc:
            staging.discard()
            exc.stage, exc.scene = stage, scene
            if not exc.transient or attempt > retries:
                raise
            delay = min(MAX_BACKOFF, exc.retry_after if exc.retry_after is not None else 0.5 * 2 ** (attempt - 1))
            log.warning("%s attempt %d failed (%s); retrying in %.1fs", stage, attempt, exc, delay)
            sleep(delay)
        except (DeepFlixError, ArtifactBroken):  # a broken input: the caller can make it again (jobs/repair.py)
            staging.discard()
            raise
        except Exception as exc:  # a provider bug: report it plainly, keep the cause for logs
            staging.discard()
            err = ProviderError(f"{prov.provider_id} failed: {type(exc).__name__}: {exc}")
            err.stage, err.scene = stage, scene
            raise err from exc
        except BaseException:  # interrupted (a cancelled film's stage, a time limit): leave nothing half-made
            staging.discard()
            raise
