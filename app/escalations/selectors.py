"""Reads for safeguarding escalations: one, an audit's, those waiting for someone, a page for the QA lead, who was
told (and chased), who may be told, and what the audit form shows beside the safeguarding question."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from app.accounts.models import Team, User, UserRole
from app.accounts.roles import Role
from app.audit_templates.conditions import has_answer
from app.audit_templates.schema import Section, TemplateDefinition, explanation_key
from app.audits.models import Audit, AuditAnswer
from app.audits.replies.service import is_case_manager
from app.cases.models import Case
from app.db import valid_row_id
from app.escalations import rules
from app.escalations.models import Escalation, EscalationChase
from app.numbers import digits
from app.pagination import Page, paginate

# Who an auditor may name when the case's team manager is not a user (or someone else must be told).
RECIPIENT_ROLES: tuple[Role, ...] = (Role.PRACTITIONER, Role.HEAD_OF_SERVICE, Role.QA_LEAD)
RECIPIENT_FIELD = "escalation_recipient_id"
OPEN, ACKNOWLEDGED, WITHDRAWN = "open", "acknowledged", "withdrawn"
CLOSED = "closed"  # a filter only: acknowledged or withdrawn
STATUS_LABELS = {OPEN: "Waiting for acknowledgement", ACKNOWLEDGED: "Acknowledged", WITHDRAWN: "Withdrawn"}
FILTER_LABELS = {
    OPEN: STATUS_LABELS[OPEN],
    CLOSED: "Closed (acknowledged or withdrawn)",
    ACKNOWLEDGED: STATUS_LABELS[ACKNOWLEDGED],
    WITHDRAWN: STATUS_LABELS[WITHDRAWN],
}


def escalation_status(escalation: Escalation) -> str:
    """Open until acknowledged or withdrawn (whichever came first; it cannot be both)."""
    if escalation.withdrawn_at is not None:
        return WITHDRAWN
    return OPEN if escalation.acknowledged_at is None else ACKNOWLEDGED


def is_open(escalation: Escalation) -> bool:
    return escalation_status(escalation) == OPEN


_OPEN_CONDITION = (Escalation.acknowledged_at.is_(None), Escalation.withdrawn_at.is_(None))


def escalation_get(session: Session, *, escalation_id: int) -> Escalation | None:
    return session.get(Escalation, escalation_id) if valid_row_id(escalation_id) else None


def escalations_for_audit(session: Session, *, audit_id: int) -> list[Escalation]:
    """Every escalation raised on an audit, oldest first (acknowledged and withdrawn ones included: they stand)."""
    stmt = select(Escalation).where(Escalation.audit_id == audit_id).order_by(Escalation.created_at, Escalation.id)
    return list(session.execute(stmt).scalars())


def open_escalation_for_audit(session: Session, *, audit_id: int) -> Escalation | None:
    """The audit's escalation still waiting for acknowledgement, if any (there is at most one)."""
    stmt = (
        select(Escalation)
        .where(Escalation.audit_id == audit_id, *_OPEN_CONDITION)
        .order_by(Escalation.id.desc())
        .limit(1)
    )
    return session.execute(stmt).scalars().first()


def open_escalations(session: Session) -> list[Escalation]:
    """Every escalation waiting for acknowledgement, oldest first."""
    stmt = select(Escalation).where(*_OPEN_CONDITION).order_by(Escalation.created_at, Escalation.id)
    return list(session.execute(stmt).scalars())


def chases_for(session: Session, *, escalation_ids: Iterable[int]) -> dict[int, list[EscalationChase]]:
    """Escalation id -> its chase steps, in order."""
    ids = list(set(escalation_ids))
    found: dict[int, list[EscalationChase]] = {i: [] for i in ids}
    if ids:
        stmt = (
            select(EscalationChase)
            .where(EscalationChase.escalation_id.in_(ids))
            .order_by(EscalationChase.escalation_id, EscalationChase.step)
        )
        for chase in session.execute(stmt).scalars():
            found[chase.escalation_id].append(chase)
    return found


def chased_user_ids(session: Session, *, escalation_id: int) -> set[int]:
    """Everyone a chase step of this escalation has told."""
    return {
        i for chase in chases_for(session, escalation_ids=[escalation_id])[escalation_id] for i in chase.recipient_ids
    }


