"""One stage of one movie, computed exactly as `deepflix make` computes it.

The requests come from the same pure builders pipeline.make_film uses
(picture_request, speech_request, timeline, score_request, subtitle_cues,
cut_request, segment_requests), and runner.run_stage does the cache lookup,
the provider call and the atomic publish. So a film made by the fleet has the
same stage keys, and the same bytes, as one made in process with the same
request and seed. This module touches no database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from ..core import config
from ..errors import DeepFlixError
from ..models import (
    CutResult,
    PictureResult,
    ScoreResult,
    SegmentResult,
    SpeechResult,
    Story,
    StoryRequest,
)
from ..pipeline import (
    FilmOptions,
    cut_request,
    picture_request,
    score_request,
    segment_requests,
    speech_request,
    subtitle_cues,
    timed_story,
    timeline,
)
from ..runner import StageOutcome, run_stage
from ..storage import ArtifactStore
from .state import Done, Job

RESULT_MODELS: dict[str, type[BaseModel]] = {
    "story": Story, "picture": PictureResult, "speech": SpeechResult, "score": ScoreResult,
    "segment": SegmentResult, "cut": CutResult,
}


class ArtifactMissing(DeepFlixError):
    """A finished stage's artifact is gone from the store."""


def stored_outcome(store: ArtifactStore, stage: str, key: str | None, provider: str = "") -> StageOutcome:
    stored = store.load_result(key) if key else None
    if stored is None:
        raise ArtifactMissing(f"the {stage} artifact {str(key)[:12]}… is missing from the store; retry the movie")
    return StageOutcome(stage, key or "", RESULT_MODELS[stage].model_validate(stored["result"]), True, 0.0,
                        str(stored.get("provider", provider)))


class Film:
    """The parts of one movie that later stages are built from."""

    def __init__(self, job: Job, store: ArtifactStore) -> None:
        self.job, self.store = job, store
        self.opts = FilmOptions.model_validate(job.options)
        self.providers: dict[str, str] = dict(self.opts.providers)
        self._story: Story | None = None

    @property
    def story(self) -> Story:
        if self._story is None:
            if self.job.story is None:
                raise DeepFlixError("the movie has no story yet")
            self._story = Story.model_validate(self.job.story)
        return self._story

    def outcomes(self, stage: str) -> list[StageOutcome]:
        keys = self.job.keys.get(stage, [])
        return [stored_outcome(self.store, stage, k, self.providers.get(stage, "")) for k in keys]

    def scene_parts(self) -> tuple[list[StageOutcome], list[StageOutcome], list[SpeechResult], Any]:
        n = len(self.story.scenes)
        pictures, speeches = self.outcomes("picture"), self.outcomes("speech")
        if len(pictures) != n or len(speeches) != n:
            raise DeepFlixError(f"expected {n} pictures and speeches, found {len(pictures)} and {len(speeches)}")
        speech_results: list[SpeechResult] = [oc.result for oc in speeches]
        slots = timeline(self.story, speech_results, self.opts.fps)
        return pictures, speeches, speech_results, slots

    def cut_base(self) -> Any:
        """make_film's first cut request: before the score and segments exist."""
        pictures, speeches, speech_results, slots = self.scene_parts()
        cues = subtitle_cues(self.story, slots, speech_results)
        return cut_request(self.story, slots, pictures, speeches, None, cues, self.opts, self.providers), slots

    def request(self) -> BaseModel:
        stage, i = self.job.stage, self.job.scene
        if stage == "story":
            return StoryRequest.model_validate(self.job.request["story"])
        if stage == "picture":
            assert i is not None
            return picture_request(self.story, i, self.opts)
        if stage == "speech":
            assert i is not None
            return speech_request(self.story, i)
        if stage == "score":
            _, _, _, slots = self.scene_parts()
            return score_request(self.story, slots)
        if stage == "segment":
            assert i is not None
            creq, _ = self.cut_base()
            return segment_requests(creq, self.opts)[i]
        if stage == "cut":
            creq, _ = self.cut_base()
            score = self.outcomes("score")[0]
            segments = self.outcomes("segment")
            final: BaseModel = creq.model_copy(update={
                "score": score.ref(score.result.audio),
                "segments": [oc.ref(oc.result.video) for oc in segments],
            })
            return final
        raise DeepFlixError(f"unknown stage {stage!r}")

    def film_result(self, cut: StageOutcome) -> tuple[dict[str, Any], dict[str, Any]]:
        """What pipeline.export records of a film: its files, keys and the timed story."""
        _, _, _, slots = self.scene_parts()
        res: CutResult = cut.result
        files = {label: {"key": cut.key, "name": name} for label, name in (
            ("movie", res.video), ("srt", res.srt), ("vtt", res.vtt), ("poster", res.poster), ("preview", res.preview),
        ) if name}
        result = {
            "files": files,
            "duration": res.duration,
            "width": res.width,
            "height": res.height,
            "providers": self.providers,
            "artifacts": {
                "story": (self.job.keys.get("story") or [None])[0],
                "pictures": self.job.keys.get("picture", []),
                "speech": self.job.keys.get("speech", []),
                "score": (self.job.keys.get("score") or [None])[0],
                "segments": self.job.keys.get("segment", []),
                "cut": cut.key,
            },
        }
        return result, timed_story(self.story, slots).model_dump(mode="json")


def compute(job: Job, store: ArtifactStore, progress: Callable[[float, str], None] | None = None) -> Done:
    film = Film(job, store)
    req = film.request()
    oc = run_stage(job.stage, req, store=store, provider=film.providers[job.stage],
                   retries=config.settings.deepflix_retries, scene=job.scene, progress=progress,
                   options=film.opts.provider_options.get(job.stage))
    done = Done(key=oc.key, cached=oc.cached, seconds=oc.seconds, provider=oc.provider)
    if job.stage == "story":
        done.story = oc.result.model_dump(mode="json")
    elif job.stage == "cut":
        done.result, done.story = film.film_result(oc)
    return done
