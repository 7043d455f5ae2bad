"""JSON API of a multi-agency audit: who completes each agency section, and the panel meeting."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session

from app.accounts.models import User
from app.audit_templates.schema import GRADE_LABELS, Grade
from app.audit_trail.service import audit_record
from app.audits.lookups import ManagedAudit, ReadableAudit
from app.audits.models import Audit
from app.audits.partners import service
from app.audits.partners.models import PanelMeeting
from app.audits.partners.schemas import (
    AttendeeOut,
    Named,
    PanelActionOut,
    PanelIn,
    PanelOut,
    PartnerAssignmentsIn,
    PartnerAssignmentsOut,
    SectionPartnerOut,
)
from app.db import SessionDep
from app.flows.panel import panel_record
from app.recommendations.models import Recommendation
from app.web.auth import CurrentUser, QALead

router = APIRouter(tags=["multi-agency audits"])

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The audit is completed (no reassignment), or someone else changed it first"}
}


def _named(user: User | None) -> Named | None:
    return Named(id=user.id, name=user.full_name) if user is not None and user.id is not None else None


def assignments_out(session: Session, audit: Audit) -> PartnerAssignmentsOut:
    assert audit.id is not None
    return PartnerAssignmentsOut(
        audit_id=audit.id,
        sections=[
            SectionPartnerOut(
                section_key=a.section.key,
                title=a.section.title,
                agency=a.section.partner_agency or "",
                agency_label=service.agency_label(a.section.partner_agency),
                partner=_named(a.partner),
                assigned_at=a.assigned.assigned_at if a.assigned else None,
            )
            for a in service.section_assignments(session, audit=audit)
        ],
    )


def panel_out(session: Session, audit: Audit, panel: PanelMeeting | None) -> PanelOut:
    assert audit.id is not None
    if panel is None:
        return PanelOut(audit_id=audit.id, recorded=False)
    actions = []
    for action in panel.actions or []:
        item = session.get(Recommendation, action.get("recommendation_id"))
        owner = session.get(User, item.owner_id) if item is not None else None
        actions.append(
            PanelActionOut(
                recommendation_id=action.get("recommendation_id") or 0,
                agency=action.get("agency") or "",
                agency_label=service.agency_label(action.get("agency")),
                owner=_named(owner),
                text=item.text if item else None,
                due_date=item.due_date if item else None,
                status=item.status if item else None,
            )
        )
    grade = Grade(panel.grade) if panel.grade is not None and panel.grade in Grade._value2member_map_ else None
    return PanelOut(
        audit_id=audit.id,
        recorded=True,
        held_on=panel.held_on,
        attendees=[
            AttendeeOut(
                agency=a.get("agency", ""), agency_label=service.agency_label(a.get("agency")), name=a.get("name", "")
            )
            for a in panel.attendees or []
        ],
        conclusion=panel.conclusion,
        grade=panel.grade,
        grade_label=GRADE_LABELS[grade] if grade else None,
        dissent=panel.dissent,
        actions=actions,
        recorded_by=_named(session.get(User, panel.recorded_by_id) if panel.recorded_by_id else None),
        recorded_at=panel.recorded_at,
        version=panel.version,
    )


def panel_view_record(session: Session, *, audit: Audit, viewer: User) -> None:
    """Every view of a recorded panel meeting is in the audit trail (a partner's above all)."""
    audit_record(
        session,
        actor=viewer,
        action="audit.panel_view",
        summary=f"Viewed the multi-agency panel record of audit {audit.id}",
        entity_type="audit",
        entity_id=audit.id,
    )


@router.get("/audits/{audit_id}/partners", response_model=PartnerAssignmentsOut)
def partners_get(session: SessionDep, _: QALead, audit: ManagedAudit) -> PartnerAssignmentsOut:
    """The audit's agency sections and the partner representative assigned to each (QA lead)."""
    return assignments_out(session, audit)


@router.put("/audits/{audit_id}/partners", response_model=PartnerAssignmentsOut, responses=CONFLICT)
def partners_put(
    request: Request, session: SessionDep, lead: QALead, audit: ManagedAudit, body: PartnerAssignmentsIn
) -> PartnerAssignmentsOut:
    """Assign agency sections: `{section_key: partner_id}`, `null` to take one back; sections not named stay.
    Each partner must be active, hold the partner role, represent the section's agency and have a current partner
    agreement; every refusal is named by its section key (422), and then nothing changes."""
    service.assignments_set(
        session, audit=audit, wanted=body.root, actor=lead, today=request.app.state.settings.today()
    )
    return assignments_out(session, audit)


@router.get("/audits/{audit_id}/panel", response_model=PanelOut)
def panel_get(session: SessionDep, user: CurrentUser, audit: ReadableAudit) -> PanelOut:
    """The panel meeting on a multi-agency audit (`recorded: false` until the QA lead records it, and always for an
    audit that is not multi-agency), for everyone who may read the audit. Each view of a recorded meeting is
    logged."""
    panel = service.panel_get(session, audit=audit)
    if panel is not None:
        panel_view_record(session, audit=audit, viewer=user)
    return panel_out(session, audit, panel)


@router.put("/audits/{audit_id}/panel", response_model=PanelOut, responses=CONFLICT)
def panel_put(request: Request, session: SessionDep, lead: QALead, audit: ManagedAudit, body: PanelIn) -> PanelOut:
    """Record the panel meeting (QA lead): when it met (not in the future), who attended for which agency, the
    agreed conclusion and grade, any dissent, and new actions, each raised as a recommendation owned by an agency's
    representative. To change a recorded meeting send the `version` you read (409 if stale)."""
    panel = panel_record(session, audit=audit, data=body, actor=lead, settings=request.app.state.settings)
    return panel_out(session, audit, panel)
