"""The escalation a route is about, if `app.escalations.permissions` lets the signed-in user see it, or 404:

ReadableEscalation    may_read_escalation    its page and API, and acknowledging it
EscalationLister      the guard of the list of every escalation (the QA lead)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.accounts.models import User
from app.db import RowId, SessionDep
from app.escalations import permissions, selectors
from app.escalations.models import Escalation
from app.escalations.service import NOT_FOUND
from app.web.auth import CurrentUser, RoleGuard
from app.web.lookup import not_found

EscalationLister = Annotated[User, Depends(RoleGuard(*permissions.ESCALATION_LIST_ROLES))]


def readable_escalation(request: Request, escalation_id: RowId, session: SessionDep, user: CurrentUser) -> Escalation:
    escalation = selectors.escalation_get(session, escalation_id=escalation_id)
    if escalation is None or not permissions.may_read_escalation(
        user, escalation, chased=selectors.chased_user_ids(session, escalation_id=escalation_id)
    ):
        raise not_found(request, page=NOT_FOUND)
    return escalation


ReadableEscalation = Annotated[Escalation, Depends(readable_escalation)]
