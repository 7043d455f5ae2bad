"""Assigning a multi-agency audit's agency sections to partner representatives, and reading the panel meeting.

An agency section (a section of the audit's template whose `agency` is a partner agency, not the council's social
care) is completed by the one partner representative the QA lead assigns it to: an active user with the partner
role, of that section's agency, whose partner agreement runs to at least today. Every assignment and removal is an
event in the audit trail. Recording the panel meeting (which raises recommendations) is `app.flows.panel`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from app import clock
from app.accounts.models import User, UserRole
from app.accounts.roles import AGENCY_LABELS, Agency, Role
from app.audit_templates.schema import SOCIAL_CARE, Section, TemplateDefinition
from app.audit_trail.service import audit_record
from app.audits import selectors as audit_selectors
from app.audits.models import Audit
from app.audits.partners.models import PanelMeeting, SectionPartner
from app.audits.workflow.states import COMPLETED
from app.errors import Conflict, ValidationFailed

NOT_MULTI_AGENCY = "Audit {id} is not a multi-agency audit: its template has no agency sections."
COMPLETED_MESSAGE = "The audit is completed: its sections can no longer be assigned to anyone else."


def agency_label(agency: str | None) -> str:
    """ "Police", "Children's social care"; the value itself for anything unknown."""
    if agency == SOCIAL_CARE:
        return "Children's social care"
    if agency is not None and agency in Agency._value2member_map_:
        return AGENCY_LABELS[Agency(agency)]
    return agency or ""


def audit_definition(session: Session, audit: Audit) -> TemplateDefinition:
    return audit_selectors.audit_template(session, audit)[1]


def agency_sections(session: Session, audit: Audit) -> tuple[Section, ...]:
    """The audit's agency sections: none when it is not a multi-agency audit (its pages say so; changes to its
    assignments or panel are refused naming the audit)."""
    return audit_definition(session, audit).agency_sections


def is_multi_agency(session: Session, audit: Audit) -> bool:
    return bool(agency_sections(session, audit))


def require_multi_agency(session: Session, audit: Audit) -> None:
    """ValidationFailed naming `audit_id` unless the audit has agency sections."""
    if not is_multi_agency(session, audit):
        raise ValidationFailed({"audit_id": NOT_MULTI_AGENCY.format(id=audit.id)})


def assignments(session: Session, *, audit: Audit) -> dict[str, SectionPartner]:
    """The audit's assignments by section key."""
    rows = session.execute(select(SectionPartner).where(col(SectionPartner.audit_id) == audit.id)).scalars()
    return {row.section_key: row for row in rows}


def partner_problem(user: User | None, *, agency: str, today: date) -> str | None:
    """Why `user` may not complete a section of `agency`, in words; None when they may."""
    label = agency_label(agency)
    if user is None:
        return f"Choose a partner representative from {label} from the list"
    if not user.active:
        return f"{user.full_name} is deactivated: choose an active partner representative from {label}"
    if not user.has_role(Role.PARTNER):
        return f"{user.full_name} is not a partner agency representative: choose one from {label}"
    if user.agency != agency:
        theirs = agency_label(user.agency) if user.agency else "no agency"
        return f"{user.full_name} represents {theirs}, not {label}: choose a representative from {label}"
    if not user.partner_agreement_current(today):
        if user.partner_agreement_until is None:
            return f"{user.full_name} has no partner agreement on record: record its date on their account first"
        return (
            f"{user.full_name}'s partner agreement ended on {user.partner_agreement_until.isoformat()}: "
            "record the renewed agreement on their account first"
        )
    return None


def eligible_partners(session: Session, *, agency: str, today: date) -> list[User]:
    """The partner representatives who may be assigned a section of `agency` today, by name."""
    stmt = (
        select(User)
        .join(UserRole, col(UserRole.user_id) == col(User.id))
        .where(col(UserRole.role) == Role.PARTNER.value, col(User.active).is_(True), col(User.agency) == agency)
        .order_by(col(User.full_name), col(User.id))
    )
    return [
        u for u in session.execute(stmt).unique().scalars() if partner_problem(u, agency=agency, today=today) is None
    ]


@dataclass(frozen=True)
class SectionAssignment:
    section: Section
    partner: User | None
    assigned: SectionPartner | None


def section_assignments(session: Session, *, audit: Audit) -> list[SectionAssignment]:
    """Each agency section of the audit with its partner representative, if assigned."""
    rows = assignments(session, audit=audit)
    found = []
    for section in agency_sections(session, audit):
        row = rows.get(section.key)
        partner = session.get(User, row.partner_id) if row is not None else None
        found.append(SectionAssignment(section=section, partner=partner, assigned=row))
    return found


