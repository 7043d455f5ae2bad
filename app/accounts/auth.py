"""Signing in: credentials, throttling of guesses, browser sessions and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, text
from sqlmodel import Session

from app import clock
from app.accounts import selectors
from app.accounts.models import AuthToken, LoginAttempt, User
from app.accounts.passwords import password_verify
from app.accounts.schemas import normalise_username
from app.audit_trail.service import audit_record
from app.config import Settings

SESSION = "session"
API = "api"
# Write "last used" at most this often, so reads do not each cost a write.
_TOUCH_INTERVAL = timedelta(minutes=1)


class SignInResult(StrEnum):
    OK = "ok"
    INVALID = "invalid"
    DEACTIVATED = "deactivated"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class SignIn:
    result: SignInResult
    user: User | None = None
    retry_after_minutes: int = 0


def token_digest(raw: str) -> str:
    """Tokens are stored only as a SHA-256 digest: a leaked table does not leak sessions."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _failures_since(
    session: Session, column: object, value: str, since: datetime, *, reset_by_success: bool
) -> tuple[int, datetime | None]:
    last_success = None
    if reset_by_success:
        last_success = session.execute(
            select(func.max(LoginAttempt.created_at)).where(column == value, LoginAttempt.succeeded.is_(True))
        ).scalar_one_or_none()
    if last_success is not None and last_success.tzinfo is None:
        last_success = last_success.replace(tzinfo=since.tzinfo)
    start = max(since, last_success) if last_success else since
    count, oldest = session.execute(
        select(func.count(), func.min(LoginAttempt.created_at)).where(
            column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > start
        )
    ).one()
    return count, oldest


def login_throttle_minutes(session: Session, *, username: str, address: str, settings: Settings) -> int:
    """Minutes to wait before another attempt is allowed for this username or address; 0 if allowed."""
    now = clock.now()
    window = timedelta(minutes=settings.login_throttle_window_minutes)
    since = now - window
    # A success resets the count for that username only: if it reset the address count too,
    # anyone with one working account could spray guesses at others, signing in between.
    checks = (
        (LoginAttempt.username, username, settings.login_max_failures_per_username, True),
        (LoginAttempt.client_address, address, settings.login_max_failures_per_address, False),
    )
    wait = 0
    for column, value, limit, reset_by_success in checks:
        count, oldest = _failures_since(session, column, value, since, reset_by_success=reset_by_success)
        if count >= limit and oldest is not None:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=now.tzinfo)
            remaining = (oldest + window - now).total_seconds() / 60
            wait = max(wait, max(1, int(remaining + 0.999)))
    return wait


# Namespace of the PostgreSQL advisory locks that make a sign-in's count-and-check atomic (any fixed number).
_SIGN_IN_LOCKS = 0x5157


def _serialise_attempts(session: Session, *, username: str, address: str) -> None:
    """Concurrent sign-ins for one username or one address take turns until each has recorded its attempt, so
    simultaneous guesses cannot all pass the count before any is written. SQLite's transactions already take the
    write lock at BEGIN (app.db); on PostgreSQL an advisory lock per username and per address does it, always in
    that order (no deadlock), released when the request's transaction ends."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in (f"username:{username}", f"address:{address}"):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, hashtext(current_schema() || :key))"),
            {"ns": _SIGN_IN_LOCKS, "key": f":{key}"},
        )


def sign_in(session: Session, *, username: str, password: str, address: str, settings: Settings) -> SignIn:
    """Check credentials under throttling, recording the attempt and an audit event either way."""
    username = normalise_username(username)[:80]
    _serialise_attempts(session, username=username, address=address)
    wait = login_throttle_minutes(session, username=username, address=address, settings=settings)
    if wait:
        audit_record(
            session,
            actor=None,
            actor_label=username or "anonymous",
            action="auth.login_throttled",
            summary="Sign-in refused: too many failed attempts",
            entity_type="user",
            entity_id=None,
        )
        return SignIn(SignInResult.THROTTLED, retry_after_minutes=wait)
    user = selectors.user_by_username(session, username=username) if username else None
    ok, new_hash = password_verify(password, user.password_hash if user else None)
    session.add(LoginAttempt(username=username, client_address=address, succeeded=ok))
    if not ok or user is None:
        audit_record(
            session,
            actor=None,
            actor_label=username or "anonymous",
            action="auth.login_failed",
            summary="Sign-in failed: wrong username or password",
            entity_type="user",
            entity_id=user.id if user else None,
        )
        return SignIn(SignInResult.INVALID)
    if not user.active:
        audit_record(
            session,
            actor=user,
            action="auth.login_failed",
            summary="Sign-in refused: account deactivated",
            entity_type="user",
            entity_id=user.id,
        )
        return SignIn(SignInResult.DEACTIVATED)
    if new_hash:
        user.password_hash = new_hash
    user.last_login_at = clock.now()
    session.add(user)
    audit_record(session, actor=user, action="auth.login", summary="Signed in", entity_type="user", entity_id=user.id)
    return SignIn(SignInResult.OK, user=user)


def token_issue(session: Session, *, user: User, kind: str, lifetime: timedelta) -> tuple[str, AuthToken]:
    """A new random token; only its digest is stored."""
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    token = AuthToken(
        kind=kind,
        token_hash=token_digest(raw),
        user_id=user.id,
        created_at=now,
        last_used_at=now,
        expires_at=now + lifetime,
    )
    session.add(token)
    session.flush()
    return raw, token


def token_resolve(session: Session, *, raw: str, kind: str, idle: timedelta | None = None) -> User | None:
    """The active user a live token belongs to, or None if it is unknown, expired, idle, revoked or deactivated."""
    token = session.execute(
        select(AuthToken).where(AuthToken.token_hash == token_digest(raw), AuthToken.kind == kind)
    ).scalar_one_or_none()
    now = clock.now()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if idle is not None and token.last_used_at + idle <= now:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    if now - token.last_used_at >= _TOUCH_INTERVAL:
        token.last_used_at = now
        session.add(token)
    return user


def token_revoke(session: Session, *, raw: str) -> AuthToken | None:
    token = session.execute(select(AuthToken).where(AuthToken.token_hash == token_digest(raw))).scalar_one_or_none()
    if token is not None and token.revoked_at is None:
        token.revoked_at = clock.now()
        session.add(token)
    return token
