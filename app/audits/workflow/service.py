"""The QA lead's hand on an audit in progress: reallocate it (with a reason) and move its due date (with a reason).

Both name the audit version they were made against, so a stale form changes nothing, and both leave an
audit-trail event; due-date changes also keep their own history (`AuditDueChange`), shown on the audit.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import Team, User
from app.audit_trail.service import audit_record
from app.audits.models import Audit, AuditDueChange
from app.audits.service import STALE_MESSAGE, _claim_version
from app.audits.workflow.states import EDITABLE, LABELS, SUBMITTED
from app.cases.models import Case
from app.date_rules import DueDateRules
from app.dates import short_date
from app.errors import Conflict, ValidationFailed
from app.sampling.allocation.rules import CaseInfo, conflict_reasons
from app.sampling.allocation.service import auditor_pool
from app.sampling.models import Cycle

MAX_REASON = 2000


def _reason(reason: str, what: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise ValidationFailed({"reason": f"Give the reason for {what}"})
    if len(text) > MAX_REASON:
        raise ValidationFailed({"reason": f"The reason must be {MAX_REASON:,} characters or fewer"})
    return text


def _check_version(audit: Audit, version: int) -> None:
    if audit.version != version:
        raise Conflict(STALE_MESSAGE)


def case_info(session: Session, case: Case) -> CaseInfo:
    team = session.get(Team, case.team_id) if case.team_id is not None else None
    return CaseInfo(
        id=case.id or 0,
        child_id=case.child_id,
        team_id=case.team_id,
        team_name=team.name if team else None,
        worker_name=case.worker_name,
        manager_name=case.manager_name,
    )


def reallocation_choices(session: Session, *, audit: Audit, today: date) -> list[tuple[User, list[str]]]:
    """Every active auditor but the current one, with why each may not take this audit (empty: they may)."""
    case = session.get(Case, audit.case_id)
    assert case is not None  # a foreign key
    cycle = session.get(Cycle, audit.cycle_id) if audit.cycle_id else None
    info = case_info(session, case)
    pool = [a for a in auditor_pool(session, cycle=cycle, today=today) if a.id != audit.auditor_id]
    users = {u.id: u for u in session.execute(select(User).where(User.id.in_([a.id for a in pool]))).scalars()}
    return [(users[a.id], conflict_reasons(a, info)) for a in pool if a.id in users]


def audit_reallocate(
    session: Session, *, audit: Audit, auditor_id: int | None, reason: str, version: int, actor: User, today: date
) -> Audit:
    """Give the audit to another auditor: trained, with no conflict of interest, for a reason that is recorded.
    The answers so far stay with the audit."""
    if audit.status not in EDITABLE:
        raise Conflict(f"This audit is {LABELS.get(audit.status, audit.status)}, so it can no longer be reallocated.")
    errors: dict[str, str] = {}
    choices = {user.id: (user, problems) for user, problems in reallocation_choices(session, audit=audit, today=today)}
    if auditor_id is None:
        errors["auditor_id"] = "Select the auditor to give this audit to"
    elif auditor_id == audit.auditor_id:
        errors["auditor_id"] = "This audit is already allocated to them: choose someone else"
    elif auditor_id not in choices:
        errors["auditor_id"] = "Choose an active auditor from the list"
    elif choices[auditor_id][1]:
        user, problems = choices[auditor_id]
        errors["auditor_id"] = f"{user.full_name} cannot audit this case: " + "; ".join(problems)
    try:
        text = _reason(reason, "reallocating this audit")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    _check_version(audit, version)
    before = audit.auditor_id
    _claim_version(session, audit, version, auditor_id=auditor_id)
    new = choices[auditor_id or 0][0]
    audit_record(
        session,
        actor=actor,
        action="audit.reallocate",
        summary=f"Reallocated audit {audit.id} to {new.full_name}",
        entity_type="audit",
        entity_id=audit.id,
        before={"auditor_id": before},
        after={"auditor_id": auditor_id, "reason": text[:500]},
    )
    return audit


def audit_due_date_change(
    session: Session,
    *,
    audit: Audit,
    new_due: date | None,
    reason: str,
    version: int,
    actor: User,
    dates: DueDateRules,
) -> AuditDueChange:
    """Extend (or bring forward) the due date, for a reason; the change is kept beside the audit. The new date
    must be allowed today (app/date_rules.py), and never before the audit was started."""
    if audit.status not in (*EDITABLE, SUBMITTED):
        raise Conflict(f"This audit is {LABELS.get(audit.status, audit.status)}, so its due date no longer matters.")
    errors: dict[str, str] = {}
    if new_due is None:
        errors["due_date"] = "Enter the new due date"
    elif new_due == audit.due_date:
        errors["due_date"] = f"The audit is already due on {short_date(new_due)}: enter a different date"
    elif problem := dates.problem(new_due, created_at=audit.created_at):
        errors["due_date"] = problem
    try:
        text = _reason(reason, "changing the due date")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    assert new_due is not None
    _check_version(audit, version)
    old = audit.due_date
    _claim_version(session, audit, version, due_date=new_due)
    change = AuditDueChange(
        audit_id=audit.id or 0, old_due_date=old, new_due_date=new_due, reason=text, changed_by_id=actor.id
    )
    session.add(change)
    session.flush()
    audit_record(
        session,
        actor=actor,
        action="audit.due_date",
        summary=f"Changed the due date of audit {audit.id} to {short_date(new_due)}",
        entity_type="audit",
        entity_id=audit.id,
        before={"due_date": old.isoformat() if old else None},
        after={"due_date": new_due.isoformat(), "reason": text[:500]},
    )
    return change


def due_date_history(session: Session, *, audit: Audit) -> list[AuditDueChange]:
    return list(
        session.execute(
            select(AuditDueChange)
            .where(AuditDueChange.audit_id == audit.id)
            .order_by(AuditDueChange.created_at, AuditDueChange.id)
        ).scalars()
    )
