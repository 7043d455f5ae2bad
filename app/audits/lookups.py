"""The audit a route is about, loaded and checked by one of the rules in `app.audits.permissions`, or 404.

Every route with an `audit_id` takes one of these instead of looking the audit up itself, so the HTML pages, the API,
the printout and its PDF answer the same people the same way:

    OpenAudit         may_open_audit            the audit's page, sections and API read (blind moderators too)
    ReadableAudit     may_read_audit            reads that show the auditor's grades (the panel record)
    PrintableAudit    may_print_audit           the printout and its PDF (not partners: every fact is on it)
    AnsweringAudit    may_answer_audit          saving answers (the auditor; a partner, their sections): 403 to
                                                other readers
    FindingsAudit     may_read_findings         its findings and the replies to them
    ReplyAudit        may_reach_replies         posting a reply (the case's worker)
    ModeratedAudit    may_read_moderation       its moderation pages and API
    ManagedAudit      may_manage_audit          reallocation, due dates, partner assignments, the panel record
    RaisingAudit      may_raise_recommendation  recommendations from it

`access_of(request, audit)` gives a route the facts the rule was decided on (for the finer, per-section rules).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import object_session
from sqlmodel import Session

from app.accounts.models import User
from app.audits import permissions, selectors
from app.audits.models import Audit
from app.audits.permissions import AuditAccess
from app.db import RowId, SessionDep
from app.errors import NotFound, PermissionDenied
from app.moderation.audit_access import audit_access
from app.web.auth import CurrentUser

NOT_FOUND = "There is no audit {id}, or it is not one you can see."
Rule = Callable[[User, AuditAccess], bool]


def access_of(request: Request, audit: Audit) -> AuditAccess:
    """The facts loaded for this audit by its lookup (loaded now if the route did not look it up)."""
    cached = getattr(request.state, "audit_access", None)
    if isinstance(cached, AuditAccess) and cached.audit is audit:
        return cached
    session = object_session(audit)
    assert isinstance(session, Session)  # looked up in this request's session
    access = audit_access(session, audit)
    request.state.audit_access = access
    return access


class AuditLookup:
    """Dependency: the audit named by the path's `audit_id`, if `rule` allows the signed-in user; otherwise 404
    (never 403: whether an audit exists is itself not for everyone to learn)."""

    def __init__(self, rule: Rule, *, refusal: str | None = None) -> None:
        self.rule = rule
        self.refusal = refusal  # for someone who reads the audit but may not do this: 403 with this message

    def __call__(self, request: Request, audit_id: RowId, session: SessionDep, user: CurrentUser) -> Audit:
        audit = selectors.audit_get(session, audit_id=audit_id)
        if audit is None:
            raise NotFound(NOT_FOUND.format(id=audit_id))
        access = audit_access(session, audit)
        if not self.rule(user, access):
            if self.refusal is not None and permissions.may_open_audit(user, access):
                raise PermissionDenied(self.refusal)
            raise NotFound(NOT_FOUND.format(id=audit_id))
        request.state.audit_access = access
        return audit

    def __repr__(self) -> str:
        return f"AuditLookup({self.rule.__name__})"


OpenAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_open_audit))]
ReadableAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_read_audit))]
PrintableAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_print_audit))]
AnsweringAudit = Annotated[
    Audit,
    Depends(
        AuditLookup(
            permissions.may_answer_audit,
            refusal="Only the auditor this audit is allocated to can change its answers "
            "(and a partner agency's representative, their own section).",
        )
    ),
]
FindingsAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_read_findings))]
ReplyAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_reach_replies))]
ModeratedAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_read_moderation))]
ManagedAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_manage_audit))]
RaisingAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_raise_recommendation))]
