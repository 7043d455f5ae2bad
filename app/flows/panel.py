"""The multi-agency panel's meeting on an audit: recording it (the QA lead, from the minutes) and raising its actions
as recommendations, each owned by an agency's representative and tracked like any other.

An action's owner says which agency it is for: a partner representative assigned one of the audit's agency sections
owns it for their agency; a council user (anyone who may own a recommendation, not a partner) owns it for children's
social care. The recommendation is raised from the audit, against that agency's section.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app import clock
from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_templates.schema import GRADE_LABELS, MAX_TEXT_LENGTH, SECTION_AGENCIES, SOCIAL_CARE, Grade
from app.audit_trail.service import audit_record
from app.audits.models import Audit
from app.audits.partners import service as partners
from app.audits.partners.models import PanelMeeting
from app.audits.partners.schemas import PanelIn
from app.db import claim_version
from app.errors import Conflict, ValidationFailed
from app.recommendations import service as recommendations
from app.recommendations.rules import PRIORITIES

if TYPE_CHECKING:
    from app.config import Settings

NAME_MAX_LENGTH = 200
STALE = (
    "Someone else changed the panel's record while you were editing it. Nothing you just sent was saved: "
    "check the record as it is now and make your change again."
)
AGENCY_LIST = ", ".join(SECTION_AGENCIES)
COUNCIL_OWNER = "a council user for children's social care"


def _clean(value: Any) -> str:
    return value.replace("\x00", "").strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class _Action:
    index: int
    text: str
    owner: User
    agency: str
    section_key: str | None
    due_date: date
    priority: str


def _owner_agency(user: User, partners_by_agency: dict[str, list[User]]) -> str | None:
    """The agency `user` would own an action for on this audit; None when they cannot own one."""
    for agency, people in partners_by_agency.items():
        if user in people:
            return agency
    if user.active and not user.has_role(Role.PARTNER) and user.has_role(*recommendations.OWNER_ROLES):
        return SOCIAL_CARE
    return None


def _section_for(session: Session, audit: Audit, agency: str, owner: User) -> str | None:
    """The section the action is raised against: the owner's own agency section, or the social care section."""
    rows = partners.assignments(session, audit=audit)
    for section in partners.audit_definition(session, audit).sections:
        if agency == SOCIAL_CARE and section.agency == SOCIAL_CARE:
            return section.key
        if section.partner_agency == agency and (row := rows.get(section.key)) and row.partner_id == owner.id:
            return section.key
    return None


def _text_problem(value: str, what: str, *, required: bool) -> str | None:
    if required and not value:
        return f"Enter {what}"
    if len(value) > MAX_TEXT_LENGTH:
        return f"{what[0].upper()}{what[1:]} must be {MAX_TEXT_LENGTH:,} characters or fewer"
    return None


def panel_problems(
    session: Session, *, audit: Audit, data: PanelIn, settings: Settings, today: date
) -> tuple[dict[str, str], list[dict[str, str]], list[_Action]]:
    """Every problem with a panel record, by field (`held_on`, `attendees.0.name`, `actions.1.owner_id`...), with
    the attendees and actions as they would be stored."""
    errors: dict[str, str] = {}
    if data.held_on is None:
        errors["held_on"] = "Enter the date the panel met"
    elif data.held_on > today:
        errors["held_on"] = "The date the panel met must be today or in the past"
    attendees: list[dict[str, str]] = []
    for i, attendee in enumerate(data.attendees):
        agency, name = _clean(attendee.agency), _clean(attendee.name)
        if not agency and not name:
            continue  # an empty row of the form
        if agency not in SECTION_AGENCIES:
            errors[f"attendees.{i}.agency"] = f"Choose attendee {i + 1}'s agency from the list ({AGENCY_LIST})"
        if not name:
            errors[f"attendees.{i}.name"] = f"Enter attendee {i + 1}'s name"
        elif len(name) > NAME_MAX_LENGTH:
            errors[f"attendees.{i}.name"] = f"Attendee {i + 1}'s name must be {NAME_MAX_LENGTH} characters or fewer"
        attendees.append({"agency": agency, "name": name})
    if not attendees:
        errors["attendees"] = "Add at least one attendee: their agency and name"
    conclusion = _clean(data.conclusion)
    if problem := _text_problem(conclusion, "the panel's agreed conclusion", required=True):
        errors["conclusion"] = problem
    grade = _clean(data.grade)
    if not grade:
        errors["grade"] = "Choose the grade the panel agreed"
    elif grade not in Grade._value2member_map_:
        errors["grade"] = "Choose the grade from the list: " + ", ".join(g.value for g in Grade)
    if problem := _text_problem(_clean(data.dissent), "the dissent", required=False):
        errors["dissent"] = problem
    by_agency = partners.assigned_partners(session, audit=audit)
    dates = settings.due_date_rules(today)
    actions: list[_Action] = []
    for i, action in enumerate(data.actions):
        text = _clean(action.text)
        if not text and action.owner_id is None and action.due_date is None:
            continue  # an empty row of the form
        at = f"actions.{i}"
        if problem := _text_problem(text, f"what action {i + 1} asks for", required=True):
            errors[f"{at}.text"] = problem
        owner = session.get(User, action.owner_id) if action.owner_id is not None else None
        owner_agency = _owner_agency(owner, by_agency) if owner is not None else None
        if owner is None or owner_agency is None:
            errors[f"{at}.owner_id"] = (
                f"Choose who owns action {i + 1}: the partner representative assigned their agency's section of "
                f"this audit, or {COUNCIL_OWNER}"
            )
        if action.due_date is None:
            errors[f"{at}.due_date"] = f"Enter the date action {i + 1} is due"
        elif problem := dates.problem(action.due_date):
            errors[f"{at}.due_date"] = problem
        priority = _clean(action.priority) or "normal"
        if priority not in PRIORITIES:
            errors[f"{at}.priority"] = f"Choose action {i + 1}'s priority: urgent, high or normal"
        if owner is not None and owner_agency is not None and action.due_date is not None:
            section_key = _section_for(session, audit, owner_agency, owner)
            actions.append(_Action(i, text, owner, owner_agency, section_key, action.due_date, priority))
    return errors, attendees, actions


