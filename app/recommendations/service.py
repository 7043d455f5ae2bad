"""Raising recommendations and moving them through their life: every change names the version it was made
against (a stale one changes nothing: Conflict), keeps a history row for the recommendation's page, and goes
into the audit trail. The text and evidence are case detail: they stay on the recommendation, never in the trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from app import clock
from app.accounts.models import ServiceArea, Team, User
from app.accounts.roles import Role
from app.audit_templates.models import TemplateVersion
from app.audit_templates.service import template_definition
from app.audit_trail.service import audit_record
from app.audits.models import Audit
from app.audits.replies.service import is_case_manager, is_case_worker
from app.cases.models import Case
from app.config import Settings
from app.db import claim_version
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.recommendations import rules, scope
from app.recommendations.models import (
    Recommendation,
    RecommendationEvent,
    RecommendationTheme,
    Theme,
)
from app.sampling.models import Cycle

TEXT_MAX_LENGTH = 5000
NOTE_MAX_LENGTH = 5000
STALE_MESSAGE = (
    "This recommendation has been changed since you opened it, by someone else or in another tab. "
    "Nothing you just sent was saved: reload the page to see the latest, then try again."
)
# Who may own a recommendation: anyone active who works cases or runs the service (not a read-only viewer).
OWNER_ROLES = (Role.PRACTITIONER, Role.HEAD_OF_SERVICE, Role.QA_LEAD, Role.AUDITOR, Role.MODERATOR)


def thresholds(settings: Settings) -> rules.Thresholds:
    return rules.Thresholds(
        team_manager=settings.escalate_team_manager_days,
        head_of_service=settings.escalate_head_of_service_days,
        director=settings.escalate_director_days,
    )


def due_days(settings: Settings) -> dict[str, int]:
    return {"urgent": settings.due_days_urgent, "high": settings.due_days_high, "normal": settings.due_days_normal}


# --- Who owns it by default ---------------------------------------------------------------------------


def _active_users(session: Session) -> list[User]:
    stmt = select(User).where(User.active.is_(True)).order_by(func.lower(User.full_name), User.id)
    return list(session.execute(stmt).unique().scalars())


def default_owner(session: Session, *, case: Case) -> User | None:
    """The case's worker when they are mapped to an account, else its team's manager (both by identity, never by
    name: app.cases.people)."""
    for user_id, is_theirs in ((case.worker_user_id, is_case_worker), (case.manager_user_id, is_case_manager)):
        user = session.get(User, user_id) if user_id is not None else None
        if user is not None and is_theirs(user, case):
            return user
    return None


def owner_choices(session: Session) -> list[User]:
    return [u for u in _active_users(session) if u.has_role(*OWNER_ROLES)]


def active_themes(session: Session) -> list[Theme]:
    stmt = select(Theme).where(Theme.active.is_(True)).order_by(func.lower(Theme.name))
    return list(session.execute(stmt).scalars())


def section_choices(session: Session, *, audit: Audit) -> list[tuple[str, str]]:
    """(key, title) of the audit's template sections, for the "which finding" question."""
    version = session.get(TemplateVersion, audit.template_version_id)
    assert version is not None  # a foreign key
    return [(s.key, s.title) for s in template_definition(version).sections]


# --- Raising ----------------------------------------------------------------------------------------


def _clean(value: Any) -> str:
    return value.replace("\x00", "").strip() if isinstance(value, str) else ""


def _owner_error(
    session: Session, owner_id: int | None, roles: Iterable[str] = OWNER_ROLES
) -> tuple[User | None, str | None]:
    if owner_id is None:
        return None, "Choose who owns the recommendation"
    owner = session.get(User, owner_id) if 1 <= owner_id <= 2**31 - 1 else None
    if owner is None or not owner.active or not owner.has_role(*roles):
        return None, "Choose an owner from the list: an active user who works cases or runs the service"
    return owner, None


