"""Who gets in with single sign-on, and as what: the person the provider vouches for is matched to an account (or
given one), and their groups, through the mapping (app.accounts.sso.mapping), decide their roles, team, service
area and agency at every sign-in.

- The person is matched by the provider's issuer and stable subject id; failing that, by email (case ignored) among
  accounts never yet signed in with SSO, which then keep the issuer and subject: a changed email later updates the
  account's email, never makes a second person. The partner agencies' provider (`partner_provider`) is matched by
  email to partners' accounts only (those with an agency): it vouches for whatever email it likes, so it never
  reaches a staff account. (Its mapping file gives the partner role only: app.accounts.sso.mapping.)
- Someone with no account gets one from their groups when users are created on first sign-in
  (`create_users`); otherwise only pre-provisioned accounts get in.
- A known person whose groups no longer map to any role is deactivated (and their sessions ended); a deactivated
  account stays out whatever its groups (SSO never undoes a QA lead's deactivation: only a QA lead reactivates).
- Otherwise their roles, team, service area and agency follow the mapping: roles exactly as the groups give
  them, a team or service area when a rule names one (left as they are when none does), an agency only for a
  partner. Team and service area names must exist: one that does not refuses the sign-in (and changes nothing).

Every outcome is an event in the audit trail (auth.sso_sign_in, auth.sso_refused with the reason,
account.sso_provisioned, account.sso_roles_changed, account.sso_deactivated), naming accounts by id only.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import clock
from app.accounts import selectors
from app.accounts.models import ServiceArea, Team, User, UserRole
from app.accounts.passwords import password_hash
from app.accounts.roles import Role
from app.accounts.service import tokens_revoke_for_user
from app.accounts.sso.mapping import Grant, GroupMapping
from app.audit_trail.service import audit_record
from app.db import claim_version

SSO_ACTOR = "sso"  # the trail's actor label for what the group mapping did, and for refusals of nobody we know


@dataclass(frozen=True)
class Identity:
    """The person the provider vouches for (from a verified ID token and user info)."""

    issuer: str
    subject: str
    email: str | None
    name: str | None
    username: str | None  # the configured username claim's value (often the email)
    groups: tuple[str, ...]


class SsoResult(StrEnum):
    OK = "ok"
    NOT_PROVISIONED = "not_provisioned"
    UNMAPPED = "unmapped"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class SsoSignIn:
    result: SsoResult
    user: User | None
    reason: str  # plain English for the person signing in; empty when they got in


# The reason codes the trail records for a refusal, and what the person signing in is told.
NOT_PROVISIONED = "not_provisioned"
AMBIGUOUS_EMAIL = "ambiguous_email"
UNMAPPED = "unmapped"
UNKNOWN_TEAM = "unknown_team"
UNKNOWN_SERVICE_AREA = "unknown_service_area"
DEACTIVATED = "deactivated"

REASONS = {
    NOT_PROVISIONED: "Your council account is not set up in Case File Audit. Ask your QA lead to add you.",
    AMBIGUOUS_EMAIL: (
        "More than one account in Case File Audit has your email address, so we cannot tell which one is yours. "
        "Ask your QA lead."
    ),
    UNMAPPED: "Your council account is not in any group that gives access to Case File Audit. Ask your QA lead.",
    UNKNOWN_TEAM: (
        "Your council account's groups put you in a team that Case File Audit does not have (or that has closed). "
        "Ask your QA lead to check the single sign-on group mapping."
    ),
    UNKNOWN_SERVICE_AREA: (
        "Your council account's groups put you in a service area that Case File Audit does not have. "
        "Ask your QA lead to check the single sign-on group mapping."
    ),
    DEACTIVATED: (
        "Your Case File Audit account has been deactivated. Signing in with your council account does not "
        "reactivate it: ask your QA lead."
    ),
}
JUST_DEACTIVATED = (
    "Your council account is no longer in any group that gives access to Case File Audit, so your Case File Audit "
    "account has been deactivated. If you still need access, ask your QA lead."
)

_STALE = "Someone changed this account while it was signing in. Sign in again."
_MAX_EMAIL = 254
_USERNAME_CHARS = re.compile(r"[^a-z0-9._-]+")


def sso_sign_in(
    session: Session, *, identity: Identity, mapping: GroupMapping, create_users: bool, partner_provider: bool = False
) -> SsoSignIn:
    """Let the person in (OK, with their account, created or brought in line with their groups) or say why not;
    `partner_provider` when the partner agencies' provider vouches for them.

    Writes in the session's transaction; the caller commits whatever the outcome (a refusal is recorded too)."""
    return _sign_in(session, identity, mapping, create_users, partner_provider, retry=True)