def open_escalations_for(session: Session, *, user: User) -> list[Escalation]:
    """Escalations waiting for acknowledgement that this user must see on their home page: all for a QA lead, else
    those sent to them or chased to them (a head of service, once the ladder reaches them)."""
    found = open_escalations(session)
    if user.has_role(Role.QA_LEAD):
        return found
    chases = chases_for(session, escalation_ids=[e.id for e in found if e.id is not None and e.recipient_id != user.id])
    return [
        e
        for e in found
        if e.recipient_id == user.id or any(user.id in chase.recipient_ids for chase in chases.get(e.id or 0, []))
    ]


def escalations_page(
    session: Session,
    *,
    status: str | None = None,
    page: int | None = 1,
    page_size: int | None = None,
    clamp_to_last: bool = False,
) -> Page[Escalation]:
    """Every escalation (the QA lead's list), open ones first, then newest first; optionally only those of one
    status, or the closed ones (acknowledged or withdrawn)."""
    closed = or_(Escalation.acknowledged_at.is_not(None), Escalation.withdrawn_at.is_not(None))
    stmt = select(Escalation).order_by(closed, Escalation.created_at.desc(), Escalation.id.desc())
    if status == OPEN:
        stmt = stmt.where(*_OPEN_CONDITION)
    elif status == CLOSED:
        stmt = stmt.where(closed)
    elif status == ACKNOWLEDGED:
        stmt = stmt.where(Escalation.acknowledged_at.is_not(None), Escalation.withdrawn_at.is_(None))
    elif status == WITHDRAWN:
        stmt = stmt.where(Escalation.withdrawn_at.is_not(None))
    return paginate(session, stmt, page=page, page_size=page_size, clamp_to_last=clamp_to_last)


@dataclass(frozen=True)
class EscalationRow:
    """An escalation as pages show it: with the child and the people named, and (when the page asks, with the
    council's working hours) how long acknowledging it took."""

    escalation: Escalation
    child_id: str
    raised_by_name: str
    recipient_name: str
    acknowledged_by_name: str
    withdrawn_by_name: str = ""
    working_time: timedelta | None = None  # raised to acknowledged, in working hours (None: not acknowledged)
    elapsed: timedelta | None = None  # raised to acknowledged

    @property
    def status(self) -> str:
        return escalation_status(self.escalation)

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def tag_class(self) -> str:
        return {OPEN: "govuk-tag--red", ACKNOWLEDGED: "govuk-tag--green", WITHDRAWN: "govuk-tag--grey"}[self.status]

    @property
    def outcome_label(self) -> str:
        return rules.outcome_label(self.escalation.outcome)

    @property
    def working_time_text(self) -> str:
        return rules.working_time_text(self.working_time) if self.working_time is not None else ""

    @property
    def elapsed_text(self) -> str:
        return rules.duration_text(self.elapsed) if self.elapsed is not None else ""


def escalation_rows(
    session: Session, *, escalations: list[Escalation], hours: rules.WorkingHours | None = None
) -> list[EscalationRow]:
    """Rows for a list of escalations, in two queries whatever its length; with `hours`, each acknowledged one's
    time to acknowledge."""
    if not escalations:
        return []
    case_ids = {e.case_id for e in escalations}
    user_ids = {
        i
        for e in escalations
        for i in (e.raised_by_id, e.recipient_id, e.acknowledged_by_id, e.withdrawn_by_id)
        if i is not None
    }
    children = dict(session.execute(select(Case.id, Case.child_id).where(Case.id.in_(case_ids))).all())
    names = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids))).all())
    rows = []
    for e in escalations:
        acknowledged = e.acknowledged_at if e.withdrawn_at is None else None
        rows.append(
            EscalationRow(
                escalation=e,
                child_id=children.get(e.case_id, ""),
                raised_by_name=names.get(e.raised_by_id, ""),
                recipient_name=names.get(e.recipient_id, ""),
                acknowledged_by_name=names.get(e.acknowledged_by_id, "") if e.acknowledged_by_id else "",
                withdrawn_by_name=names.get(e.withdrawn_by_id, "") if e.withdrawn_by_id else "",
                working_time=hours.between(e.created_at, acknowledged) if hours and acknowledged else None,
                elapsed=acknowledged - e.created_at if acknowledged else None,
            )
        )
    return rows


