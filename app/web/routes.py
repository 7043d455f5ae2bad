"""The app's routes as served: included routers flattened, each with its full path and its dependencies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

try:  # FastAPI >= 0.137 keeps included routers as contexts
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI flattened included routers into app.routes
    iter_route_contexts = None  # type: ignore[assignment]


def flat_routes(app: FastAPI) -> Iterator[Any]:
    """Every route (a RouteContext on newer FastAPI: its `path`, `methods`, `dependant` and `responses` are the
    served ones, which /openapi.json is built from)."""
    if iter_route_contexts is None:  # pragma: no cover
        yield from app.routes
        return
    yield from iter_route_contexts(app.routes)


def api_routes(app: FastAPI) -> Iterator[Any]:
    """The FastAPI operations (not mounts or plain Starlette routes)."""
    for route in flat_routes(app):
        if isinstance(getattr(route, "original_route", route), APIRoute):
            yield route


def dependency_calls(dependant: Dependant) -> Iterator[Any]:
    """Every dependency an operation runs, however deeply nested."""
    for sub in dependant.dependencies:
        yield sub.call
        yield from dependency_calls(sub)
