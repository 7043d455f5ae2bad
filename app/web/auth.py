"""Who is asking, and may they: one mechanism for HTML and JSON routes alike.

HTML routes authenticate with the session cookie; `/api/` routes with a bearer
token only. `RoleGuard` is the single place where roles are checked; routes
declare the roles they need by depending on it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from app.accounts.auth import API, SESSION, token_resolve
from app.accounts.models import User
from app.accounts.roles import Role
from app.db import SessionDep
from app.errors import PermissionDenied

SESSION_COOKIE = "caseaudit_session"
API_PREFIX = "/api/"


class NotAuthenticated(Exception):
    """No valid session or token: HTML goes to the sign-in page, JSON gets 401."""


def is_api_request(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def current_user_optional(request: Request, session: SessionDep) -> User | None:
    """The signed-in user, or None. Cached on the request."""
    if hasattr(request.state, "user"):
        return request.state.user
    settings = request.app.state.settings
    user = None
    if is_api_request(request):
        raw = bearer_token(request)
        if raw:
            user = token_resolve(session, raw=raw, kind=API)
    else:
        raw = request.cookies.get(SESSION_COOKIE)
        if raw:
            user = token_resolve(session, raw=raw, kind=SESSION, idle=timedelta(minutes=settings.session_idle_minutes))
    request.state.user = user
    return user


class RoleGuard:
    """Dependency: the signed-in user, who must hold at least one of `roles` (any user if none given)."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def __call__(self, request: Request, session: SessionDep) -> User:
        user = current_user_optional(request, session)
        if user is None:
            raise NotAuthenticated()
        if self.roles and not user.has_role(*self.roles):
            needed = " or ".join(sorted(role.label for role in self.roles))
            raise PermissionDenied(f"You need the {needed} role to do this.")
        return user

    def __repr__(self) -> str:
        return f"RoleGuard({', '.join(sorted(self.roles))})"


def require_roles(*roles: Role) -> RoleGuard:
    return RoleGuard(*roles)


CurrentUser = Annotated[User, Depends(RoleGuard())]
QALead = Annotated[User, Depends(RoleGuard(Role.QA_LEAD))]
OptionalUser = Annotated[User | None, Depends(current_user_optional)]