def _section(session: Session, audit: Audit, section_key: str) -> Section:
    definition = audit_definition(session, audit)
    section = definition.section(section_key)
    if section is None:
        raise ValidationFailed({section_key: f"'{section_key[:60]}' is not a section of the audit's template"})
    if section.partner_agency is None:
        raise ValidationFailed(
            {section_key: f"{section.title} is not an agency section: the auditor completes it, not a partner"}
        )
    return section


def _open_for_assignment(audit: Audit) -> None:
    if audit.status == COMPLETED:
        raise Conflict(COMPLETED_MESSAGE)


def assign_partner(
    session: Session, *, audit: Audit, section_key: str, partner: User | None, actor: User | None, today: date
) -> SectionPartner:
    """Assign an agency section to a partner representative (replacing whoever had it). Refused, naming the
    section's key, unless the section is an agency section and the partner may complete it today."""
    section = _section(session, audit, section_key)
    agency = section.partner_agency
    assert agency is not None
    current = assignments(session, audit=audit).get(section.key)
    if current is not None and partner is not None and current.partner_id == partner.id:
        return current  # unchanged: kept even if their agreement has since lapsed
    problem = partner_problem(partner, agency=agency, today=today)
    if problem:
        raise ValidationFailed({section.key: problem})
    _open_for_assignment(audit)
    assert partner is not None and partner.id is not None and audit.id is not None
    before = {"partner_id": current.partner_id} if current is not None else None
    if current is None:
        current = SectionPartner(audit_id=audit.id, section_key=section.key, partner_id=partner.id)
    current.partner_id = partner.id
    current.assigned_by_id = actor.id if actor else None
    current.assigned_at = clock.now()
    session.add(current)
    session.flush()
    audit_record(
        session,
        actor=actor,
        action="audit.partner_assign",
        summary=f"Assigned the {section.title} section of audit {audit.id} to {partner.full_name}",
        entity_type="audit",
        entity_id=audit.id,
        before=before,
        after={"section_key": section.key, "partner_id": partner.id, "agency": agency},
    )
    return current


def unassign_partner(session: Session, *, audit: Audit, section_key: str, actor: User | None) -> bool:
    """Take an agency section back from its partner representative; False when it was not assigned."""
    section = _section(session, audit, section_key)
    current = assignments(session, audit=audit).get(section.key)
    if current is None:
        return False
    _open_for_assignment(audit)
    partner_id = current.partner_id
    session.delete(current)
    session.flush()
    audit_record(
        session,
        actor=actor,
        action="audit.partner_unassign",
        summary=f"Took the {section.title} section of audit {audit.id} back from its partner representative",
        entity_type="audit",
        entity_id=audit.id,
        before={"section_key": section.key, "partner_id": partner_id},
    )
    return True


def assignments_set(
    session: Session, *, audit: Audit, wanted: dict[str, int | None], actor: User | None, today: date
) -> list[SectionAssignment]:
    """Set several sections at once (`{section_key: partner_id or None}`; sections not named stay as they are).
    Every problem is named by its section key; nothing changes unless all are fine."""
    errors: dict[str, str] = {}
    require_multi_agency(session, audit)
    for key, partner_id in wanted.items():
        partner = session.get(User, partner_id) if partner_id is not None and 1 <= partner_id <= 2**31 - 1 else None
        try:
            if partner_id is None:
                unassign_partner(session, audit=audit, section_key=key, actor=actor)
            else:
                assign_partner(session, audit=audit, section_key=key, partner=partner, actor=actor, today=today)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return section_assignments(session, audit=audit)


def assigned_partners(session: Session, *, audit: Audit) -> dict[str, list[User]]:
    """The partner representatives assigned on this audit, by the agency of their section."""
    definition = audit_definition(session, audit)
    found: dict[str, list[User]] = {}
    for key, row in assignments(session, audit=audit).items():
        section = definition.section(key)
        partner = session.get(User, row.partner_id)
        if section is not None and section.partner_agency is not None and partner is not None:
            people = found.setdefault(section.partner_agency, [])
            if partner not in people:
                people.append(partner)
    return found


def panel_get(session: Session, *, audit: Audit) -> PanelMeeting | None:
    return session.execute(select(PanelMeeting).where(col(PanelMeeting.audit_id) == audit.id)).scalar_one_or_none()