def sso_refusal_record(session: Session, *, issuer: str, reason: str, detail: str) -> None:
    """Record a sign-in refused before anyone was identified (a bad token, a wrong state, an error from the provider):
    `reason` is a short code ("bad_token"), `detail` what went wrong, kept out of the summary. Never pass tokens or
    personal data in either."""
    audit_record(
        session,
        actor=None,
        actor_label=SSO_ACTOR,
        action="auth.sso_refused",
        summary=f"Single sign-on refused: {reason[:60]}",
        entity_type="user",
        entity_id=None,
        after={"reason": reason[:60], "issuer": issuer[:255], "detail": detail[:300]},
    )


def mapping_unknown_names(session: Session, mapping: GroupMapping) -> list[str]:
    """The rules that name a team or service area the database does not have (or a closed team), each as
    "path:line: message": what a sign-in through that rule would be refused for."""
    problems: list[str] = []
    for index, (group, grant) in enumerate(mapping.rules):
        at = f"{mapping.source}:{mapping.line_of(index)}: group '{group}'"
        if grant.team is not None:
            team = selectors.team_by_name(session, name=grant.team)
            if team is None:
                problems.append(f"{at}: there is no team called {grant.team}")
            elif not team.active:
                problems.append(f"{at}: the team {grant.team} has closed")
        if grant.service_area is not None and selectors.service_area_by_name(session, name=grant.service_area) is None:
            problems.append(f"{at}: there is no service area called {grant.service_area}")
    return problems


# --- the sign-in -------------------------------------------------------------------------------------------------


def _sign_in(
    session: Session,
    identity: Identity,
    mapping: GroupMapping,
    create_users: bool,
    partner_provider: bool,
    *,
    retry: bool,
) -> SsoSignIn:
    grant = mapping.grant_for(identity.groups)
    user, ambiguous = _match(session, identity, partner_provider)
    if ambiguous:
        return _refuse(session, identity, None, SsoResult.NOT_PROVISIONED, AMBIGUOUS_EMAIL)
    if user is None:
        if not create_users:
            return _refuse(session, identity, None, SsoResult.NOT_PROVISIONED, NOT_PROVISIONED)
        if grant is None:
            return _refuse(session, identity, None, SsoResult.UNMAPPED, UNMAPPED)
        placement = _placement(session, grant, current_team_id=None)
        if isinstance(placement, str):
            return _refuse(session, identity, None, SsoResult.UNMAPPED, placement)
        try:
            with session.begin_nested():
                user = _provision(session, identity, grant, placement)
        except IntegrityError:
            # The same person (or a same-named one) was created by a sign-in running at the same moment.
            if not retry:
                raise
            return _sign_in(session, identity, mapping, create_users, partner_provider, retry=False)
        return _signed_in(session, identity, user, {"provisioned": True})

    noted: dict[str, Any] = {}
    values: dict[str, Any] = {}
    if user.sso_subject is None:
        values.update(sso_issuer=identity.issuer, sso_subject=identity.subject)
        noted["linked"] = True
    email = (identity.email or "").strip()
    if email and len(email) <= _MAX_EMAIL and email.lower() != (user.email or "").lower():
        values["email"] = email
        noted["email"] = "changed"

    if not user.active:
        _claim(session, user, values)
        code = UNMAPPED if grant is None else DEACTIVATED
        result = SsoResult.UNMAPPED if grant is None else SsoResult.DEACTIVATED
        return _refuse(session, identity, user, result, code, noted)
    if grant is None:
        _deactivate(session, user, values)
        return _refuse(session, identity, user, SsoResult.UNMAPPED, UNMAPPED, noted, reason=JUST_DEACTIVATED)
    placement = _placement(session, grant, current_team_id=user.team_id)
    if isinstance(placement, str):
        _claim(session, user, values)
        return _refuse(session, identity, user, SsoResult.UNMAPPED, placement, noted)
    _apply_grant(session, user, grant, placement, values)
    return _signed_in(session, identity, user, noted)


