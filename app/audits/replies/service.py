"""The allocated worker's reply to a completed audit, and who a case's worker and team manager are.

A person is linked to a case by identity, never by name: the case's `worker_user_id` and `manager_user_id`
(kept by app.cases.people from the QA lead's mapping and the team's manager). The pure functions at the top take
no session and are shared: escalations use `is_case_manager` to find the default recipient, and the findings page
uses `is_case_worker` to decide who may read and reply.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_trail.service import audit_record
from app.audits.models import Audit, AuditReply
from app.audits.workflow.states import COMPLETED
from app.cases.models import Case
from app.errors import Conflict, PermissionDenied, ValidationFailed

REPLY_MAX_LENGTH = 10_000
REPLY_FIELD = "text"


# --- Pure: who is who ------------------------------------------------------------------------


def is_case_worker(user: User, case: Case) -> bool:
    """The case's allocated worker: the active practitioner account the worker is mapped to."""
    return (
        bool(user.active)
        and user.id is not None
        and case.worker_user_id == user.id
        and user.has_role(Role.PRACTITIONER)
    )


def is_case_manager(user: User, case: Case) -> bool:
    """The case's team manager: the active account set as the manager of the case's team."""
    return bool(user.active) and user.id is not None and case.manager_user_id == user.id


def reply_text_errors(text: str) -> dict[str, str]:
    """A reply is required and at most 10,000 characters (after surrounding spaces are dropped)."""
    cleaned = text.strip()
    if not cleaned:
        return {REPLY_FIELD: "Enter your reply to the findings"}
    if len(cleaned) > REPLY_MAX_LENGTH:
        return {REPLY_FIELD: f"Your reply must be {REPLY_MAX_LENGTH:,} characters or fewer"}
    return {}


# --- Reads -----------------------------------------------------------------------------------


def replies_for(session: Session, *, audit_id: int) -> list[AuditReply]:
    """Every reply to an audit, oldest first (the order a reader follows the exchange)."""
    stmt = select(AuditReply).where(AuditReply.audit_id == audit_id).order_by(AuditReply.created_at, AuditReply.id)
    return list(session.execute(stmt).scalars())


def completed_audits_for_worker(session: Session, *, user: User, limit: int = 50) -> list[tuple[Audit, Case]]:
    """Completed audits of the cases whose allocated worker is `user`, newest first (for their home page)."""
    if not user.active or not user.has_role(Role.PRACTITIONER):
        return []
    stmt = (
        select(Audit, Case)
        .join(Case, Case.id == Audit.case_id)
        .where(Audit.status == COMPLETED, Case.worker_user_id == user.id)
        .order_by(Audit.completed_at.desc(), Audit.id.desc())
        .limit(limit)
    )
    return [(audit, case) for audit, case in session.execute(stmt).all() if is_case_worker(user, case)]


# --- Writes ----------------------------------------------------------------------------------


def reply_add(session: Session, *, audit: Audit, case: Case, author: User, text: str) -> AuditReply:
    """Keep the worker's reply with the audit; refused unless they are the case's worker and it is completed."""
    if not is_case_worker(author, case):
        raise PermissionDenied("Only the case's allocated worker can reply to the findings.")
    if audit.status != COMPLETED:
        raise Conflict("You can reply once the audit is completed. Nothing was saved.")
    cleaned = text.replace("\x00", "")
    errors = reply_text_errors(cleaned)
    if errors:
        raise ValidationFailed(errors)
    assert author.id is not None and audit.id is not None
    reply = AuditReply(audit_id=audit.id, author_id=author.id, text=cleaned.strip())
    session.add(reply)
    session.flush()
    # Who replied and when; the words stay with the audit, not in the trail.
    audit_record(
        session,
        actor=author,
        action="audit.reply",
        summary=f"Replied to the findings of audit {audit.id} (child {case.child_id})",
        entity_type="audit",
        entity_id=audit.id,
        after={"reply_id": reply.id, "length": len(reply.text)},
    )
    return reply


def findings_view_record(session: Session, *, audit: Audit, case: Case, viewer: User) -> None:
    """A view of a child's record: who read the findings, and when."""
    audit_record(
        session,
        actor=viewer,
        action="audit.findings_view",
        summary=f"Viewed the findings of audit {audit.id} (child {case.child_id})",
        entity_type="audit",
        entity_id=audit.id,
    )
