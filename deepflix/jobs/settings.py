"""The job system's settings: an alias of ``deepflix.core.config``'s jobs section.

Kept importable for this round (code that reads ``job_settings()`` keeps working);
new code reads ``config.settings.jobs``. The per-stage time limit lives here, not in
the section, because its fallback is the film plan's (a layer above core).
"""

from __future__ import annotations

from ..core import config
from ..core.config import JobSettings
from ..film.plan import current


def job_settings() -> JobSettings:
    """The current jobs section; a new one after ``config.reload_settings()``."""
    return config.settings.jobs


def time_limit(stage: str) -> float:
    """s one attempt of a stage may run: DEEPFLIX_TIME_LIMIT_<STAGE>, else the plan's (StageSpec.limit)."""
    return current()[stage].limit()


__all__ = ["JobSettings", "job_settings", "time_limit"]
