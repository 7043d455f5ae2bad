"""The printable audit (for the case file and for inspectors), as a page and as a PDF; every view and export is logged."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import clock
from app.audits.lookups import PrintableAudit
from app.db import SessionDep
from app.records.printable import (
    printable_audit,
    printable_filename,
    printable_pdf,
    printable_record,
)
from app.web.auth import CurrentUser
from app.web.templating import render

router = APIRouter(tags=["printable audits (HTML, PDF)"])

NOT_FOUND = "There is no audit with that number, or it is not one you can see."


@router.get("/audits/{audit_id}/print")
def audit_print(request: Request, session: SessionDep, user: CurrentUser, audit: PrintableAudit) -> Response:
    printout = printable_audit(session, audit=audit, today=request.app.state.settings.today())
    printable_record(session, user=user, audit=audit, case=printout.case, pdf=False)
    return render(request, "audits/print.html", {"p": printout, "standalone": False, "printed_at": clock.now()})


@router.get("/audits/{audit_id}/print.pdf")
def audit_print_pdf(request: Request, session: SessionDep, user: CurrentUser, audit: PrintableAudit) -> Response:
    printout = printable_audit(session, audit=audit, today=request.app.state.settings.today())
    html = request.app.state.templates.get_template("audits/print.html").render(
        {"p": printout, "standalone": True, "request": request, "printed_by": user.full_name, "printed_at": clock.now()}
    )
    pdf = printable_pdf(html)
    printable_record(session, user=user, audit=audit, case=printout.case, pdf=True)
    filename = printable_filename(audit, printout.case)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
