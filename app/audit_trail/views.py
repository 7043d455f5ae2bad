"""The QA lead's view of the audit trail, with filters and a chain check."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.audit_trail import selectors
from app.audit_trail.service import audit_chain_link, audit_chain_verify, audit_record
from app.db import SessionDep
from app.web.auth import QALead
from app.web.templating import render

router = APIRouter(tags=["audit trail (HTML)"])


def _parse_date(value: str | None) -> tuple[date | None, str | None]:
    if not value:
        return None, None
    try:
        return date.fromisoformat(value), None
    except ValueError:
        return None, "Enter a real date in the format YYYY-MM-DD"


@router.get("/audit-trail")
def audit_trail(
    request: Request,
    session: SessionDep,
    _: QALead,
    action: str | None = None,
    actor: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    page: int = 1,
) -> Response:
    start, start_error = _parse_date(date_from)
    end, end_error = _parse_date(date_to)
    errors = {k: v for k, v in {"date_from": start_error, "date_to": end_error}.items() if v}
    filters = {
        "action": action or "",
        "actor": actor or "",
        "entity_type": entity_type or "",
        "entity_id": entity_id or "",
        "date_from": date_from or "",
        "date_to": date_to or "",
    }
    result = selectors.audit_events_page(
        session,
        tz=request.app.state.settings.tz,
        action=action or None,
        actor=actor or None,
        entity_type=entity_type or None,
        entity_id=entity_id or None,
        date_from=start,
        date_to=end,
        page=page,
        page_size=50,
        clamp_to_last=True,
    )
    return render(
        request,
        "audit_trail/list.html",
        {
            "result": result,
            "filters": filters,
            "errors": errors,
            "actions": selectors.audit_actions(session),
            "query": lambda **kw: urlencode({**filters, **kw}),
        },
        block="results",
    )


@router.post("/audit-trail/verify")
def audit_trail_verify(request: Request, session: SessionDep, actor: QALead) -> Response:
    audit_chain_link(session)  # events other requests have committed but not linked yet, first
    check = audit_chain_verify(session, checkpoint_dir=request.app.state.settings.audit_trail_checkpoint_dir)
    audit_record(
        session,
        actor=actor,
        action="audit_trail.verify",
        summary=f"Audit trail checked: {'intact' if check.ok else 'BROKEN'} ({check.checked} events)",
        after={"ok": check.ok, "checked": check.checked, "problem": check.problem},
    )
    return render(request, "audit_trail/verify.html", {"check": check})