def _match(session: Session, identity: Identity, partner_provider: bool) -> tuple[User | None, bool]:
    """(the account, False), or (None, True) when the email matches more than one account (a partner's account,
    for the partner agencies' provider)."""
    by_subject = session.exec(
        select(User).where(col(User.sso_issuer) == identity.issuer, col(User.sso_subject) == identity.subject)
    ).unique()
    user = by_subject.one_or_none()
    if user is not None:
        return user, False
    email = (identity.email or "").strip().lower()
    if not email:
        return None, False
    unlinked = select(User).where(func.lower(col(User.email)) == email, col(User.sso_subject).is_(None))
    if partner_provider:
        unlinked = unlinked.where(col(User.agency).is_not(None))
    candidates = list(session.exec(unlinked.order_by(col(User.id))).unique())
    if len(candidates) > 1:
        return None, True
    return (candidates[0] if candidates else None), False


@dataclass(frozen=True)
class _Placement:
    team: Team | None
    area: ServiceArea | None


def _placement(session: Session, grant: Grant, *, current_team_id: int | None) -> _Placement | str:
    """The team and service area the grant names, or the refusal code when one does not exist (or the team has
    closed, unless the person is already in it)."""
    team = area = None
    if grant.team is not None:
        team = selectors.team_by_name(session, name=grant.team)
        if team is None or (not team.active and team.id != current_team_id):
            return UNKNOWN_TEAM
    if grant.service_area is not None:
        area = selectors.service_area_by_name(session, name=grant.service_area)
        if area is None:
            return UNKNOWN_SERVICE_AREA
    return _Placement(team=team, area=area)


def _provision(session: Session, identity: Identity, grant: Grant, placement: _Placement) -> User:
    username = _unique_username(session, identity)
    email = (identity.email or "").strip()
    partner = Role.PARTNER in grant.roles
    user = User(
        username=username,
        full_name=" ".join((identity.name or "").split())[:200] or username,
        email=email if email and len(email) <= _MAX_EMAIL else None,
        # Nobody knows this password: the account signs in with SSO only (until a QA lead sets one).
        password_hash=password_hash(secrets.token_urlsafe(32)),
        team_id=placement.team.id if placement.team else None,
        service_area_id=placement.area.id if placement.area else None,
        agency=grant.agency.value if partner and grant.agency else None,
        sso_issuer=identity.issuer,
        sso_subject=identity.subject,
    )
    session.add(user)
    session.flush()
    _roles_set(session, user, {role.value for role in grant.roles})
    audit_record(
        session,
        actor=None,
        actor_label=SSO_ACTOR,
        action="account.sso_provisioned",
        summary=f"User {user.id} created at their first single sign-on from the group mapping",
        entity_type="user",
        entity_id=user.id,
        after={"issuer": identity.issuer, **_placing(user)},
    )
    return user


def _unique_username(session: Session, identity: Identity) -> str:
    """A username from the username claim (or the email): the part before any @, in the characters usernames
    allow, with -2, -3, ... added when it is taken."""
    raw = (identity.username or identity.email or "").strip().lower().split("@", 1)[0]
    base = _USERNAME_CHARS.sub("-", raw).strip("._-")[:80]
    if len(base) < 2:
        base = "sso-" + (_USERNAME_CHARS.sub("-", identity.subject.lower()).strip("._-")[:20] or "user")
    candidate, number = base, 1
    while selectors.user_by_username(session, username=candidate) is not None:
        number += 1
        suffix = f"-{number}"
        candidate = base[: 80 - len(suffix)].rstrip("._-") + suffix
    return candidate


