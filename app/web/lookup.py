"""What the object lookups (each area's `lookups.py`) share: the 404 they answer, worded for the page or the API."""

from __future__ import annotations

from fastapi import Request

from app.errors import NotFound
from app.web.auth import is_api_request


def not_found(request: Request, *, page: str, api: str | None = None) -> NotFound:
    """The 404 for an object that does not exist or is not the user's to see: `page` on an HTML page, `api` (when the
    API words it differently) in JSON."""
    return NotFound(api if api is not None and is_api_request(request) else page)
