"""The board pack (issue 8) as a printable page and as a PDF, for the QA lead, viewers and heads of service (their
own area only, as on the reports page). Every view and every download is recorded in the audit trail: the period
and the filter's ids, nothing else."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app import clock
from app.accounts.models import User
from app.audit_trail.service import audit_record
from app.db import SessionDep
from app.reports.board_pack import (
    BoardPack,
    build_pack,
    figure_name,
    pack_pdf,
    period_from_query,
)
from app.reports.filters import report_filter
from app.reports.views import ReportReader
from app.web.templating import render

router = APIRouter(tags=["reports (HTML, PDF)"])
# Heads of service also need a service area: the filter refuses one without (403).

ERROR_ORDER = ["period", "month", "quarter", "cycle", "template", "service_area", "team", "case_type"]
TEMPLATE = "reports/board_pack.html"
# The pack's period replaces the reports page's dates.
DATE_PARAMS = ("date_from", "date_to")


def _pack(request: Request, session: Session, user: User) -> tuple[BoardPack, dict[str, str]]:
    settings = request.app.state.settings
    today = settings.today()
    params = {k: v for k, v in request.query_params.items() if k not in DATE_PARAMS}
    # PermissionDenied (403) for a head of service without an area.
    flt = report_filter(session, params, user=user, today=today)
    period, errors = period_from_query(request.query_params, today=today)
    return build_pack(session, flt, period, settings=settings), {**errors, **flt.errors}


def _context(
    request: Request, pack: BoardPack, errors: dict[str, str], user: User, *, standalone: bool
) -> dict[str, Any]:
    kept = pack.flt.query(date_from=None, date_to=None)
    reports = pack.flt.query()
    typed = {name: request.query_params.get(name, "") for name in ("month", "quarter")}
    form = {
        "period": pack.period.kind,
        "month": typed["month"] if "month" in errors else (pack.period.value if pack.period.kind == "month" else ""),
        "quarter": typed["quarter"]
        if "quarter" in errors
        else (pack.period.value if pack.period.kind == "quarter" else ""),
    }
    return {
        "pack": pack,
        "report": pack.report,
        "errors": errors,
        "error_order": ERROR_ORDER,
        "standalone": standalone,
        "generated_at": clock.now(),
        "generated_by": user.full_name,
        "figure_name": figure_name,
        "form": form,
        "kept": kept,
        "pdf_href": "/reports/board-pack.pdf?" + urlencode({**pack.period.query(), **kept}),
        "reports_href": "/reports?" + urlencode(reports),
    }


def _record(session: Session, user: User, pack: BoardPack, fmt: str) -> None:
    doing = "Downloaded the board pack as a PDF" if fmt == "pdf" else "Viewed the board pack"
    audit_record(
        session,
        actor=user,
        action="report.board_pack",
        entity_type="report",
        summary=f"{doing}: {pack.period.label}, {pack.where}",
        after={
            "format": fmt,
            "period": pack.period.value,
            "filter": pack.flt.query(),
            "service_area": pack.flt.service_area_id,
        },
    )


def _page(
    request: Request, session: Session, user: User, pack: BoardPack, errors: dict[str, str], *, status_code: int = 200
) -> Response:
    _record(session, user, pack, "html")
    return render(request, TEMPLATE, _context(request, pack, errors, user, standalone=False), status_code=status_code)


@router.get("/reports/board-pack")
def board_pack_page(request: Request, session: SessionDep, user: ReportReader) -> Response:
    pack, errors = _pack(request, session, user)
    return _page(request, session, user, pack, errors)


@router.get("/reports/board-pack.pdf")
def board_pack_pdf(request: Request, session: SessionDep, user: ReportReader) -> Response:
    pack, errors = _pack(request, session, user)
    if errors:
        # Not a PDF of some other period than the one asked for: the page names what was wrong.
        return _page(request, session, user, pack, errors, status_code=400)
    html = request.app.state.templates.get_template(TEMPLATE).render(
        {**_context(request, pack, errors, user, standalone=True), "request": request}
    )
    pdf = pack_pdf(html)
    _record(session, user, pack, "pdf")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{pack.filename}"'},
    )
