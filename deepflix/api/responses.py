"""The error answers routes declare in the OpenAPI spec, shared by the movie routes,
the admin and review routes and the stage services (stages.py), below all of them."""

from __future__ import annotations

from typing import Any

from .schemas import ErrorBody

AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No API key, or not a valid one."},
    403: {"model": ErrorBody, "description": "Not open to this key (a provider, priority high, an admin route)."},
    429: {"model": ErrorBody, "description": "Rate limit or quota reached; see Retry-After."},
}
MOVIE_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    404: {"model": ErrorBody, "description": "No such movie among the caller's."},
}
BAD_BODY: dict[int | str, dict[str, Any]] = {400: {"model": ErrorBody, "description": "The body is not UTF-8 text."}}
CONFLICT = {409: {"model": ErrorBody, "description": "Not possible in the movie's current state."}}
