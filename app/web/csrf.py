"""CSRF protection for cookie-authenticated requests: a signed double-submit token.

Every browser gets a random nonce in an HttpOnly cookie; pages embed
HMAC(secret, nonce, session) in forms (field `csrf_token`) and in htmx requests
(header `X-CSRF-Token`). A state-changing request must send the token that
matches its cookie and its sign-in session, so a token is no use in another
session; signing in gives the browser a new nonce as well. The JSON API takes
bearer tokens only, never cookies, so it needs none.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from fastapi import Request

from app.errors import PermissionDenied
from app.web.auth import SESSION_COOKIE

CSRF_COOKIE = "caseaudit_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,64}")


class CsrfFailed(PermissionDenied):
    def __init__(self) -> None:
        super().__init__(
            "This form could not be sent because it had expired or came from another site. "
            "Go back, reload the page and try again."
        )


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def valid_nonce(value: str | None) -> bool:
    return bool(value and _NONCE_PATTERN.fullmatch(value))


def csrf_token_for(nonce: str, secret: str, session: str | None = None) -> str:
    """The token a page must send back for this browser's nonce and sign-in session (None: signed out)."""
    bound_to = hashlib.sha256((session or "").encode()).hexdigest()
    return hmac.new(secret.encode(), f"{nonce}:{bound_to}".encode(), hashlib.sha256).hexdigest()


def request_csrf_token(request: Request) -> str:
    nonce = getattr(request.state, "csrf_nonce", None)
    if not nonce:
        return ""
    return csrf_token_for(nonce, request.app.state.settings.secret_key, request.cookies.get(SESSION_COOKIE))


async def verify_csrf(request: Request) -> None:
    """Refuse a state-changing request that does not carry this browser's CSRF token for its session."""
    if request.method in SAFE_METHODS:
        return
    nonce = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not valid_nonce(nonce) or not sent:
        raise CsrfFailed()
    assert nonce is not None
    expected = csrf_token_for(nonce, request.app.state.settings.secret_key, request.cookies.get(SESSION_COOKIE))
    if not hmac.compare_digest(expected, sent):
        raise CsrfFailed()