def _themes_error(session: Session, theme_ids: Iterable[int]) -> tuple[list[Theme], str | None]:
    wanted = sorted(set(theme_ids))
    if not wanted:
        return [], None
    if any(not 1 <= i <= 2**31 - 1 for i in wanted):
        return [], "Choose themes from the list"
    found = list(session.execute(select(Theme).where(Theme.id.in_(wanted), Theme.active.is_(True))).scalars())
    if len(found) != len(wanted):
        return [], "Choose themes from the list (one you chose has been retired or does not exist)"
    return found, None


def recommendation_raise(
    session: Session,
    *,
    actor: User,
    settings: Settings,
    text: Any,
    owner_id: int | None,
    priority: Any,
    due_date: date | None,
    theme_ids: Iterable[int] = (),
    audit: Audit | None = None,
    section_key: Any = None,
    cycle: Cycle | None = None,
    service_area_id: int | None = None,
    now: datetime | None = None,
    errors: dict[str, str] | None = None,
    owner_roles: Iterable[str] = OWNER_ROLES,
) -> Recommendation:
    """Raise a recommendation from an audit's finding (audit set; the case's team and area) or a thematic finding
    of a cycle (cycle set, QA lead only; the chosen area, else the owner's). Every problem is named by field,
    together with any `errors` the caller found reading the form (a date that is not a date)."""
    now = now or clock.now()
    today = rules.local_today(now, settings.timezone)
    if audit is not None:
        if not scope.may_raise_on_audit(session, user=actor, audit=audit):
            raise PermissionDenied(
                "Only the audit's auditor, its moderator or the QA lead can raise a recommendation from it."
            )
    elif cycle is None or not scope.may_raise_thematic(actor):
        raise PermissionDenied("Only the QA lead can raise a recommendation from a thematic finding.")
    errors = dict(errors or {})
    body = _clean(text)
    if not body:
        errors["text"] = "Enter what must be done"
    elif len(body) > TEXT_MAX_LENGTH:
        errors["text"] = f"What must be done must be {TEXT_MAX_LENGTH:,} characters or fewer"
    # `owner_roles`: who may own it, when the caller allows more (a multi-agency panel's partner representatives).
    owner, problem = _owner_error(session, owner_id, owner_roles)
    if problem:
        errors["owner_id"] = problem
    priority = _clean(priority)
    if priority not in rules.PRIORITIES:
        errors["priority"] = "Choose the priority: urgent, high or normal"
    if (
        due_date is not None
        and "due_date" not in errors
        and (problem := settings.due_date_rules(today).problem(due_date))
    ):
        errors["due_date"] = problem
    themes, problem = _themes_error(session, theme_ids)
    if problem and "theme_ids" not in errors:
        errors["theme_ids"] = problem
    if (
        audit is None
        and service_area_id is not None
        and (not 1 <= service_area_id <= 2**31 - 1 or session.get(ServiceArea, service_area_id) is None)
    ):
        errors["service_area_id"] = "Choose a service area from the list"
    section = _clean(section_key) or None
    if audit is not None and section is not None and section not in dict(section_choices(session, audit=audit)):
        errors["section_key"] = "Choose a section of the audit's template"
    if errors:
        raise ValidationFailed(errors)
    assert owner is not None and owner.id is not None and actor.id is not None
    due = due_date or rules.default_due(priority, today, due_days(settings))
    team_id, area_id, case_id, cycle_id = None, service_area_id, None, cycle.id if cycle else None
    if audit is not None:
        case = session.get(Case, audit.case_id)
        assert case is not None  # a foreign key
        case_id, team_id, cycle_id = case.id, case.team_id, audit.cycle_id
        area_id = case.service_area_id
        if area_id is None and team_id is not None:
            team = session.get(Team, team_id)
            area_id = team.service_area_id if team else None
    else:
        area_id = service_area_id if service_area_id is not None else owner.scope_service_area_id
        if owner.team is not None and owner.team.service_area_id == area_id:
            team_id = owner.team_id
    item = Recommendation(
        text=body,
        audit_id=audit.id if audit else None,
        case_id=case_id,
        section_key=section,
        cycle_id=cycle_id,
        owner_id=owner.id,
        team_id=team_id,
        service_area_id=area_id,
        priority=priority,
        due_date=due,
        raised_by_id=actor.id,
        raised_at=now,
    )
    session.add(item)
    session.flush()
    assert item.id is not None
    for theme in themes:
        session.add(RecommendationTheme(recommendation_id=item.id, theme_id=theme.id))
    session.add(
        RecommendationEvent(
            recommendation_id=item.id,
            action="raise",
            to_status=rules.OPEN,
            new_due_date=due,
            actor_id=actor.id,
            created_at=now,
        )
    )
    source = f"audit {audit.id}" if audit is not None else f"cycle {cycle_id} (thematic)"
    audit_record(
        session,
        actor=actor,
        action="recommendation.raise",
        summary=f"Raised recommendation {item.id} from {source} for {owner.full_name}, due {due.isoformat()}",
        entity_type="recommendation",
        entity_id=item.id,
        after={
            "audit_id": item.audit_id,
            "case_id": case_id,
            "cycle_id": cycle_id,
            "owner_id": owner.id,
            "priority": priority,
            "due_date": due,
            "theme_ids": [t.id for t in themes],
            "section_key": section,
        },
    )
    session.flush()
    return item


