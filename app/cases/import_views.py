"""HTML pages for importing extracts (QA lead): the list of imports, upload, preview, confirm."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from app.audit_trail.service import audit_read
from app.cases import import_jobs, import_selectors, service
from app.cases.models import CaseImport
from app.cases.readers import UploadedFile
from app.db import SessionDep
from app.errors import Conflict, NotFound, ValidationFailed
from app.web.auth import QALead
from app.web.forms import FormDep
from app.web.jobs import RunLaterDep
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


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _import_or_404(session: SessionDep, import_id: int) -> CaseImport:
    case_import = import_selectors.import_get(session, import_id=import_id)
    if case_import is None:
        raise NotFound("There is no import with that number.")
    return case_import


@router.get("/imports")
def imports_list(request: Request, session: SessionDep, _: QALead, page: int = 1) -> Response:
    result = import_selectors.imports_page(session, page=page, page_size=25, clamp_to_last=True)
    names = import_selectors.user_names(session, user_ids={i.created_by_id for i in result.items})

    def query(**changes: Any) -> str:
        return urlencode({"page": changes.get("page", result.page)})

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
    }


@router.get("/imports/new")
def import_new(request: Request, _: QALead) -> Response:
    values = {"format": "", "mode": "all_or_nothing", "full": True}
    return render(request, "cases/imports_new.html", _form_context(values, {}))


@router.post("/imports/new")
def import_upload(request: Request, session: SessionDep, actor: QALead, form: FormDep) -> Response:
    uploads = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
    files = [UploadedFile(name=f.filename or "upload", content=f.file.read()) for f in uploads]
    values = {
        "format": str(form.get("format", "")),
        "mode": str(form.get("mode", "all_or_nothing")),
        "full": form.get("full") == "yes",
    }
    try:
        case_import = service.import_prepare(
            session,
            files=files,
            format=values["format"],
            mode=values["mode"],
            full=values["full"],
            actor=actor,
            today=request.app.state.settings.today(),
        )
    except ValidationFailed as exc:
        return render(request, "cases/imports_new.html", _form_context(values, exc.errors), status_code=400)
    return _see_other(f"/imports/{case_import.id}")


def _detail_context(session: SessionDep, case_import: CaseImport) -> dict[str, Any]:
    names = import_selectors.user_names(session, user_ids={case_import.created_by_id})
    return {
        "imp": case_import,
        "by": names.get(case_import.created_by_id or 0),
        "formats": service.FORMATS,
        "modes": service.MODES,
        "unassigned": service.UNASSIGNED_AREA,
        "stopped": import_jobs.is_stopped(case_import),
        "percent": import_jobs.percent_done(case_import),
        "running": case_import.status in import_jobs.RUNNING,
    }


@router.get("/imports/{import_id}")
def import_detail(request: Request, session: SessionDep, actor: QALead, import_id: int) -> Response:
    case_import = _import_or_404(session, import_id)
    audit_read(session, actor=actor, action="import.view", entity_type="case_import", entity_id=case_import.id)
    return render(request, "cases/imports_detail.html", _detail_context(session, case_import))


@router.get("/imports/{import_id}/progress")
def import_progress(request: Request, session: SessionDep, _: QALead, import_id: int) -> Response:
    """The progress panel, polled by htmx while the import runs; once it has finished the page reloads."""
    case_import = _import_or_404(session, import_id)
    if request.headers.get("HX-Request") != "true":  # without JavaScript: the whole page
        return render(request, "cases/imports_detail.html", _detail_context(session, case_import))
    if case_import.status not in import_jobs.RUNNING or import_jobs.is_stopped(case_import):
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return render(request, "cases/_import_progress.html", _detail_context(session, case_import))


@router.post("/imports/{import_id}/confirm")
def import_confirm(
    request: Request,
    session: SessionDep,
    actor: QALead,
    run_later: RunLaterDep,
    import_id: int,
) -> Response:
    """Queue the import and return at once; it runs in a process of its own and the page shows its progress."""
    case_import = _import_or_404(session, import_id)
    if case_import.status == "previewed":
        try:
            service.import_queue(session, case_import=case_import)
        except Conflict:
            pass  # confirmed meanwhile by another request: the page shows how that one is going
        else:
            run_later(
                import_jobs.import_job,
                import_id=case_import.id,
                actor_id=actor.id,
                today=request.app.state.settings.today(),
            )
    elif case_import.status not in ("committed", *import_jobs.RUNNING):
        context = _detail_context(session, case_import)
        return render(
            request, "cases/imports_detail.html", context, status_code=422 if case_import.status == "rejected" else 409
        )
    return _redirect(request, f"/imports/{case_import.id}")


@router.post("/imports/{import_id}/retry")
def import_retry(request: Request, session: SessionDep, _: QALead, import_id: int) -> Response:
    """A failed or stopped import back to its preview, to confirm again (nothing of it was written)."""
    case_import = _import_or_404(session, import_id)
    try:
        import_jobs.import_retry(session, case_import=case_import)
    except Conflict:
        pass  # running or finished after all: the page shows which
    return _redirect(request, f"/imports/{case_import.id}")


def _redirect(request: Request, target: str) -> Response:
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": target})
    return _see_other(target)
