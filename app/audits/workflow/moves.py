"""An audit's moves, in one place: the legal move (`states.py`), the version claim that makes a stale form change
nothing, and the audit-trail event that records it. Every change of an audit's state or version goes through here,
whoever makes it (the auditor's saves, the QA lead's reallocation, moderation)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app import clock
from app.accounts.models import User
from app.audit_trail.service import audit_record
from app.audits.models import Audit
from app.audits.selectors import audit_compliance_code
from app.audits.workflow import states
from app.db import claim_version

STALE_MESSAGE = (
    "This audit has been changed since you opened it, in another tab or by someone else. "
    "Nothing you just sent was saved: reload the page to see the latest answers, then try again."
)


def audit_claim_version(session: Session, audit: Audit, version: int, **values: Any) -> None:
    """Move the audit to the next version (writing `values` with it) if it is still at `version`; otherwise the
    change is stale and a Conflict says so, having written nothing."""
    claim_version(session, audit, version, stale=STALE_MESSAGE, updated_at=clock.now(), **values)


def audit_move(
    session: Session,
    *,
    audit: Audit,
    to: str,
    version: int,
    actor: User | None,
    summary: str,
    detail: dict[str, Any] | None = None,
    **values: Any,
) -> Audit:
    """Move the audit to state `to` if that move is legal and nobody changed it since `version` was read; one
    audit-trail event ("audit.<move>") records who, when, from and to. `values` are more columns to set."""
    before = audit.status
    name = states.check_move(before, to)
    if to == states.COMPLETED:
        values.setdefault("compliance_answers", audit_compliance_code(session, audit))
    audit_claim_version(session, audit, version, status=to, **values)
    audit_record(
        session,
        actor=actor,
        action=f"audit.{name}",
        summary=summary,
        entity_type="audit",
        entity_id=audit.id,
        before={"status": before},
        after={"status": to, "version": audit.version, **(detail or {})},
    )
    return audit
