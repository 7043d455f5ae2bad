"""The QA lead's view of the audit trail, with filters and a chain check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.audit_trail import selectors
from app.audit_trail.filters import TrailFilter
from app.audit_trail.service import audit_chain_link, audit_chain_verify, audit_record, redactions_by_day
from app.db import SessionDep
from app.web.auth import QALead
from app.web.templating import render, render_list

router = APIRouter(tags=["audit trail (HTML)"])


@router.get("/audit-trail")
def audit_trail(request: Request, session: SessionDep, _: QALead, page: int = 1) -> Response:
    flt, errors = TrailFilter.from_params(request.query_params)
    result = selectors.audit_events_page(
        session,
        tz=request.app.state.settings.tz,
        action=flt.action or None,
        actor=flt.actor or None,
        entity_type=flt.entity_type or None,
        entity_id=flt.entity_id or None,
        date_from=flt.date_from,
        date_to=flt.date_to,
        page=page,
        page_size=50,
        clamp_to_last=True,
    )
    return render_list(
        request,
        "audit_trail/list.html",
        {
            "filters": flt.query(),
            "errors": errors,
            "actions": selectors.audit_actions(session),
        },
        result=result,
        params=flt.query(),
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
    days = redactions_by_day(check.redactions, request.app.state.settings.tz) if check.ok else []
    return render(request, "audit_trail/verify.html", {"check": check, "redaction_days": days})
