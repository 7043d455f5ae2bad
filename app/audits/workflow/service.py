"""The QA lead's hand on an audit in progress: give it to another auditor (with a reason) and move its due date
(with a reason).

Both name the audit version they were made against, so a stale form changes nothing, and both leave an
audit-trail event; due-date changes also keep their own history (`AuditDueChange`), shown on the audit. Who may
take an audit over is the programme's rule (conflicts of interest, training): `app.flows.allocation` checks it
before `audit_auditor_change`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import User
from app.audit_trail.service import audit_record
from app.audits.models import Audit, AuditDueChange
from app.audits.workflow.moves import audit_claim_version
from app.audits.workflow.states import EDITABLE, LABELS, SUBMITTED
from app.date_rules import DueDateRules
from app.dates import short_date
from app.errors import Conflict, ValidationFailed

MAX_REASON = 2000


def reason_text(reason: str, what: str) -> str:
    """The reason as recorded (spaces tidied), or a ValidationFailed asking for one (`what`: what it is for)."""
    text = " ".join(reason.split())
    if not text:
        raise ValidationFailed({"reason": f"Give the reason for {what}"})
    if len(text) > MAX_REASON:
        raise ValidationFailed({"reason": f"The reason must be {MAX_REASON:,} characters or fewer"})
    return text


def audit_check_reallocatable(audit: Audit) -> None:
    """Only an audit not yet submitted can change hands."""
    if audit.status not in EDITABLE:
        raise Conflict(f"This audit is {LABELS.get(audit.status, audit.status)}, so it can no longer be reallocated.")


def audit_auditor_change(
    session: Session, *, audit: Audit, auditor: User, reason: str, version: int, actor: User
) -> Audit:
    """Give the audit to `auditor` (already checked: `app.flows.allocation.audit_reallocate`), for a reason that is
    recorded. The answers so far stay with the audit."""
    audit_check_reallocatable(audit)
    before = audit.auditor_id
    audit_claim_version(session, audit, version, auditor_id=auditor.id)
    audit_record(
        session,
        actor=actor,
        action="audit.reallocate",
        summary=f"Reallocated audit {audit.id} to {auditor.full_name}",
        entity_type="audit",
        entity_id=audit.id,
        before={"auditor_id": before},
        after={"auditor_id": auditor.id, "reason": reason[:500]},
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
        text = reason_text(reason, "changing the due date")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    assert new_due is not None
    old = audit.due_date
    audit_claim_version(session, audit, version, due_date=new_due)
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
