"""CSRF protection for cookie-authenticated requests: a signed double-submit token.

Every browser gets a random nonce in an HttpOnly cookie; pages embed
HMAC(secret, nonce) in forms (field `csrf_token`) and in htmx requests (header
`X-CSRF-Token`). A state-changing request must send the token that matches its
cookie. The JSON API takes bearer tokens only, never cookies, so it needs none.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from fastapi import Request

from app.errors import PermissionDenied

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


def csrf_token_for(nonce: str, secret: str) -> str:
    """The token a page must send back for this browser's nonce."""
    return hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def request_csrf_token(request: Request) -> str:
    nonce = getattr(request.state, "csrf_nonce", None)
    return csrf_token_for(nonce, request.app.state.settings.secret_key) if nonce else ""


async def verify_csrf(request: Request) -> None:
    """Refuse a state-changing request that does not carry this browser's CSRF token."""
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
    expected = csrf_token_for(nonce, request.app.state.settings.secret_key)
    if not hmac.compare_digest(expected, sent):
        raise CsrfFailed()
