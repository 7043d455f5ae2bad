"""HTML pages for importing extracts (QA lead): the list of imports, upload, preview, confirm or discard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from app.accounts import selectors as account_selectors
from app.audit_trail.service import audit_read
from app.cases import service
from app.cases.facts import CASE_TYPE_LABELS
from app.cases.imports import jobs as import_jobs
from app.cases.imports import selectors as import_selectors
from app.cases.imports.lookups import ImportManager, ManagedImport
from app.cases.imports.rules import covers_text
from app.cases.imports.schemas import ImportUploadForm
from app.cases.models import CaseImport
from app.cases.readers import UploadedFile
from app.db import SessionDep
from app.errors import Conflict, DomainError, ValidationFailed
from app.web.errors import refusal_page
from app.web.forms import FormDep, attempt, form_data, see_other
from app.web.jobs import RunLaterDep
from app.web.query import query_builder
from app.web.templating import render

router = APIRouter(tags=["case imports (HTML)"])

FORMAT_HINTS = {
    "annex_a": "The Ofsted ILACS child-level workbook (.xlsx), lists 1 to 11",
    "ssda903": "The DfE children looked after return: header, episodes, reviews and missing files (.csv); select them all",
    "csv": "One row per child and case type, with the columns described in the guidance",
}
MODE_HINTS = {
    "all_or_nothing": "If any row has an error, nothing is imported and you see every error",
    "skip_invalid": "Rows with errors are left out and listed; the rest are imported",
}
FULL_HINT = (
    "Only cases of the kinds the extract covers are closed: an SSDA903 return covers children looked after; "
    "an Annex A workbook covers the kinds of the lists (2 to 10) it has, even an empty one; a canonical CSV covers "
    "the case types that appear in it. Nothing is closed while rows are rejected. You will see every case that "
    "would close before confirming. Closed cases are kept, never deleted."
)


@router.get("/imports")
def imports_list(request: Request, session: SessionDep, _: ImportManager, page: int = 1) -> Response:
    service.imports_expire_due(session)
    result = import_selectors.imports_page(session, page=page, page_size=25, clamp_to_last=True)
    names = account_selectors.user_names(session, user_ids={i.created_by_id for i in result.items})
    query = query_builder({"page": result.page})
    return render(
        request, "cases/imports.html", {"result": result, "names": names, "formats": service.FORMATS, "query": query}
    )


def _form_context(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "formats": service.FORMATS,
        "format_hints": FORMAT_HINTS,
        "modes": service.MODES,
        "mode_hints": MODE_HINTS,
        "full_hint": FULL_HINT,
    }


@router.get("/imports/new")
def import_new(request: Request, _: ImportManager) -> Response:
    values = {"format": "", "mode": "all_or_nothing", "full": False}  # never closes anything unless asked
    return render(request, "cases/imports_new.html", _form_context(values, {}))


@router.post("/imports/new")
def import_upload(request: Request, session: SessionDep, actor: ImportManager, form: FormDep) -> Response:
    uploads = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
    files = [UploadedFile(name=f.filename or "upload", content=f.file.read()) for f in uploads]
    data = ImportUploadForm.model_validate(form_data(form, ImportUploadForm))
    settings = request.app.state.settings
    case_import = attempt(
        session,
        lambda: service.import_prepare(
            session,
            files=files,
            format=data.format,
            mode=data.mode,
            full=data.full,
            actor=actor,
            today=settings.today(),
            expires_in=timedelta(hours=settings.import_preview_expiry_hours),
        ),
    )
    if isinstance(case_import, Conflict):
        raise case_import
    if isinstance(case_import, ValidationFailed):
        return render(
            request, "cases/imports_new.html", _form_context(data.model_dump(), case_import.errors), status_code=400
        )
    return see_other(f"/imports/{case_import.id}")


def _detail_context(session: SessionDep, case_import: CaseImport, notice: str | None = None) -> dict[str, Any]:
    names = account_selectors.user_names(session, user_ids={case_import.created_by_id})
    return {
        "imp": case_import,
        "by": names.get(case_import.created_by_id or 0),
        "formats": service.FORMATS,
        "modes": service.MODES,
        "unassigned": service.UNASSIGNED_AREA,
        "stopped": import_jobs.is_stopped(case_import),
        "percent": import_jobs.percent_done(case_import),
        "running": case_import.status in import_jobs.RUNNING,
        "covers": covers_text(case_import.covers),
        "case_types": {kind.value: label for kind, label in CASE_TYPE_LABELS.items()},
        "discardable": case_import.status in service.DISCARDABLE,
        "notice": notice,
    }


@router.get("/imports/{import_id}")
def import_detail(request: Request, session: SessionDep, actor: ImportManager, case_import: ManagedImport) -> Response:
    audit_read(session, actor=actor, action="import.view", entity_type="case_import", entity_id=case_import.id)
    return render(request, "cases/imports_detail.html", _detail_context(session, case_import))


@router.get("/imports/{import_id}/progress")
def import_progress(request: Request, session: SessionDep, _: ImportManager, case_import: ManagedImport) -> Response:
    """The progress panel, polled by htmx while the import runs; once it has finished the page reloads."""
    if request.headers.get("HX-Request") != "true":  # without JavaScript: the whole page
        return render(request, "cases/imports_detail.html", _detail_context(session, case_import))
    if case_import.status not in import_jobs.RUNNING or import_jobs.is_stopped(case_import):
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return render(request, "cases/_import_progress.html", _detail_context(session, case_import))


@router.post("/imports/{import_id}/confirm")
def import_confirm(
    request: Request,
    session: SessionDep,
    actor: ImportManager,
    run_later: RunLaterDep,
    case_import: ManagedImport,
) -> Response:
    """Queue the import and return at once; it runs in a process of its own and the page shows its progress (or,
    if the register changed since the preview, the new preview to confirm)."""
    try:
        service.import_queue(session, case_import=case_import)
    except DomainError as exc:  # rejected, discarded, expired, or confirmed meanwhile
        session.refresh(case_import)
        if case_import.status in ("committed", *import_jobs.RUNNING):
            return _redirect(request, f"/imports/{case_import.id}")  # the page shows how that one is going
        context = _detail_context(session, case_import, notice=exc.message)
        return render(request, "cases/imports_detail.html", context, status_code=exc.status_code)
    run_later(
        "case_import",
        import_id=case_import.id,
        actor_id=actor.id,
        today=request.app.state.settings.today().isoformat(),
    )
    return _redirect(request, f"/imports/{case_import.id}")


@router.get("/imports/{import_id}/discard")
def import_discard_confirm(
    request: Request, session: SessionDep, _: ImportManager, case_import: ManagedImport
) -> Response:
    """Asks before discarding a preview."""
    if case_import.status not in service.DISCARDABLE:
        return see_other(f"/imports/{case_import.id}")
    return render(request, "cases/imports_discard.html", _detail_context(session, case_import))


@router.post("/imports/{import_id}/discard")
def import_discard(request: Request, session: SessionDep, actor: ImportManager, case_import: ManagedImport) -> Response:
    """Discard a preview: it stays in the list of imports, its files are deleted, it can never be confirmed."""
    try:
        service.import_discard(session, case_import=case_import, actor=actor)
    except DomainError:
        pass  # discarded, expired, running or finished meanwhile: the page shows which
    return _redirect(request, f"/imports/{case_import.id}")


@router.post("/imports/{import_id}/retry")
def import_retry(request: Request, session: SessionDep, _: ImportManager, case_import: ManagedImport) -> Response:
    """A failed or stopped import back to its preview, to confirm again (nothing of it was written)."""
    outcome = attempt(session, lambda: import_jobs.import_retry(session, case_import=case_import))
    if isinstance(outcome, ValidationFailed):
        return refusal_page(request, outcome)
    # A Conflict: running or finished after all; the page shows which.
    return _redirect(request, f"/imports/{case_import.id}")


def _redirect(request: Request, target: str) -> Response:
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": target})
    return see_other(target)
