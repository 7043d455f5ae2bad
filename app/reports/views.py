"""The reports page (issue 8): grades, moderation changes, compliance with intervals, the monthly trend and the
targets, for the QA lead and viewers (every service area) and heads of service (their own area only). Figures
are counts and rates only (no child's record), so viewing the page is not recorded."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.accounts.models import User
from app.accounts.roles import Role
from app.db import SessionDep
from app.reports.filters import report_filter
from app.reports.report import build_report, filter_choices
from app.web.auth import RoleGuard
from app.web.templating import render

router = APIRouter(tags=["reports (HTML)"])
# Heads of service also need a service area: the filter refuses one without (403).
ReportReader = Annotated[User, Depends(RoleGuard(Role.QA_LEAD, Role.HEAD_OF_SERVICE, Role.VIEWER))]

FILTER_ORDER = ["date_from", "date_to", "cycle", "template", "service_area", "team", "case_type"]


@router.get("/reports")
def reports_page(request: Request, session: SessionDep, user: ReportReader) -> Response:
    settings = request.app.state.settings
    # PermissionDenied (403) for anyone but the QA lead, viewers and heads of service with an area.
    flt = report_filter(session, request.query_params, user=user, today=settings.today())
    choices = filter_choices(session, area_id=flt.service_area_id)
    area = next((a for a in choices["service_areas"] if a.id == flt.service_area_id), None)
    report = build_report(session, flt, settings=settings)
    return render(
        request,
        "reports/index.html",
        {
            "report": report,
            "flt": flt,
            "area": area,
            **choices,
            "errors": flt.errors,
            "error_order": FILTER_ORDER,
            "raw": {name: request.query_params.get(name, "") for name in ("date_from", "date_to")},
        },
    )
