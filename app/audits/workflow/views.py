"""The QA lead's pages for an audit in progress: reallocate it, move its due date (each with a reason)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from app.accounts import selectors as account_selectors
from app.accounts.models import User
from app.audits import selectors
from app.audits.lookups import ManagedAudit
from app.audits.models import Audit
from app.audits.schemas import DueDateForm, ReallocateForm
from app.audits.workflow.service import audit_due_date_change, due_date_history
from app.cases.models import Case
from app.db import SessionDep
from app.errors import Conflict, ValidationFailed
from app.flows.allocation import audit_reallocate, reallocation_choices
from app.web.auth import QALead
from app.web.forms import STALE_VERSION, FormDep, attempt, date_from_parts, date_part_values, form_data, posted_version
from app.web.templating import render

router = APIRouter(tags=["audit workflow (HTML)"])

NOT_FOUND = "There is no audit with that number."
DATE_PARTS = ("day", "month", "year")


def _common(session: Session, audit: Audit) -> dict[str, Any]:
    case = session.get(Case, audit.case_id)
    auditor = account_selectors.user_get(session, user_id=audit.auditor_id)
    return {
        "audit": audit,
        "case": case,
        "auditor_name": auditor.full_name if auditor else "",
        "status_label": selectors.STATUS_LABELS.get(audit.status, audit.status),
    }


# --- Reallocation ----------------------------------------------------------------------------


def _reallocate_page(
    request: Request,
    session: Session,
    audit: Audit,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    conflict: str | None = None,
    status_code: int = 200,
) -> Response:
    today = request.app.state.settings.today()
    return render(
        request,
        "audits/reallocate.html",
        {
            **_common(session, audit),
            "choices": reallocation_choices(session, audit=audit, today=today),
            "values": values,
            "errors": errors,
            "conflict": conflict,
        },
        status_code=status_code,
    )


@router.get("/audits/{audit_id}/reallocate")
def reallocate_form(request: Request, session: SessionDep, _: QALead, audit: ManagedAudit) -> Response:
    return _reallocate_page(request, session, audit, values={"version": str(audit.version)}, errors={})


def _refused(
    page: Callable[..., Response],
    request: Request,
    session: Session,
    audit: Audit,
    values: dict[str, str],
    outcome: ValidationFailed | Conflict,
) -> Response:
    """The form again: 400 naming the fields, or 409 for a stale form (nothing of it was kept; the page shows the
    audit as it now is, and the form carries its current version)."""
    if isinstance(outcome, ValidationFailed):
        return page(request, session, audit, values=values, errors=outcome.errors, status_code=400)
    values = {**values, "version": str(audit.version)}
    return page(request, session, audit, values=values, errors={}, conflict=outcome.message, status_code=409)


@router.post("/audits/{audit_id}/reallocate")
def reallocate_submit(
    request: Request, session: SessionDep, lead: QALead, audit: ManagedAudit, form: FormDep
) -> Response:
    data = ReallocateForm.model_validate(form_data(form, ReallocateForm))  # every field reads: never an error
    chosen = "" if data.auditor_id is None else str(data.auditor_id)
    values = {"auditor_id": chosen, "reason": data.reason, "version": data.version}
    outcome = attempt(
        session,
        lambda: audit_reallocate(
            session,
            audit=audit,
            auditor_id=data.auditor_id,
            reason=data.reason,
            version=posted_version(form) or STALE_VERSION,
            actor=lead,
            today=request.app.state.settings.today(),
        ),
    )
    if isinstance(outcome, ValidationFailed | Conflict):
        return _refused(_reallocate_page, request, session, audit, values, outcome)
    return RedirectResponse(f"/audits/{audit.id}?reallocated=1", status_code=303)


# --- Due date --------------------------------------------------------------------------------


def _due_page(
    request: Request,
    session: Session,
    audit: Audit,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    conflict: str | None = None,
    status_code: int = 200,
) -> Response:
    history = due_date_history(session, audit=audit)
    changed_by = {h.changed_by_id for h in history if h.changed_by_id is not None}
    names = (
        dict(session.execute(select(User.id, User.full_name).where(User.id.in_(changed_by))).all())
        if changed_by
        else {}
    )
    return render(
        request,
        "audits/due_date.html",
        {
            **_common(session, audit),
            "history": history,
            "names": names,
            "values": values,
            "errors": errors,
            "conflict": conflict,
        },
        status_code=status_code,
    )


@router.get("/audits/{audit_id}/due-date")
def due_date_form(request: Request, session: SessionDep, _: QALead, audit: ManagedAudit) -> Response:
    values = {"version": str(audit.version)}
    if audit.due_date:
        values.update({f"due_date-{p}": str(getattr(audit.due_date, p)) for p in DATE_PARTS})
    return _due_page(request, session, audit, values=values, errors={})


@router.post("/audits/{audit_id}/due-date")
def due_date_submit(
    request: Request, session: SessionDep, lead: QALead, audit: ManagedAudit, form: FormDep
) -> Response:
    data = DueDateForm.model_validate(form_data(form, DueDateForm))  # every field reads: never an error
    values = {"reason": data.reason, "version": data.version, **date_part_values(form, "due_date")}
    raw = date_from_parts(form, "due_date")
    try:
        new_due = date.fromisoformat(raw) if raw else None
    except ValueError:
        errors = {"due_date": "The due date must be a real date, for example 27 3 2027"}
        return _due_page(request, session, audit, values=values, errors=errors, status_code=400)
    outcome = attempt(
        session,
        lambda: audit_due_date_change(
            session,
            audit=audit,
            new_due=new_due,
            reason=data.reason,
            version=posted_version(form) or STALE_VERSION,
            actor=lead,
            dates=request.app.state.settings.due_date_rules(),
        ),
    )
    if isinstance(outcome, ValidationFailed | Conflict):
        return _refused(_due_page, request, session, audit, values, outcome)
    return RedirectResponse(f"/audits/{audit.id}?due_changed=1", status_code=303)
