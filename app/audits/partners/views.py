"""The pages of a multi-agency audit: the QA lead assigns its agency sections to partner representatives, and
records the panel meeting; everyone who reads the audit reads the panel's record once it is made."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_templates.schema import GRADE_LABELS, SECTION_AGENCIES, Grade
from app.audits.lookups import ManagedAudit, ReadableAudit
from app.audits.models import Audit
from app.audits.partners import service
from app.audits.partners.api import panel_out, panel_view_record
from app.audits.partners.schemas import LONG_TEXT, PanelIn
from app.cases.models import Case
from app.db import SessionDep
from app.errors import Conflict, ValidationFailed
from app.flows.panel import panel_problems, panel_record
from app.numbers import parse_int
from app.recommendations import service as recommendations
from app.web.auth import CurrentUser, QALead
from app.web.forms import FormDep, attempt, date_from_parts, date_part_values, request_today, see_other
from app.web.templating import render

router = APIRouter(tags=["multi-agency audits (HTML)"])

ATTENDEE_ROWS = 8
ACTION_ROWS = 3
PRIORITIES = (("normal", "Normal"), ("high", "High"), ("urgent", "Urgent"))


def _posted(form: FormData, name: str, length: int = LONG_TEXT) -> str:
    return str(form.get(name, ""))[:length]


def _html_errors(errors: dict[str, str]) -> dict[str, str]:
    """Service field names (`attendees.0.name`) as the page's ids (`attendees-0-name`)."""
    return {key.replace(".", "-"): message for key, message in errors.items()}


# --- Partner representatives --------------------------------------------------------------------------------------


def _partners_page(
    request: Request,
    session: Session,
    audit: Audit,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    conflict: str | None = None,
    status_code: int = 200,
) -> Response:
    today = request_today(request)
    rows = []
    for assignment in service.section_assignments(session, audit=audit):
        agency = assignment.section.partner_agency or ""
        choices = service.eligible_partners(session, agency=agency, today=today)
        if assignment.partner is not None and assignment.partner not in choices:
            choices = [assignment.partner, *choices]  # kept, though they could not be assigned afresh today
        rows.append({"assignment": assignment, "agency_label": service.agency_label(agency), "choices": choices})
    return render(
        request,
        "partners/assign.html",
        {
            "audit": audit,
            "case": session.get(Case, audit.case_id),
            "rows": rows,
            "values": values,
            "errors": errors,
            "conflict": conflict,
            "today": today,
        },
        status_code=status_code,
    )


@router.get("/audits/{audit_id}/partners")
def partners_form(request: Request, session: SessionDep, _: QALead, audit: ManagedAudit) -> Response:
    values = {
        a.section.key: str(a.partner.id) if a.partner else "" for a in service.section_assignments(session, audit=audit)
    }
    return _partners_page(request, session, audit, values=values, errors={})


@router.post("/audits/{audit_id}/partners")
def partners_submit(
    request: Request, session: SessionDep, lead: QALead, audit: ManagedAudit, form: FormDep
) -> Response:
    wanted: dict[str, int | None] = {}
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for section in service.agency_sections(session, audit):
        posted = _posted(form, f"section-{section.key}", 20).strip()
        values[section.key] = posted
        if not posted:
            wanted[section.key] = None
        elif (partner_id := parse_int(posted)) is None:
            errors[section.key] = f"Choose the {section.title} representative from the list"
        else:
            wanted[section.key] = partner_id
    if errors:
        return _partners_page(request, session, audit, values=values, errors=errors, status_code=400)
    outcome = attempt(
        session,
        lambda: service.assignments_set(session, audit=audit, wanted=wanted, actor=lead, today=request_today(request)),
    )
    if isinstance(outcome, ValidationFailed):
        return _partners_page(request, session, audit, values=values, errors=outcome.errors, status_code=400)
    if isinstance(outcome, Conflict):
        return _partners_page(
            request, session, audit, values=values, errors={}, conflict=outcome.message, status_code=409
        )
    return see_other(f"/audits/{audit.id}/partners?saved=1")


# --- The panel meeting --------------------------------------------------------------------------------------------


def _owner_choices(session: Session, audit: Audit) -> list[dict[str, Any]]:
    """Who may own an action: each assigned partner representative (for their agency), then council users."""
    choices: list[dict[str, Any]] = []
    partner_ids: set[int | None] = set()
    for agency, people in service.assigned_partners(session, audit=audit).items():
        for person in people:
            partner_ids.add(person.id)
            choices.append({"id": person.id, "text": f"{person.full_name} ({service.agency_label(agency)})"})
    for user in recommendations.owner_choices(session):
        if user.id not in partner_ids and not user.has_role(Role.PARTNER):
            choices.append({"id": user.id, "text": f"{user.full_name} (children's social care)"})
    return choices


