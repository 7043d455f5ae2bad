"""Safeguarding escalations as pages: the QA lead's list (open and closed, with the time each took to acknowledge),
one escalation (a view of a child's record, so recorded) with the case's team and worker, its chase steps and
what was done, and acknowledging it (the recipient, anyone chased, or the QA lead, once)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.accounts.models import User
from app.audits import selectors as audit_selectors
from app.audits.permissions import may_read_audit
from app.cases.models import Case
from app.db import SessionDep
from app.errors import Conflict, ValidationFailed
from app.escalations import rules, selectors, service
from app.escalations.lookups import EscalationLister, ReadableEscalation
from app.escalations.models import Escalation
from app.escalations.schemas import EscalationAcknowledgeForm
from app.moderation.audit_access import audit_access
from app.pagination import page_number
from app.web.auth import CurrentUser
from app.web.forms import FormDep, attempt, form_data
from app.web.query import StatusFilter
from app.web.templating import render, render_list

router = APIRouter(tags=["safeguarding escalations (HTML)"])

PAGE_SIZE = 25


@router.get("/escalations")
def escalations_list(
    request: Request, session: SessionDep, lead: EscalationLister, page: str | None = None
) -> Response:
    flt, _ = StatusFilter.from_params(request.query_params, statuses=selectors.FILTER_LABELS)
    result = selectors.escalations_page(
        session, status=flt.status, page=page_number(page), page_size=PAGE_SIZE, clamp_to_last=True
    )
    hours = rules.working_hours_for(request.app.state.settings)
    return render_list(
        request,
        "escalations/list.html",
        {
            "rows": selectors.escalation_rows(session, escalations=result.items, hours=hours),
            "status": flt.status or "",
            "statuses": selectors.FILTER_LABELS,
        },
        result=result,
        params=flt.query(),
    )


def _detail_page(
    request: Request,
    session: Session,
    user: User,
    escalation: Escalation,
    *,
    errors: dict[str, str] | None = None,
    form: EscalationAcknowledgeForm | None = None,
    conflict: str | None = None,
    status_code: int = 200,
) -> Response:
    assert escalation.id is not None
    hours = rules.working_hours_for(request.app.state.settings)
    (row,) = selectors.escalation_rows(session, escalations=[escalation], hours=hours)
    audit = audit_selectors.audit_get(session, audit_id=escalation.audit_id)
    case = session.get(Case, escalation.case_id)
    assert audit is not None and case is not None  # foreign keys
    template, _ = audit_selectors.audit_template(session, audit)
    chases = selectors.chase_rows(session, escalation_id=escalation.id)
    settings = request.app.state.settings
    next_step = len(chases) + 1
    next_chase_at = (
        rules.chase_due_at(escalation.created_at, next_step, hours, settings.escalation_chase_working_hours)
        if row.is_open and next_step <= rules.LAST_STEP
        else None
    )
    return render(
        request,
        "escalations/detail.html",
        {
            "row": row,
            "escalation": escalation,
            "audit": audit,
            "case": case,
            "people": selectors.case_people(session, case=case),
            "chases": chases,
            "next_chase": (rules.STEP_LABELS[next_step], next_chase_at) if next_chase_at else None,
            "template": template,
            "audit_visible": may_read_audit(user, audit_access(session, audit)),
            "is_recipient": escalation.recipient_id == user.id,
            "errors": errors or {},
            "form": form or EscalationAcknowledgeForm(),
            "outcomes": rules.OUTCOMES,
            "no_further_action": rules.NO_FURTHER_ACTION,
            "conflict": conflict,
            "acknowledged_now": request.query_params.get("acknowledged") == "1",
            "note_max": service.NOTE_MAX_LENGTH,
        },
        status_code=status_code,
    )


@router.get("/escalations/{escalation_id}")
def escalation_detail(
    request: Request, session: SessionDep, user: CurrentUser, escalation: ReadableEscalation
) -> Response:
    service.escalation_view_record(session, escalation=escalation, viewer=user)
    return _detail_page(request, session, user, escalation)


@router.post("/escalations/{escalation_id}/acknowledge")
def escalation_acknowledge(
    request: Request, session: SessionDep, user: CurrentUser, escalation: ReadableEscalation, form: FormDep
) -> Response:
    posted = EscalationAcknowledgeForm.model_validate(form_data(form, EscalationAcknowledgeForm))
    outcome = attempt(
        session,
        lambda: service.escalation_acknowledge(
            session, escalation=escalation, actor=user, outcome=posted.outcome or None, note=posted.note
        ),
    )
    if isinstance(outcome, ValidationFailed):
        return _detail_page(request, session, user, escalation, errors=outcome.errors, form=posted, status_code=400)
    if isinstance(outcome, Conflict):
        return _detail_page(request, session, user, escalation, conflict=outcome.message, status_code=409)
    return RedirectResponse(f"/escalations/{escalation.id}?acknowledged=1", status_code=303)
