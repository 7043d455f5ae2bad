"""The audit a route is about, loaded and checked by one of the rules in `app.audits.permissions`, or 404.

Every route with an `audit_id` takes one of these instead of looking the audit up itself, so the HTML pages, the API,
the printout and its PDF answer the same people the same way:

    ReadableAudit     may_read_audit            the audit's pages and API reads
    FindingsAudit     may_read_findings         its findings and the replies to them
    EditableAudit     may_edit_audit            saving answers, submitting (the auditor; partners per section)
    ModeratedAudit    may_read_moderation       its moderation pages and API
    ManagedAudit      may_manage_audit          reallocation, due dates, partner assignments, the panel record
    RaisingAudit      may_raise_recommendation  recommendations from it

`access_of(request, audit)` gives a route the facts the rule was decided on (for the finer, per-section rules).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from app.accounts.models import User
from app.audits import permissions, selectors
from app.audits.models import Audit
from app.audits.permissions import AuditAccess
from app.db import RowId, SessionDep
from app.errors import NotFound
from app.moderation.audit_access import audit_access
from app.web.auth import CurrentUser

NOT_FOUND = "There is no audit {id}, or it is not one you can see."
Rule = Callable[[User, AuditAccess], bool]


def access_of(request: Request, audit: Audit) -> AuditAccess:
    """The facts loaded for this audit by its lookup (loaded now if the route did not look it up)."""
    cached = getattr(request.state, "audit_access", None)
    if isinstance(cached, AuditAccess) and cached.audit is audit:
        return cached
    session = request.state.db_session if hasattr(request.state, "db_session") else None
    if session is None:
        from sqlalchemy.orm import object_session

        session = object_session(audit)
    access = audit_access(session, audit)
    request.state.audit_access = access
    return access


class AuditLookup:
    """Dependency: the audit named by the path's `audit_id`, if `rule` allows the signed-in user; otherwise 404
    (never 403: whether an audit exists is itself not for everyone to learn)."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def __call__(self, request: Request, audit_id: RowId, session: SessionDep, user: CurrentUser) -> Audit:
        audit = selectors.audit_get(session, audit_id=audit_id)
        if audit is None:
            raise NotFound(NOT_FOUND.format(id=audit_id))
        access = audit_access(session, audit)
        if not self.rule(user, access):
            raise NotFound(NOT_FOUND.format(id=audit_id))
        request.state.audit_access = access
        return audit

    def __repr__(self) -> str:
        return f"AuditLookup({self.rule.__name__})"


ReadableAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_read_audit))]
FindingsAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_read_findings))]
EditableAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_read_audit))]
ModeratedAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_read_moderation))]
ManagedAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_manage_audit))]
RaisingAudit = Annotated[Audit, Depends(AuditLookup(permissions.may_raise_recommendation))]
