"""The audits behind a figure of the reports page (GET /reports/audits): the report filter, with its scope, narrowed
to what the figure counts (app.reports.drill). For the same readers as the reports page; a list of audits is not a
view of a child's record, so nothing is recorded."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.pagination import page_number
from app.reports import drill
from app.reports.filters import report_filter
from app.reports.views import FILTER_ORDER, ReportReader
from app.web.query import query_builder
from app.web.templating import render

router = APIRouter(tags=["reports (HTML)"])

ERROR_ORDER = [*FILTER_ORDER, *drill.NARROWING_ORDER]


@router.get("/reports/audits")
def report_audits(request: Request, session: SessionDep, user: ReportReader, page: str | None = None) -> Response:
    settings = request.app.state.settings
    # PermissionDenied (403) for anyone but the QA lead, viewers and heads of service with an area.
    flt = report_filter(session, request.query_params, user=user, today=settings.today())
    narrowing = drill.narrowing_from_query(request.query_params, flt=flt)
    result = drill.audits_page(
        session, flt, narrowing, zone=settings.timezone, user=user, page=page_number(page), page_size=drill.PAGE_SIZE
    )
    errors = {**flt.errors, **narrowing.errors}
    return render(
        request,
        "reports/audits.html",
        {
            "result": result,
            "caption": drill.describe(session, flt, narrowing),
            "query": query_builder({**flt.query(), **narrowing.query(), "page": result.page}),
            "back_href": "/reports?" + urlencode(flt.query()),
            "shows_case": any(row.may_open for row in result.items),
            "errors": errors,
            "error_order": ERROR_ORDER,
            "error_targets": dict.fromkeys(errors, "audits-what"),
        },
    )
