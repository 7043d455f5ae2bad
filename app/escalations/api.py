"""JSON API for safeguarding escalations: the QA lead's list, one escalation (its recipient, anyone its chase reached
and the QA lead; reading it is recorded, as on its page), and acknowledging it with what was done (the same service
as the page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlmodel import Session

from app.audit_trail.service import audit_bulk_read
from app.db import SessionDep
from app.escalations import rules, selectors, service
from app.escalations.lookups import EscalationLister, ReadableEscalation
from app.escalations.models import Escalation
from app.escalations.schemas import EscalationAcknowledge, EscalationPublic, escalation_public
from app.pagination import MAX_PAGE, MAX_PAGE_SIZE, PageOut
from app.web.auth import CurrentUser

router = APIRouter(tags=["safeguarding escalations"])

Status = Annotated[
    str | None,
    Query(
        pattern="^(open|closed|acknowledged|withdrawn)$",
        description="open (waiting for acknowledgement), closed (acknowledged or withdrawn), acknowledged or withdrawn",
    ),
]


def _public(request: Request, session: Session, escalations: list[Escalation]) -> list[EscalationPublic]:
    hours = rules.working_hours_for(request.app.state.settings)
    rows = selectors.escalation_rows(session, escalations=escalations, hours=hours)
    return [escalation_public(row, selectors.chase_rows(session, escalation_id=row.escalation.id or 0)) for row in rows]


@router.get("/escalations", response_model=PageOut[EscalationPublic])
def escalations_list(
    request: Request,
    session: SessionDep,
    lead: EscalationLister,
    status: Status = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageOut[EscalationPublic]:
    """Every safeguarding escalation (the QA lead), open ones first, then newest first; optionally of one status.
    Listing them is recorded in the audit trail."""
    result = selectors.escalations_page(session, status=status, page=page, page_size=page_size)
    items = _public(request, session, result.items)
    audit_bulk_read(
        session,
        actor=lead,
        action="escalation.list",
        what="safeguarding escalations",
        count=len(items),
        filters={"status": status, "page": result.page},
    )
    return PageOut(items=items, total=result.total, page=result.page, page_size=result.page_size)


@router.get("/escalations/{escalation_id}", response_model=EscalationPublic, responses={404: {}})
def escalation_get(
    request: Request, session: SessionDep, user: CurrentUser, escalation: ReadableEscalation
) -> EscalationPublic:
    """One escalation: the concern, who raised it and was told, its chase steps, and what was done once acknowledged
    (or the auditor's reason, once withdrawn). Reading it is recorded in the audit trail."""
    service.escalation_view_record(session, escalation=escalation, viewer=user)
    (found,) = _public(request, session, [escalation])
    return found


@router.post(
    "/escalations/{escalation_id}/acknowledge",
    response_model=EscalationPublic,
    responses={
        404: {},
        409: {"description": "Already acknowledged, or withdrawn by the auditor: nothing saved"},
        422: {"description": "A field at fault: `outcome` missing or unknown, `note` missing for no_further_action"},
    },
)
def escalation_acknowledge(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    escalation: ReadableEscalation,
    body: EscalationAcknowledge,
) -> EscalationPublic:
    """Say what was done about the concern (once): an outcome, and a note (for no_further_action, why)."""
    service.escalation_acknowledge(session, escalation=escalation, actor=user, outcome=body.outcome, note=body.note)
    (found,) = _public(request, session, [escalation])
    return found
