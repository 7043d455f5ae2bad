"""The multi-agency report page: multi-agency audits by agency section (assigned, answered, compliance), for the QA
lead, viewers and heads of service (their own area), narrowed like the reports page. Counts and rates only, so
viewing it is not recorded."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.reports.agencies import agency_chart, agency_report
from app.reports.filters import report_filter
from app.reports.report import filter_choices
from app.reports.views import FILTER_ORDER, ReportReader
from app.web.templating import render

router = APIRouter(tags=["reports (HTML)"])


@router.get("/reports/agencies")
def agencies_page(request: Request, session: SessionDep, user: ReportReader) -> Response:
    settings = request.app.state.settings
    flt = report_filter(session, request.query_params, user=user, today=settings.today())
    choices = filter_choices(session, area_id=flt.service_area_id)
    area = next((a for a in choices["service_areas"] if a.id == flt.service_area_id), None)
    report = agency_report(session, flt, zone=settings.timezone, min_n=settings.report_min_n)
    return render(
        request,
        "reports/agencies.html",
        {
            "report": report,
            "chart": agency_chart(report) if not report.empty else None,
            "flt": flt,
            "area": area,
            **choices,
            "errors": flt.errors,
            "error_order": FILTER_ORDER,
            "raw": {name: request.query_params.get(name, "") for name in ("date_from", "date_to")},
        },
    )
