"""JSON API of the corrections of a case's facts: the history (whoever may read the case) and a new correction (the
QA lead)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from app.audit_trail.service import audit_record
from app.cases.corrections import selectors, service
from app.cases.corrections.lookups import CaseCorrector
from app.cases.corrections.schemas import CorrectionIn, CorrectionOut, CorrectionSaved, Named
from app.cases.corrections.selectors import CorrectionRow
from app.cases.lookups import CaseReader, ReadableCaseId
from app.db import SessionDep
from app.pagination import MAX_PAGE, MAX_PAGE_SIZE, PageOut

router = APIRouter(tags=["cases"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such case, or not one you can see"},
    409: {"description": "Someone changed the case since the version you read (an import, or another correction)"},
}


def correction_out(row: CorrectionRow) -> CorrectionOut:
    c = row.correction
    assert c.id is not None
    by = row.corrected_by
    return CorrectionOut(
        id=c.id,
        case_id=c.case_id,
        field=c.field,
        field_label=row.label,
        old_value=c.old_value,
        new_value=c.new_value,
        reason=c.reason,
        corrected_by=Named(id=by.id, name=by.full_name) if by is not None and by.id is not None else None,
        corrected_at=c.corrected_at,
        in_force=c.superseded_at is None,
        superseded_at=c.superseded_at,
        superseded_by=row.superseded_by,
        superseded_by_import_id=c.superseded_by_import_id,
        superseded_by_correction_id=c.superseded_by_correction_id,
    )


@router.get("/cases/{case_id}/corrections", response_model=PageOut[CorrectionOut], responses={404: RESPONSES[404]})
def corrections_list(
    session: SessionDep,
    user: CaseReader,
    case: ReadableCaseId,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageOut[CorrectionOut]:
    """The corrections of the case's facts, newest first, for everyone who may read the case (logged as a view of
    the child's record)."""
    assert case.id is not None
    audit_record(
        session,
        actor=user,
        action="case.corrections_view",
        summary=f"Viewed the corrections of the case of child {case.child_id}",
        entity_type="case",
        entity_id=case.id,
    )
    corrections = selectors.corrections_of(session, case_id=case.id)
    start = (page - 1) * page_size
    rows = selectors.correction_rows(session, corrections[start : start + page_size])
    return PageOut(items=[correction_out(r) for r in rows], total=len(corrections), page=page, page_size=page_size)


@router.post("/cases/{case_id}/corrections", status_code=201, response_model=CorrectionSaved, responses=RESPONSES)
def corrections_create(
    request: Request, session: SessionDep, lead: CaseCorrector, case: ReadableCaseId, body: CorrectionIn
) -> CorrectionSaved:
    """Correct one fact of the case (QA lead), with the reason. Later imports keep the correction while they still
    bring the value it replaced; one that brings another value is taken, and the correction is superseded by it.
    The child ID, case type, status, start and end, team, service area, worker and manager come from the case system
    only. 422 names the field at fault (`field`, `value` or `reason`); 409 when the `version` is stale."""
    correction = service.case_fact_correct(
        session,
        case=case,
        field=body.field,
        value=body.value,
        reason=body.reason,
        actor=lead,
        expected_version=body.version,
        today=request.app.state.settings.today(),
    )
    row = selectors.correction_rows(session, [correction])[0]
    return CorrectionSaved(**correction_out(row).model_dump(), case_version=case.version)