@dataclass(frozen=True)
class ChaseRow:
    """A chase step as the escalation's page lists it."""

    step: int
    sent_at: datetime
    names: list[str]

    @property
    def label(self) -> str:
        return rules.STEP_LABELS.get(self.step, f"Step {self.step}")


def chase_rows(session: Session, *, escalation_id: int) -> list[ChaseRow]:
    chases = chases_for(session, escalation_ids=[escalation_id])[escalation_id]
    ids = {i for chase in chases for i in chase.recipient_ids}
    names = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all()) if ids else {}
    return [
        ChaseRow(step=c.step, sent_at=c.sent_at, names=sorted(names.get(i, "") for i in c.recipient_ids))
        for c in chases
    ]


@dataclass(frozen=True)
class CasePeople:
    """Who has the case, as the escalation's page shows it: its team, and its allocated worker by identity (the
    account the QA lead mapped them to), else as the register names them."""

    team_name: str
    worker_name: str
    worker_linked: bool


def case_people(session: Session, *, case: Case) -> CasePeople:
    team = session.get(Team, case.team_id) if case.team_id is not None else None
    worker = session.get(User, case.worker_user_id) if case.worker_user_id is not None else None
    return CasePeople(
        team_name=team.name if team is not None else "",
        worker_name=worker.full_name if worker is not None else (case.worker_name or ""),
        worker_linked=worker is not None,
    )


# --- Who is told ------------------------------------------------------------------------------


def _active_with_role(session: Session, role: Role) -> list[User]:
    with_role = select(UserRole.user_id).where(UserRole.role == role.value)
    stmt = select(User).where(User.active.is_(True), User.id.in_(with_role)).order_by(User.id)
    return list(session.execute(stmt).unique().scalars())


def qa_leads(session: Session) -> list[User]:
    """Every active QA lead."""
    return _active_with_role(session, Role.QA_LEAD)


def heads_of_service_for(session: Session, *, service_area_id: int | None) -> list[User]:
    """The active heads of service of a service area (their own area, else their team's)."""
    if service_area_id is None:
        return []
    return [u for u in _active_with_role(session, Role.HEAD_OF_SERVICE) if u.scope_service_area_id == service_area_id]


def safeguarding_pending(session: Session, *, audit: Audit, question_key: str) -> bool:
    """True when the audit's safeguarding answer is a Yes that no escalation has been raised for yet (a draft
    concern: its description or recipient is missing): no escalation at all, or only ones raised before this Yes."""
    row = session.execute(
        select(AuditAnswer.value, AuditAnswer.updated_at).where(
            AuditAnswer.audit_id == audit.id, AuditAnswer.question_key == question_key
        )
    ).first()
    if row is None or row.value != "yes":
        return False
    latest = session.execute(
        select(func.max(Escalation.created_at)).where(Escalation.audit_id == audit.id)
    ).scalar_one_or_none()
    return latest is None or latest < row.updated_at


# --- Who must be told ------------------------------------------------------------------------


def default_recipient(session: Session, *, case: Case) -> User | None:
    """The case's team manager, by identity (the account set as its team's manager), if active; never by name."""
    if case.manager_user_id is None:
        return None
    user = session.get(User, case.manager_user_id)
    return user if user is not None and is_case_manager(user, case) else None


def may_be_told(user: User, case: Case) -> bool:
    """Someone the auditor may name: a QA lead, or a practitioner or head of service in the case's service area.

    Never anyone outside the case's area, and nobody but a QA lead for a case with no area."""
    if not user.active or not user.has_role(*RECIPIENT_ROLES):
        return False
    if user.has_role(Role.QA_LEAD):
        return True
    return case.service_area_id is not None and user.scope_service_area_id == case.service_area_id


def recipient_choices(session: Session, *, case: Case) -> list[User]:
    """Who an auditor may name (`may_be_told`), and the case's team manager."""
    with_role = select(UserRole.user_id).where(UserRole.role.in_([r.value for r in RECIPIENT_ROLES]))
    stmt = (
        select(User).where(User.active.is_(True), User.id.in_(with_role)).order_by(func.lower(User.full_name), User.id)
    )
    users = [user for user in session.execute(stmt).unique().scalars() if may_be_told(user, case)]
    manager = default_recipient(session, case=case)
    if manager is not None and all(u.id != manager.id for u in users):
        users = sorted([*users, manager], key=lambda u: (u.full_name.lower(), u.id))
    return users


