"""The QA lead's pages for correcting a case's fact: the form (fact, correct value, reason), a review of the change to
confirm, then the case page with the correction in its history."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.cases.corrections import service
from app.cases.corrections.lookups import CaseCorrector
from app.cases.corrections.rules import MAX_REASON, correctable_choices, fact_format, shown, to_json
from app.cases.corrections.schemas import CorrectionForm
from app.cases.corrections.service import CorrectionDraft
from app.cases.lookups import ReadableCase
from app.cases.models import Case
from app.db import SessionDep
from app.errors import Conflict, ValidationFailed
from app.web.forms import STALE_VERSION, FormDep, attempt, form_data, posted_version, see_other
from app.web.templating import render

router = APIRouter(tags=["cases (HTML)"])

ERROR_ORDER = ["field", "value", "reason"]


def _form_page(
    request: Request,
    case: Case,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    conflict: str | None = None,
    status_code: int = 200,
) -> Response:
    choices = [
        {"value": name, "text": label, "now": shown(name, to_json(getattr(case, name))), "format": fact_format(name)}
        for name, label in correctable_choices()
    ]
    return render(
        request,
        "cases/correction_new.html",
        {
            "case": case,
            "choices": choices,
            "values": values,
            "errors": errors,
            "error_order": ERROR_ORDER,
            "conflict": conflict,
            "reason_max": MAX_REASON,
        },
        status_code=status_code,
    )


def _review_page(request: Request, case: Case, draft: CorrectionDraft, values: dict[str, str]) -> Response:
    return render(request, "cases/correction_check.html", {"case": case, "draft": draft, "values": values})


@router.get("/cases/{case_id}/corrections/new")
def correction_form(request: Request, _: CaseCorrector, case: ReadableCase, field: str | None = None) -> Response:
    """The form, with the fact already chosen when the link names one (`?field=legal_status`)."""
    values = {"version": str(case.version)}
    if field and any(name == field for name, _ in correctable_choices()):
        values["field"] = field
    return _form_page(request, case, values=values, errors={})


@router.post("/cases/{case_id}/corrections/new")
def correction_submit(
    request: Request, session: SessionDep, lead: CaseCorrector, case: ReadableCase, form: FormDep
) -> Response:
    """`action=review` checks the correction and shows it to confirm (nothing saved); `action=confirm` saves it;
    `action=change` goes back to the form with what was entered."""
    data = CorrectionForm.model_validate(form_data(form, CorrectionForm))  # every field reads: never an error
    values = {"field": data.field, "value": data.value, "reason": data.reason, "version": data.version}
    today = request.app.state.settings.today()
    if data.action == "change":
        return _form_page(request, case, values=values, errors={})
    if data.action != "confirm":
        try:
            draft = service.correction_check(case, field=data.field, value=data.value, reason=data.reason, today=today)
        except ValidationFailed as exc:
            return _form_page(request, case, values=values, errors=exc.errors, status_code=400)
        return _review_page(request, case, draft, values)
    outcome = attempt(
        session,
        lambda: service.case_fact_correct(
            session,
            case=case,
            field=data.field,
            value=data.value,
            reason=data.reason,
            actor=lead,
            expected_version=posted_version(form) or STALE_VERSION,
            today=today,
        ),
    )
    return _after(request, session, case, values, outcome)


def _after(
    request: Request,
    session: Session,
    case: Case,
    values: dict[str, str],
    outcome: object,
) -> Response:
    """The case page after a saved correction; the form again, naming the problem, after a refused one (400), or with
    the case as it now is after a stale one (409: nothing was saved)."""
    if isinstance(outcome, ValidationFailed):
        return _form_page(request, case, values=values, errors=outcome.errors, status_code=400)
    if isinstance(outcome, Conflict):
        session.refresh(case)
        values = {**values, "version": str(case.version)}
        return _form_page(request, case, values=values, errors={}, conflict=outcome.message, status_code=409)
    return see_other(f"/cases/{case.id}?corrected=1#corrections")