def panel_record(
    session: Session, *, audit: Audit, data: PanelIn, actor: User, settings: Settings, today: date | None = None
) -> PanelMeeting:
    """Record (or correct) the panel meeting on a multi-agency audit and raise its new actions as recommendations.
    Every problem is named by field (ValidationFailed); a stale `version` changes nothing (Conflict)."""
    partners.require_multi_agency(session, audit)
    today = today or settings.today()
    errors, attendees, actions = panel_problems(session, audit=audit, data=data, settings=settings, today=today)
    if errors:
        raise ValidationFailed(errors)
    assert data.held_on is not None
    values: dict[str, Any] = {
        "held_on": data.held_on,
        "attendees": attendees,
        "conclusion": _clean(data.conclusion),
        "grade": _clean(data.grade),
        "dissent": _clean(data.dissent) or None,
        "recorded_by_id": actor.id,
        "recorded_at": clock.now(),
    }
    panel = partners.panel_get(session, audit=audit)
    before = None
    if panel is not None:
        before = {"held_on": panel.held_on, "grade": panel.grade, "attendees": len(panel.attendees)}
        claim_version(session, panel, data.version, stale=STALE, **values)
    else:
        assert audit.id is not None
        panel = PanelMeeting(audit_id=audit.id, **values)
        try:
            with session.begin_nested():
                session.add(panel)
                session.flush()
        except IntegrityError:
            raise Conflict(STALE) from None  # recorded by someone else at the same moment
    raised = list(panel.actions or [])
    for action in actions:
        try:
            item = recommendations.recommendation_raise(
                session,
                actor=actor,
                settings=settings,
                text=action.text,
                owner_id=action.owner.id,
                priority=action.priority,
                due_date=action.due_date,
                audit=audit,
                section_key=action.section_key,
                owner_roles=(*recommendations.OWNER_ROLES, Role.PARTNER),
            )
        except ValidationFailed as exc:
            raise ValidationFailed({f"actions.{action.index}.{k}": v for k, v in exc.errors.items()}) from None
        raised.append({"recommendation_id": item.id, "agency": action.agency, "owner_id": action.owner.id})
    panel.actions = raised
    session.add(panel)
    session.flush()
    session.refresh(panel)
    grade = Grade(panel.grade) if panel.grade is not None and panel.grade in Grade._value2member_map_ else None
    audit_record(
        session,
        actor=actor,
        action="audit.panel_record" if before is None else "audit.panel_change",
        summary=(
            f"Recorded the multi-agency panel of {panel.held_on.isoformat()} on audit {audit.id}: "
            f"{GRADE_LABELS[grade] if grade else 'no grade'}, {len(actions)} action(s) raised"
        ),
        entity_type="audit",
        entity_id=audit.id,
        before=before,
        after={
            "held_on": panel.held_on,
            "grade": panel.grade,
            "attendees": len(panel.attendees),
            "recommendation_ids": [a["recommendation_id"] for a in raised],
        },
    )
    return panel