def recipient_resolve(session: Session, *, case: Case, recipient_id: int | None) -> tuple[User | None, str | None]:
    """The person to tell: the one chosen (who must be a valid choice), else the team manager.
    Returns (user, None) or (None, why not)."""
    if recipient_id is None:
        manager = default_recipient(session, case=case)
        if manager is None:
            return None, "Select who must be told about the safeguarding concern"
        return manager, None
    chosen = next((u for u in recipient_choices(session, case=case) if u.id == recipient_id), None)
    if chosen is None:
        return None, "Select who must be told about the safeguarding concern from the list"
    return chosen, None


# --- Beside the safeguarding question on the audit form --------------------------------------


@dataclass(frozen=True)
class EscalationField:
    """What the form shows with the safeguarding explanation: a "Who must be told" choice while a new concern is
    being raised, or the escalation already raised and whether it has been acknowledged."""

    question_key: str
    explanation_key: str
    choices: list[tuple[int, str]]
    selected_id: int | None
    default_id: int | None
    needs_recipient: bool
    latest: EscalationRow | None
    # A Yes kept as a draft: nobody has been told yet. `missing` says what it still needs ("description", "recipient").
    draft: bool = False
    missing: tuple[str, ...] = ()
    # An escalation waiting for acknowledgement: changing the answer from Yes withdraws it, with a reason.
    withdrawable: bool = False

    @property
    def withdrawn(self) -> EscalationRow | None:
        """The latest escalation, when the auditor withdrew it."""
        return self.latest if self.latest is not None and self.latest.status == WITHDRAWN else None

    @property
    def missing_text(self) -> str:
        parts = {"description": "describe the concern", "recipient": "choose who must be told"}
        return " and ".join(parts[m] for m in self.missing)


def escalation_field(
    session: Session,
    *,
    audit: Audit,
    definition: TemplateDefinition,
    stored: Mapping[str, Any],
    section: Section | None = None,
    selected_id: int | None = None,
) -> EscalationField | None:
    """The escalation part of the form for this audit; None when its template (or `section`, the page being drawn)
    has no safeguarding question."""
    question = definition.safeguarding_question
    if question is None or (section is not None and all(q.key != question.key for q in section.questions)):
        return None
    escalations = escalations_for_audit(session, audit_id=audit.id) if audit.id is not None else []
    latest = escalations[-1] if escalations else None
    open_now = latest is not None and is_open(latest)
    pending = not open_now and safeguarding_pending(session, audit=audit, question_key=question.key)
    # A new escalation is raised when the answer turns to Yes, so a Yes already escalated needs nobody named.
    needs = not open_now and (stored.get(question.key) != "yes" or pending)
    choices: list[tuple[int, str]] = []
    default_id = None
    missing: list[str] = []
    if needs:
        case = session.get(Case, audit.case_id)
        assert case is not None  # a foreign key
        manager = default_recipient(session, case=case)
        default_id = manager.id if manager else None
        for user in recipient_choices(session, case=case):
            assert user.id is not None
            label = f"{user.full_name} (team manager)" if user.id == default_id else user.full_name
            choices.append((user.id, label))
        if pending:
            if not has_answer(stored.get(explanation_key(question.key))):
                missing.append("description")
            if recipient_resolve(session, case=case, recipient_id=audit.safeguarding_recipient_id)[0] is None:
                missing.append("recipient")
    if selected_id is None:
        selected_id = audit.safeguarding_recipient_id if audit.safeguarding_recipient_id is not None else default_id
    rows = escalation_rows(session, escalations=[latest]) if latest else []
    return EscalationField(
        question_key=question.key,
        explanation_key=explanation_key(question.key),
        choices=choices,
        selected_id=selected_id,
        default_id=default_id,
        needs_recipient=needs,
        latest=rows[0] if rows else None,
        draft=pending,
        missing=tuple(missing),
        withdrawable=open_now,
    )


RECIPIENT_FORM_FIELD = "_escalation_recipient_id"  # the form's name for it ("_": not a question key)


def parse_recipient_id(text: object) -> int | None:
    """The recipient a form posted: None when blank, 0 (nobody, so refused by name) when not a plain number."""
    if not isinstance(text, str) or not text.strip():
        return None
    cleaned = text.strip()
    return int(cleaned) if digits(cleaned) and len(cleaned) <= 9 else 0
