"""The error responses each API operation can give, worked out from what the operation depends on, so the OpenAPI
document lists what the operation really returns (and `make security` checks that it does, status by status).

- a role guard (any signed-in user, or named roles): 401 without a valid bearer token; 403 when the role is wrong
  (only for named roles);
- an id in the path: 404 when there is no such record, or none the caller may see;
- any parameter or body: 422 naming what is wrong;
- a body with a `version`: 409 when someone else changed the record first;
- any body: 400 when it cannot be read at all, 413 when it is larger than MAX_UPLOAD_MB.
An operation's own `responses=` (more specific descriptions, 429 and the like) is kept as written.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from app.web.auth import RoleGuard
from app.web.routes import api_routes, dependency_calls

DESCRIPTIONS = {
    400: "The body could not be read (not valid JSON or form data, or not UTF-8)",
    401: "Not signed in: no bearer token, or one that has expired or been revoked",
    403: "Signed in, but without a role that may do this",
    404: "No such record, or not one you may see",
    409: "Someone else changed it first: read it again and send the new version",
    413: "The request body is larger than MAX_UPLOAD_MB",
    422: "A value that is not valid, named in `detail[].loc`",
}


def _has_version(dependant: Dependant) -> bool:
    for param in dependant.body_params:
        annotation = param.field_info.annotation
        fields = getattr(annotation, "model_fields", {})
        if param.name == "version" or "version" in fields:
            return True
    return False


def _params(dependant: Dependant, kind: str) -> list[Any]:
    """The operation's parameters of one kind, its dependencies' included (an id in the path is usually read by a
    lookup dependency, `app/<area>/lookups.py`, not by the operation itself)."""
    return [*getattr(dependant, kind), *(p for sub in dependant.dependencies for p in _params(sub, kind))]


def expected_statuses(route: Any) -> set[int]:
    dependant = route.dependant
    guards = [call for call in dependency_calls(dependant) if isinstance(call, RoleGuard)]
    codes: set[int] = set()
    if guards:
        codes.add(401)
        if any(guard.roles for guard in guards):
            codes.add(403)
    if _params(dependant, "path_params"):
        codes.update({404, 422})
    if _params(dependant, "query_params") or dependant.body_params:
        codes.add(422)
    if dependant.body_params:
        codes.update({400, 413})
    if _has_version(dependant):
        codes.add(409)
    return codes


def document_responses(app: FastAPI) -> None:
    """Add the error responses each /api operation can give to its OpenAPI entry (keeping any already written)."""
    for route in api_routes(app):
        if route.path.startswith("/api/"):
            for code in sorted(expected_statuses(route)):
                route.responses.setdefault(code, {"description": DESCRIPTIONS[code]})
                route.responses[code].setdefault("description", DESCRIPTIONS[code])
