"""The web interface: server-rendered pages whose scripts call the gateway's REST API.

Mount it on the gateway with ``app.include_router(deepflix.web.router)``.
"""

from .routes import router

__all__ = ["router"]
