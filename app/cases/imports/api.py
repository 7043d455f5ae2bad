"""JSON API for case imports: push an extract in one call, list imports, fetch one (QA lead)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from app.audit_trail.service import audit_read
from app.cases import service
from app.cases.imports import selectors as import_selectors
from app.cases.imports.lookups import ManagedImport
from app.cases.imports.schemas import ImportPublic, import_public
from app.cases.readers import UploadedFile
from app.db import SessionDep
from app.pagination import MAX_PAGE, MAX_PAGE_SIZE, PageOut
from app.web.auth import QALead

router = APIRouter(tags=["case imports"])


@router.post(
    "/imports",
    response_model=ImportPublic,
    status_code=201,
    responses={422: {"description": "Bad input, or an all-or-nothing extract with errors (same body)"}},
)
def import_create(
    request: Request,
    session: SessionDep,
    actor: QALead,
    file: Annotated[list[UploadFile] | None, File(description="The extract file(s)")] = None,
    format: Annotated[str | None, Form(description="annex_a | ssda903 | csv")] = None,
    mode: Annotated[str, Form(description="all_or_nothing (default) | skip_invalid")] = "all_or_nothing",
    full: Annotated[
        bool,
        Form(
            description="false (default) | true: close open cases of the kinds this extract covers that are absent "
            "from it (an SSDA903 return covers children looked after only; an Annex A workbook the kinds of the lists "
            "it has; a canonical CSV the case types in it). Never closes anything unless asked, nor while rows are "
            "rejected."
        ),
    ] = False,
) -> JSONResponse:
    """Validate and import an extract. With all_or_nothing, any error means 422 and nothing written. The body
    lists the kinds of case the extract covers (`covers`) and the cases it closed (`closing`)."""
    files = [UploadedFile(name=upload.filename or "upload", content=upload.file.read()) for upload in file or []]
    case_import = service.import_run(
        session,
        files=files,
        format=format or "",
        mode=mode,
        full=full,
        actor=actor,
        today=request.app.state.settings.today(),
    )
    body = import_public(case_import).model_dump(mode="json")
    return JSONResponse(body, status_code=422 if case_import.status == "rejected" else 201)


@router.get("/imports", response_model=PageOut[ImportPublic])
def imports_list(
    session: SessionDep,
    _: QALead,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageOut[ImportPublic]:
    service.imports_expire_due(session)  # previews past their time are listed as expired
    result = import_selectors.imports_page(session, page=page, page_size=page_size)
    return PageOut(
        items=[import_public(i) for i in result.items], total=result.total, page=result.page, page_size=result.page_size
    )


@router.get("/imports/{import_id}", response_model=ImportPublic)
def import_get(session: SessionDep, actor: QALead, case_import: ManagedImport) -> ImportPublic:
    audit_read(session, actor=actor, action="import.view", entity_type="case_import", entity_id=case_import.id)
    return import_public(case_import)
