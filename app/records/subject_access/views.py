"""The QA lead's records request page: a child ID and a variant in, the ZIP of the child's records out (recorded in
the audit trail); an unknown child ID is named on the form, never an error page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.records.subject_access.collect import requested_case
from app.records.subject_access.document import MEDIA_TYPE, RecordsFile
from app.records.subject_access.lookups import RecordsRequester
from app.records.subject_access.schemas import VARIANTS, RecordsRequestForm
from app.records.subject_access.service import records_request_produce
from app.web.forms import FormDep, form_data
from app.web.templating import render

router = APIRouter(tags=["records requests (HTML)"])

TEMPLATE = "records/subject_access/form.html"
ERROR_ORDER = ["child_id", "variant"]


def zip_response(document: RecordsFile) -> Response:
    return Response(
        document.content,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{document.filename}"'},
    )


def _page(request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Response:
    return render(
        request,
        TEMPLATE,
        {"values": values, "errors": errors, "error_order": ERROR_ORDER, "variants": VARIANTS},
        status_code=status_code,
    )


@router.get("/records-requests")
def records_request_form(request: Request, _: RecordsRequester) -> Response:
    """The form, with the child ID filled in when the case page's link gives one."""
    return _page(request, {"child_id": request.query_params.get("child_id", "")[:100], "variant": ""}, {})


@router.post("/records-requests")
def records_request_submit(request: Request, session: SessionDep, lead: RecordsRequester, form: FormDep) -> Response:
    data = RecordsRequestForm.model_validate(form_data(form, RecordsRequestForm))  # every field reads: never an error
    child_id = data.child_id.strip()
    errors: dict[str, str] = {}
    case = requested_case(session, user=lead, child_id=child_id) if child_id else None
    if not child_id:
        errors["child_id"] = "Enter the child ID"
    elif case is None:
        errors["child_id"] = f"There is no child with the child ID {child_id} in the register: check the child ID"
    if data.variant not in VARIANTS:
        errors["variant"] = "Select which version of the records to produce"
    if errors or case is None:
        return _page(request, {"child_id": data.child_id, "variant": data.variant}, errors, status_code=400)
    document = records_request_produce(
        session, case=case, variant=data.variant, actor=lead, settings=request.app.state.settings
    )
    return zip_response(document)