# --- Moving it on -----------------------------------------------------------------------------------


def _claim(session: Session, item: Recommendation, version: int | None, **values: Any) -> None:
    if item.version != version:  # stale without a statement (and without flushing what the caller has set)
        raise Conflict(STALE_MESSAGE)
    claim_version(session, item, version, stale=STALE_MESSAGE, **values)


def recommendation_act(
    session: Session,
    *,
    item: Recommendation,
    actor: User,
    action: rules.Action,
    version: int | None,
    settings: Settings,
    evidence: Any = "",
    reason: Any = "",
    now: datetime | None = None,
) -> Recommendation:
    """Start, complete (evidence), close (a verifier other than the owner) or reopen (with a reason)."""
    if not scope.may_see(session, user=actor, item=item):
        raise NotFound("There is no recommendation with that number, or it is not one you can see.")
    if version is None or item.version != version:
        raise Conflict(STALE_MESSAGE)  # before the rules: a stale form must not be judged on the old state
    now = now or clock.now()
    evidence_text, reason_text = _clean(evidence), _clean(reason)
    for field, value in (("evidence", evidence_text), ("reason", reason_text)):
        if len(value) > NOTE_MAX_LENGTH:
            raise ValidationFailed({field: f"Keep it to {NOTE_MAX_LENGTH:,} characters or fewer"})
    before = item.status
    to = rules.next_status(
        before, action, scope.actor_for(session, user=actor, item=item), evidence=evidence_text, reason=reason_text
    )
    values: dict[str, Any] = {"status": to}
    note = ""
    if action is rules.Action.COMPLETE:
        values.update(evidence=evidence_text, completed_at=now)
        note = evidence_text
    elif action is rules.Action.CLOSE:
        raised_on = rules.local_today(item.raised_at, settings.timezone)
        values.update(
            closed_at=now,
            closed_by_id=actor.id,
            days_to_close=max(0, (rules.local_today(now, settings.timezone) - raised_on).days),
        )
    elif action is rules.Action.REOPEN:
        values.update(completed_at=None)
        note = reason_text
    _claim(session, item, version, **values)
    session.add(
        RecommendationEvent(
            recommendation_id=item.id,
            action=action.value,
            from_status=before,
            to_status=to,
            note=note,
            actor_id=actor.id,
            created_at=now,
        )
    )
    audit_record(
        session,
        actor=actor,
        action=f"recommendation.{action.value}",
        summary=f"Recommendation {item.id}: {rules.STATUS_LABELS[before]} → {rules.STATUS_LABELS[to]}",
        entity_type="recommendation",
        entity_id=item.id,
        before={"status": before},
        after={"status": to},
    )
    session.flush()
    return item


