"""Writes and rules for users, teams, service areas and training records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from app import clock
from app.accounts import selectors
from app.accounts.models import AuthToken, ServiceArea, Team, TrainingRecord, User, UserRole
from app.accounts.passwords import password_hash
from app.accounts.roles import AGENCY_LABELS, Agency, Role
from app.accounts.schemas import TeamCreate, TeamUpdate, TrainingCreate, UserCreate, UserUpdate
from app.audit_trail.service import audit_record
from app.db import claim_version
from app.errors import ValidationFailed


def _stale(noun: str) -> str:
    return (
        f"Someone else changed this {noun} while you were editing it. "
        "Check the current details and make your change again."
    )


def service_area_get_or_create(session: Session, *, name: str, actor: User | None) -> ServiceArea:
    """The service area with this name (case and spacing ignored), created if new."""
    area = selectors.service_area_by_name(session, name=name)
    if area is None:
        area = ServiceArea(name=name)
        session.add(area)
        session.flush()
        audit_record(
            session,
            actor=actor,
            action="service_area.create",
            summary=f"Service area {name} created",
            entity_type="service_area",
            entity_id=area.id,
            after={"name": name},
        )
    return area


def _team_summary(team: Team) -> dict[str, Any]:
    return {
        "name": team.name,
        "service_area": team.service_area.name,
        "active": team.active,
        "manager_id": team.manager_id,
    }


def team_create(session: Session, *, data: TeamCreate, actor: User | None) -> Team:
    if selectors.team_by_name(session, name=data.name):
        raise ValidationFailed({"name": f"A team called {data.name} already exists"})
    area = service_area_get_or_create(session, name=data.service_area, actor=actor)
    team = Team(name=data.name, service_area_id=area.id)
    session.add(team)
    session.flush()
    session.refresh(team)
    audit_record(
        session,
        actor=actor,
        action="team.create",
        summary=f"Team {team.name} created",
        entity_type="team",
        entity_id=team.id,
        after=_team_summary(team),
    )
    return team


# Moves what belongs to a team (its cases, its recommendations) to the team's new service area and says how many
# of each it moved: supplied by app.flows.teams, which knows those areas (this package does not).
AreaFollower = Callable[[Session, Team], dict[str, int]]


def team_update(
    session: Session, *, team: Team, data: TeamUpdate, actor: User | None, follow_area: AreaFollower | None = None
) -> Team:
    """Change a team. When its service area changes, `follow_area` moves what belongs to it in the same transaction,
    and the move is recorded as one event ("team.move") with the counts.

    The version is claimed first (one statement: a stale form is a Conflict that changed nothing); a refusal after
    it leaves the claim in the transaction, so callers that show a refusal run this in app.web.forms.attempt."""
    before = _team_summary(team)
    old_area_id = team.service_area_id
    claim_version(session, team, data.version, stale=_stale("team"))
    if data.name is not None and data.name != team.name:
        existing = selectors.team_by_name(session, name=data.name)
        if existing and existing.id != team.id:
            raise ValidationFailed({"name": f"A team called {data.name} already exists"})
        team.name = data.name
    if data.service_area is not None:
        area = service_area_get_or_create(session, name=data.service_area, actor=actor)
        team.service_area_id = area.id
    if data.active is not None:
        team.active = data.active
    if "manager_id" in data.model_fields_set and data.manager_id != team.manager_id:
        manager = session.get(User, data.manager_id) if data.manager_id is not None else None
        if data.manager_id is not None and (manager is None or not manager.active):
            raise ValidationFailed({"manager_id": "Choose the team manager from the list of active users"})
        team.manager_id = data.manager_id
    session.add(team)
    session.flush()
    session.refresh(team)
    after = _team_summary(team)
    action, summary = "team.update", f"Team {team.name} changed"
    if before["active"] != after["active"]:
        action = "team.deactivate" if not team.active else "team.reactivate"
    if team.service_area_id != old_area_id:
        moved = follow_area(session, team) if follow_area is not None else {}
        after.update(moved)
        action = "team.move"
        counts = ", ".join(f"{count} {what.replace('_', ' ')}" for what, count in moved.items())
        summary = f"Team {team.name} moved from {before['service_area']} to {after['service_area']}" + (
            f" with {counts}" if counts else ""
        )
    audit_record(
        session,
        actor=actor,
        action=action,
        summary=summary,
        entity_type="team",
        entity_id=team.id,
        before=before,
        after=after,
    )
    return team


def _user_summary(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "roles": sorted(user.roles),
        "team": user.team.name if user.team else None,
        "service_area": user.service_area.name if user.service_area else None,
        "agency": user.agency,
        "partner_agreement_until": user.partner_agreement_until.isoformat() if user.partner_agreement_until else None,
        "active": user.active,
    }


NEEDS_AGENCY = "Choose the partner's agency: a partner agency representative needs one"
ONLY_PARTNERS = "Only a partner agency representative has an agency: tick the partner role, or leave the agency blank"
ONLY_PARTNERS_AGREE = (
    "Only a partner agency representative has a partner agreement: tick the partner role, or leave the date blank"
)


def _partner_fields(
    roles: set[str], agency: Agency | str | None, until: Any, *, sent: set[str]
) -> tuple[str | None, Any]:
    """The agency and agreement date a user with `roles` keeps: a partner needs an agency (one of Agency); anyone
    else has neither (sending one is refused; one left from a partner role just removed is cleared)."""
    partner = Role.PARTNER.value in roles
    errors: dict[str, str] = {}
    value = agency.value if isinstance(agency, Agency) else agency
    if value is not None and value not in AGENCY_LABELS:
        errors["agency"] = "Choose the agency from the list: " + ", ".join(a.value for a in Agency)
    if partner and value is None and "agency" not in errors:
        errors["agency"] = NEEDS_AGENCY
    if not partner and value is not None and "agency" in sent:
        errors["agency"] = ONLY_PARTNERS
    if not partner and until is not None and "partner_agreement_until" in sent:
        errors["partner_agreement_until"] = ONLY_PARTNERS_AGREE
    if errors:
        raise ValidationFailed(errors)
    return (value, until) if partner else (None, None)


def _resolve_team(session: Session, team_id: int | None, *, current_team_id: int | None = None) -> Team | None:
    """The team to put a user in: it must exist and be active, unless the user is already in it."""
    if team_id is None:
        return None
    team = selectors.team_get(session, team_id=team_id)
    if team is None or (not team.active and team.id != current_team_id):
        raise ValidationFailed({"team_id": "Select a team from the list"})
    return team


def _resolve_area(session: Session, name: str | None) -> ServiceArea | None:
    if name is None:
        return None
    area = selectors.service_area_by_name(session, name=name)
    if area is None:
        raise ValidationFailed({"service_area": f"There is no service area called {name}"})
    return area


def user_create(session: Session, *, data: UserCreate, actor: User | None, hashed_password: str | None = None) -> User:
    """Create a user with roles; `hashed_password` lets bulk loaders skip re-hashing a shared password."""
    if selectors.user_by_username(session, username=data.username):
        raise ValidationFailed({"username": f"The username {data.username} is already taken"})
    team = _resolve_team(session, data.team_id)
    area = _resolve_area(session, data.service_area)
    agency, until = _partner_fields(
        {role.value for role in data.roles}, data.agency, data.partner_agreement_until, sent=data.model_fields_set
    )
    user = User(
        username=data.username,
        full_name=data.full_name,
        email=str(data.email) if data.email else None,
        password_hash=hashed_password or password_hash(data.password),
        team_id=team.id if team else None,
        service_area_id=area.id if area else None,
        agency=agency,
        partner_agreement_until=until,
    )
    user.role_rows = [UserRole(role=role.value) for role in sorted(set(data.roles))]
    session.add(user)
    session.flush()
    session.refresh(user)
    audit_record(
        session,
        actor=actor,
        action="user.create",
        summary=f"User {user.username} created",
        entity_type="user",
        entity_id=user.id,
        after=_user_summary(user),
    )
    return user


def user_update(session: Session, *, user: User, data: UserUpdate, actor: User | None) -> User:
    """Apply the fields that were sent. The version is claimed with the plain fields in one statement (a stale
    version is a Conflict that changed nothing); the checks on the team, the service area and the roles follow, and a
    refusal there leaves the claim in the transaction: callers that show a refusal run this in
    app.web.forms.attempt (a savepoint), and the API's error rolls the whole request back."""
    sent = data.model_fields_set
    before = _user_summary(user)
    deactivating = "active" in sent and data.active is False and user.active
    # A password reset (after a compromise, say) ends every session and token the user had.
    resetting_password = "password" in sent and bool(data.password)
    plain: dict[str, Any] = {}
    if "full_name" in sent and data.full_name:
        plain["full_name"] = data.full_name
    if "email" in sent:
        plain["email"] = str(data.email) if data.email else None
    if resetting_password and data.password:
        plain["password_hash"] = password_hash(data.password)
    if "active" in sent and data.active is not None:
        plain["active"] = data.active
    claim_version(session, user, data.version, stale=_stale("user"), **plain)

    team = _resolve_team(session, data.team_id, current_team_id=user.team_id) if "team_id" in sent else None
    area = _resolve_area(session, data.service_area) if "service_area" in sent else None
    wanted = {role.value for role in data.roles} if "roles" in sent and data.roles else None
    acting_on_self = actor is not None and actor.id == user.id
    if wanted is not None and acting_on_self and "qa_lead" in user.roles and "qa_lead" not in wanted:
        raise ValidationFailed({"roles": "You cannot remove the QA lead role from your own account"})
    if "active" in sent and data.active is False and acting_on_self:
        raise ValidationFailed({"active": "You cannot deactivate your own account"})
    if sent & {"roles", "agency", "partner_agreement_until"}:  # otherwise they stay as they are
        user.agency, user.partner_agreement_until = _partner_fields(
            wanted if wanted is not None else user.roles,
            data.agency if "agency" in sent else user.agency,
            data.partner_agreement_until if "partner_agreement_until" in sent else user.partner_agreement_until,
            sent=sent,
        )
    if "team_id" in sent:
        user.team_id = team.id if team else None
    if "service_area" in sent:
        user.service_area_id = area.id if area else None
    if wanted is not None:
        user.role_rows = [r for r in user.role_rows if r.role in wanted] + [
            UserRole(role=role) for role in sorted(wanted - user.roles)
        ]
    session.add(user)
    session.flush()
    session.refresh(user)
    if deactivating or resetting_password:
        tokens_revoke_for_user(session, user=user)
    after = _user_summary(user)
    action = "user.update"
    if before["active"] != after["active"]:
        action = "user.deactivate" if not user.active else "user.reactivate"
    elif before["roles"] != after["roles"]:
        action = "user.roles_change"
    changed_before = {k: v for k, v in before.items() if after[k] != v}
    changed_after = {k: after[k] for k in changed_before}
    if "password" in sent and data.password:
        changed_after["password"] = "changed"
    audit_record(
        session,
        actor=actor,
        action=action,
        summary=f"User {user.username} changed",
        entity_type="user",
        entity_id=user.id,
        before=changed_before,
        after=changed_after,
    )
    return user