def _roles_set(session: Session, user: User, wanted: set[str]) -> None:
    """Give the (flushed) account exactly these roles."""
    assert user.id is not None
    user.role_rows = [row for row in user.role_rows if row.role in wanted] + [
        UserRole(user_id=user.id, role=role) for role in sorted(wanted - user.roles)
    ]
    session.add(user)
    session.flush()
    session.refresh(user)


def _placing(user: User) -> dict[str, Any]:
    """What the group mapping decides about an account, by id (for the trail)."""
    return {
        "roles": sorted(user.roles),
        "team_id": user.team_id,
        "service_area_id": user.service_area_id,
        "agency": user.agency,
    }


def _claim(session: Session, user: User, values: dict[str, Any]) -> None:
    """Write plain fields as an edit of the account (its version moves on, so an open edit form sees the change)."""
    if values:
        claim_version(session, user, user.version, stale=_STALE, **values)


def _deactivate(session: Session, user: User, values: dict[str, Any]) -> None:
    _claim(session, user, {**values, "active": False})
    tokens_revoke_for_user(session, user=user)
    audit_record(
        session,
        actor=None,
        actor_label=SSO_ACTOR,
        action="account.sso_deactivated",
        summary=f"User {user.id} deactivated at single sign-on: no group of theirs gives a role",
        entity_type="user",
        entity_id=user.id,
        before={"active": True},
        after={"active": False},
    )


def _apply_grant(session: Session, user: User, grant: Grant, placement: _Placement, values: dict[str, Any]) -> None:
    """Bring the account's roles, team, service area and agency in line with the grant; one trail event naming
    what changed, before and after, when anything did."""
    before = _placing(user)
    wanted = {role.value for role in grant.roles}
    if placement.team is not None and placement.team.id != user.team_id:
        values["team_id"] = placement.team.id
    if placement.area is not None and placement.area.id != user.service_area_id:
        values["service_area_id"] = placement.area.id
    partner = Role.PARTNER.value in wanted
    agency = grant.agency.value if partner and grant.agency else None
    if agency != user.agency:
        values["agency"] = agency
    if not partner and user.partner_agreement_until is not None:
        values["partner_agreement_until"] = None
    roles_change = wanted != user.roles
    if values or roles_change:  # roles alone are still an edit of the account: its version moves on
        claim_version(session, user, user.version, stale=_STALE, **values)
    if roles_change:
        _roles_set(session, user, wanted)
    after = _placing(user)
    if after == before:
        return
    changed = [key for key in after if after[key] != before[key]]
    audit_record(
        session,
        actor=None,
        actor_label=SSO_ACTOR,
        action="account.sso_roles_changed",
        summary=f"User {user.id}: {', '.join(changed).replace('_id', '').replace('_', ' ')} changed by the "
        "single sign-on group mapping",
        entity_type="user",
        entity_id=user.id,
        before={key: before[key] for key in changed},
        after={key: after[key] for key in changed},
    )


def _signed_in(session: Session, identity: Identity, user: User, noted: dict[str, Any]) -> SsoSignIn:
    user.last_login_at = clock.now()
    session.add(user)
    session.flush()
    audit_record(
        session,
        actor=user,
        action="auth.sso_sign_in",
        summary="Signed in with single sign-on",
        entity_type="user",
        entity_id=user.id,
        after={"issuer": identity.issuer, **noted},
    )
    return SsoSignIn(SsoResult.OK, user, "")


def _refuse(
    session: Session,
    identity: Identity,
    user: User | None,
    result: SsoResult,
    code: str,
    noted: dict[str, Any] | None = None,
    *,
    reason: str | None = None,
) -> SsoSignIn:
    audit_record(
        session,
        actor=user,
        actor_label=None if user is not None else SSO_ACTOR,
        action="auth.sso_refused",
        summary=f"Single sign-on refused: {code}" + (f" (user {user.id})" if user is not None else ""),
        entity_type="user",
        entity_id=user.id if user is not None else None,
        after={"reason": code, "issuer": identity.issuer, **(noted or {})},
    )
    return SsoSignIn(result, user, reason or REASONS[code])