def _panel_values(panel: Any) -> dict[str, str]:
    if panel is None:
        return {}
    values: dict[str, str] = {
        "conclusion": panel.conclusion or "",
        "grade": panel.grade or "",
        "dissent": panel.dissent or "",
        "version": str(panel.version),
        "held_on-day": str(panel.held_on.day),
        "held_on-month": str(panel.held_on.month),
        "held_on-year": str(panel.held_on.year),
    }
    for i, attendee in enumerate(panel.attendees[:ATTENDEE_ROWS]):
        values[f"attendees-{i}-agency"] = attendee.get("agency", "")
        values[f"attendees-{i}-name"] = attendee.get("name", "")
    return values


def _panel_page(
    request: Request,
    session: Session,
    user: User,
    audit: Audit,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    conflict: str | None = None,
    status_code: int = 200,
) -> Response:
    multi_agency = service.is_multi_agency(session, audit)
    panel = service.panel_get(session, audit=audit)
    may_record = user.has_role(Role.QA_LEAD) and user.active and multi_agency
    if panel is not None and status_code == 200:
        panel_view_record(session, audit=audit, viewer=user)
    return render(
        request,
        "partners/panel.html",
        {
            "audit": audit,
            "case": session.get(Case, audit.case_id),
            "panel": panel_out(session, audit, panel),
            "may_record": may_record,
            "multi_agency": multi_agency,
            "values": values if values is not None else _panel_values(panel),
            "errors": errors or {},
            "conflict": conflict,
            "agencies": [(a, service.agency_label(a)) for a in SECTION_AGENCIES],
            "grades": [(g.value, GRADE_LABELS[g]) for g in Grade],
            "priorities": PRIORITIES,
            "owners": _owner_choices(session, audit) if may_record else [],
            "attendee_rows": ATTENDEE_ROWS,
            "action_rows": ACTION_ROWS,
            "flash": request.query_params,
        },
        status_code=status_code,
    )


@router.get("/audits/{audit_id}/panel")
def panel_page(request: Request, session: SessionDep, user: CurrentUser, audit: ReadableAudit) -> Response:
    return _panel_page(request, session, user, audit)


def _panel_form(form: FormData) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """The posted panel form: the body for PanelIn, the values to show again, and date errors found reading it."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}

    def day(name: str, label: str) -> date | None:
        values.update(date_part_values(form, name))
        raw = date_from_parts(form, name)
        if raw is None:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = f"{label} must be a real date, for example 27 3 2027"
            return None

    attendees = []
    for i in range(ATTENDEE_ROWS):
        agency, name = _posted(form, f"attendees-{i}-agency", 60), _posted(form, f"attendees-{i}-name", 1_000)
        values.update({f"attendees-{i}-agency": agency, f"attendees-{i}-name": name})
        attendees.append({"agency": agency, "name": name})
    actions = []
    for i in range(ACTION_ROWS):
        text, owner = _posted(form, f"actions-{i}-text"), _posted(form, f"actions-{i}-owner_id", 20)
        priority = _posted(form, f"actions-{i}-priority", 20)
        values.update({f"actions-{i}-text": text, f"actions-{i}-owner_id": owner, f"actions-{i}-priority": priority})
        due = day(f"actions-{i}-due_date", f"Action {i + 1}'s due date")
        actions.append({"text": text, "owner_id": parse_int(owner), "due_date": due, "priority": priority or "normal"})
    for name in ("conclusion", "dissent"):
        values[name] = _posted(form, name)
    values["grade"] = _posted(form, "grade", 40)
    values["version"] = _posted(form, "version", 12)
    body = {
        "held_on": day("held_on", "The date the panel met"),
        "attendees": attendees,
        "conclusion": values["conclusion"],
        "grade": values["grade"] or None,
        "dissent": values["dissent"] or None,
        "version": parse_int(values["version"]),
        "actions": actions,
    }
    return body, values, errors


@router.post("/audits/{audit_id}/panel")
def panel_submit(request: Request, session: SessionDep, lead: QALead, audit: ManagedAudit, form: FormDep) -> Response:
    body, values, date_errors = _panel_form(form)
    data = PanelIn.model_validate(body)  # every field is read within the model's bounds: never an error
    settings = request.app.state.settings
    if date_errors:  # a date that could not be read: every problem named, nothing kept
        problems = panel_problems(session, audit=audit, data=data, settings=settings, today=settings.today())[0]
        errors = {**_html_errors(problems), **_html_errors(date_errors)}
        return _panel_page(request, session, lead, audit, values=values, errors=errors, status_code=400)
    outcome = attempt(session, lambda: panel_record(session, audit=audit, data=data, actor=lead, settings=settings))
    if isinstance(outcome, Conflict):
        panel = service.panel_get(session, audit=audit)
        values = {**values, "version": str(panel.version) if panel else ""}
        return _panel_page(
            request, session, lead, audit, values=values, errors={}, conflict=outcome.message, status_code=409
        )
    if isinstance(outcome, ValidationFailed):
        return _panel_page(
            request, session, lead, audit, values=values, errors=_html_errors(outcome.errors), status_code=400
        )
    return see_other(f"/audits/{audit.id}/panel?recorded=1")