def recommendation_due_change(
    session: Session,
    *,
    item: Recommendation,
    actor: User,
    due_date: date | None,
    reason: Any,
    version: int | None,
    settings: Settings,
    now: datetime | None = None,
) -> Recommendation:
    """Move the due date, with a reason; the old and new dates stay in the history."""
    if not scope.may_see(session, user=actor, item=item):
        raise NotFound("There is no recommendation with that number, or it is not one you can see.")
    if not scope.may_change_due_date(session, user=actor, item=item):
        raise PermissionDenied(
            "Only a head of service for this area, the team manager, the auditor who raised it "
            "or the QA lead can change its due date; ask one of them."
        )
    if item.status == rules.CLOSED:
        raise Conflict("This recommendation is closed: its due date can no longer change.")
    now = now or clock.now()
    errors: dict[str, str] = {}
    reason_text = _clean(reason)
    if due_date is None:
        errors["due_date"] = "Enter the new due date"
    elif due_date == item.due_date:
        errors["due_date"] = "The new due date is the same as the current one"
    elif problem := settings.due_date_rules(rules.local_today(now, settings.timezone)).problem(
        due_date, created_at=item.raised_at
    ):
        errors["due_date"] = problem
    if not reason_text:
        errors["reason"] = "Give the reason for changing the due date"
    elif len(reason_text) > NOTE_MAX_LENGTH:
        errors["reason"] = f"Keep the reason to {NOTE_MAX_LENGTH:,} characters or fewer"
    if errors:
        raise ValidationFailed(errors)
    old = item.due_date
    _claim(session, item, version, due_date=due_date)
    session.add(
        RecommendationEvent(
            recommendation_id=item.id,
            action="due_date",
            old_due_date=old,
            new_due_date=due_date,
            note=reason_text,
            actor_id=actor.id,
            created_at=now,
        )
    )
    audit_record(
        session,
        actor=actor,
        action="recommendation.due_date",
        summary=f"Recommendation {item.id}: due date {old.isoformat()} → {due_date.isoformat()}",
        entity_type="recommendation",
        entity_id=item.id,
        before={"due_date": old},
        after={"due_date": due_date},
    )
    session.flush()
    return item


# What the API's PATCH {status} asks for, as the action that gets there from where the item is.
_ACTION_TO = {
    rules.IN_PROGRESS: rules.Action.START,
    rules.COMPLETED: rules.Action.COMPLETE,
    rules.CLOSED: rules.Action.CLOSE,
    "reopened": rules.Action.REOPEN,
}


def action_for_status(current: str, wanted: str) -> rules.Action:
    """The action a requested status means: "in_progress" from completed is a reopen; "reopened" always is."""
    if wanted == rules.IN_PROGRESS and current == rules.COMPLETED:
        return rules.Action.REOPEN
    if wanted not in _ACTION_TO:
        raise ValidationFailed({"status": "Status must be one of in_progress, completed, closed or reopened"})
    return _ACTION_TO[wanted]


# --- Reads that are recorded --------------------------------------------------------------------------


def recommendation_view_record(session: Session, *, item: Recommendation, viewer: User) -> None:
    """Opening a recommendation on a child's case is a view of that child's record: it goes into the trail."""
    if item.case_id is None:
        return
    audit_record(
        session,
        actor=viewer,
        action="recommendation.view",
        summary=f"Viewed recommendation {item.id} (case {item.case_id})",
        entity_type="recommendation",
        entity_id=item.id,
    )


def recommendation_export_record(session: Session, *, viewer: User, fmt: str, rows: int, query: dict[str, str]) -> None:
    """An export takes children's records away: who, when, which filter and how many rows."""
    audit_record(
        session,
        actor=viewer,
        action="recommendation.export",
        summary=f"Exported {rows:,} recommendations as {fmt.upper()}",
        entity_type="recommendation",
        after={"filter": query, "rows": rows, "format": fmt},
    )