def tokens_revoke_for_user(session: Session, *, user: User, keep_token_hash: str | None = None) -> None:
    """End every browser session and API token the user holds (but the one named, if any)."""
    stmt = update(AuthToken).where(AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None))
    if keep_token_hash is not None:
        stmt = stmt.where(AuthToken.token_hash != keep_token_hash)
    session.execute(stmt.values(revoked_at=clock.now()))


def password_change(session: Session, *, user: User, new_password: str, keep_token_hash: str | None) -> User:
    """A user changes their own password: their other sessions and API tokens end, this one stays."""
    claim_version(session, user, user.version, stale=_stale("user"), password_hash=password_hash(new_password))
    tokens_revoke_for_user(session, user=user, keep_token_hash=keep_token_hash)
    audit_record(
        session,
        actor=user,
        action="user.password_change",
        summary=f"User {user.username} changed their password",
        entity_type="user",
        entity_id=user.id,
        after={"password": "changed", "other_sessions": "ended"},
    )
    return user


def training_record_add(session: Session, *, user: User, data: TrainingCreate, actor: User | None) -> TrainingRecord:
    record = TrainingRecord(
        user_id=user.id,
        kind=data.kind.value,
        completed_on=data.completed_on,
        expires_on=data.expires_on,
        recorded_by_id=actor.id if actor else None,
    )
    session.add(record)
    session.flush()
    audit_record(
        session,
        actor=actor,
        action="training.record",
        summary=f"{data.kind.value.capitalize()} training recorded for {user.username}",
        entity_type="user",
        entity_id=user.id,
        after={"kind": record.kind, "completed_on": record.completed_on, "expires_on": record.expires_on},
    )
    return record
