"""The records request through the API: the ZIP of one child's records, full or redacted (QA lead)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.records.subject_access.document import MEDIA_TYPE
from app.records.subject_access.lookups import RecordsRequester, RequestedCaseId
from app.records.subject_access.schemas import Variant
from app.records.subject_access.service import records_request_produce
from app.records.subject_access.views import zip_response

router = APIRouter(tags=["records requests"])


@router.post(
    "/cases/{case_id}/records-request",
    response_class=Response,
    responses={
        200: {
            "description": "A ZIP of records.json, records.pdf and README.txt; the request is recorded in the audit "
            "trail (records_request.export)",
            "content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def records_request_api(
    request: Request,
    session: SessionDep,
    lead: RecordsRequester,
    case: RequestedCaseId,
    variant: Annotated[Variant, Query(description="full: with staff names; redacted: staff replaced by labels")],
) -> Response:
    """Everything the service holds about the case's child, as a ZIP (the same as the records request page)."""
    document = records_request_produce(
        session, case=case, variant=variant, actor=lead, settings=request.app.state.settings
    )
    return zip_response(document)
