"""Downloads of the reports page's tables (issue 8 "Exports"): `GET /reports/tables/{table}.csv` and `.xlsx`, as
`/recommendations.csv` and `.xlsx` are named, for the same readers and the same filter query parameters as the page
(`report_filter_from_query`: a head of service only ever gets their own area). The tables are app.reports.tables;
the files are app.web.exports.table_response (formula-safe). Every download is an audit-trail event naming the
table, the format, the number of rows and the filter: ids and dates only, never a child's record.

An unknown table is a 404 page; an unknown format matches no route, also a 404 page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.accounts.models import User
from app.audit_trail.service import audit_record
from app.db import SessionDep
from app.errors import NotFound
from app.reports.filters import ReportFilter, report_filter
from app.reports.report import build_report
from app.reports.tables import TABLES, Table, table_by_key
from app.reports.views import ReportReader
from app.web.exports import table_response

router = APIRouter(tags=["reports (HTML)"])

NOT_FOUND = "There is no report table with that name. Go back to the reports page and use its download links."


def report_export_record(session: Session, *, user: User, table: Table, fmt: str, flt: ReportFilter) -> None:
    """Who downloaded which table, in which format, how many rows and for which filter (ids and dates only)."""
    after: dict[str, object] = {"table": table.key, "format": fmt, "rows": len(table.rows), "filter": flt.query()}
    if flt.area_locked:  # the query leaves out the area a head of service is kept to: record it
        after["scope_service_area"] = flt.service_area_id
    audit_record(
        session,
        actor=user,
        action="report.export",
        entity_type="report",
        entity_id=table.key,
        summary=f"Exported the report table {table.key} as {fmt.upper()} ({len(table.rows):,} rows)",
        after=after,
    )


def _export(request: Request, session: Session, user: User, key: str, fmt: str) -> Response:
    settings = request.app.state.settings
    # PermissionDenied (403) for anyone but the QA lead, viewers and heads of service with an area.
    flt = report_filter(session, request.query_params, user=user, today=settings.today())
    if key not in TABLES:
        raise NotFound(NOT_FOUND)
    found = table_by_key(build_report(session, flt, settings=settings), key)
    assert found is not None
    report_export_record(session, user=user, table=found, fmt=fmt, flt=flt)
    return table_response(
        fmt,
        name=f"report-{found.key}",
        title=found.title,
        headers=found.headers,
        rows=found.rows,
        today=settings.today(),
    )


@router.get("/reports/tables/{table}.csv")
def report_table_csv(request: Request, session: SessionDep, user: ReportReader, table: str) -> Response:
    return _export(request, session, user, table, "csv")


@router.get("/reports/tables/{table}.xlsx")
def report_table_xlsx(request: Request, session: SessionDep, user: ReportReader, table: str) -> Response:
    return _export(request, session, user, table, "xlsx")
