"""The gateway's settings: an alias of ``deepflix.core.config``'s gateway section.

Kept importable for this round (code that reads ``api_settings()`` keeps working);
new code reads ``config.settings.gateway``. ``create_app(settings=...)`` still takes
an explicit section.
"""

from __future__ import annotations

from ..core import config
from ..core.config import GatewaySettings

ApiSettings = GatewaySettings


def api_settings() -> GatewaySettings:
    return config.settings.gateway


def reload_api_settings() -> GatewaySettings:
    """Re-read the environment: all the settings, since they are one object."""
    return config.reload_settings().gateway


__all__ = ["ApiSettings", "GatewaySettings", "api_settings", "reload_api_settings"]
