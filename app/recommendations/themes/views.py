"""Learning themes as pages: recommendations by theme over time (the QA lead, or a head of service for their own
area), and the QA lead's managed list of themes (add, retire, restore). The themes page shows counts and audit
numbers only (no child's record), so viewing it is not recorded; every change to the list is."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.roles import Role
from app.db import SessionDep
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.numbers import digits
from app.recommendations import permissions, selectors
from app.recommendations.dashboard import service as dashboard
from app.recommendations.models import Theme
from app.recommendations.permissions import DASHBOARD_ROLES
from app.recommendations.schemas import ThemeAddForm, ThemeStatusForm
from app.recommendations.themes import service as themes
from app.web.auth import QALead, RoleGuard
from app.web.errors import refusal_page
from app.web.forms import FormDep, attempt, form_data, see_other, validate
from app.web.templating import render

router = APIRouter(tags=["recommendations (HTML)"])

ThemeViewer = Annotated[User, Depends(RoleGuard(*DASHBOARD_ROLES))]
MANAGE_PATH = "/recommendations/themes/manage"
NO_THEME = "There is no learning theme with that number."
FILTER_ORDER = ["service_area", "cycle", "months"]


@router.get("/recommendations/themes")
def themes_page(request: Request, session: SessionDep, user: ThemeViewer) -> Response:
    if not permissions.may_view_dashboard(user):
        raise PermissionDenied(
            "Learning themes are for heads of service of a service area and the QA lead: "
            "ask the QA lead to set your service area."
        )
    settings = request.app.state.settings
    params = request.query_params
    every_area = user.has_role(Role.QA_LEAD)
    asked = selectors.filter_from_query({k: params.get(k, "") for k in ("service_area", "cycle")}, user=user)
    if not every_area:  # a head of service: their own area, whatever the link asks for
        asked = replace(asked, service_area_id=user.scope_service_area_id)
    choices = selectors.filter_choices(session, user=user)
    flt, errors = dashboard.checked_filter(
        asked,
        options={"service_area": {a.id for a in choices["service_areas"]}, "cycle": {c.id for c in choices["cycles"]}},
    )
    months, problem = themes.months_from_query(params.get("months"))
    if problem:
        errors["months"] = problem
    report = themes.themes_report(
        session,
        user=user,
        months=months,
        service_area_id=flt.service_area_id,
        cycle_id=flt.cycle_id,
        today=settings.today(),
        zone=settings.timezone,
    )
    return render(
        request,
        "recommendations/themes.html",
        {
            "report": report,
            "months": months,
            "month_choices": themes.MONTH_CHOICES,
            "every_area": every_area,
            "area": next((a for a in choices["service_areas"] if a.id == flt.service_area_id), None),
            "cycle": next((c for c in choices["cycles"] if c.id == flt.cycle_id), None),
            "areas": choices["service_areas"],
            "cycles": choices["cycles"],
            "link_audits": every_area,
            "errors": errors,
            "error_order": FILTER_ORDER,
        },
    )


# --- The managed list (QA lead) ------------------------------------------------------------------------


def _theme_or_none(session: Session, value: Any) -> Theme | None:
    text = str(value or "").strip()
    return themes.theme_get(session, theme_id=int(text)) if digits(text) and len(text) <= 10 else None


def _theme_or_404(session: Session, value: Any) -> Theme:
    theme = _theme_or_none(session, value)
    if theme is None:
        raise NotFound(NO_THEME)
    return theme


FLASHES = (
    ("added", "Theme “{}” added."),
    ("retired", "Theme “{}” retired: it stays on past recommendations but is no longer offered for new ones."),
    ("restored", "Theme “{}” restored: it is offered for new recommendations again."),
)


def _flash(session: Session, params: Any) -> str | None:
    """The banner after a change: which theme was added, retired or restored (from the redirect's query)."""
    for key, message in FLASHES:
        if key in params:
            theme = _theme_or_none(session, params[key])
            return message.format(theme.name) if theme else None
    return None


def _manage(
    request: Request,
    session: Session,
    *,
    confirm: Theme | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    uses = themes.theme_uses(session)
    return render(
        request,
        "recommendations/theme_manage.html",
        {
            "uses": uses,
            "confirm": confirm,
            "confirm_uses": next((u.recommendations for u in uses if confirm and u.theme.id == confirm.id), 0),
            "values": values or {},
            "errors": errors or {},
            "flash": _flash(session, request.query_params),
            "name_max_length": themes.NAME_MAX_LENGTH,
        },
        status_code=status_code,
    )


@router.get(MANAGE_PATH)
def themes_manage(request: Request, session: SessionDep, _: QALead, confirm: str | None = None) -> Response:
    """The list; `?confirm=<id>` asks to confirm retiring (or restoring) that theme."""
    return _manage(request, session, confirm=_theme_or_404(session, confirm) if confirm else None)


@router.post(MANAGE_PATH)
def theme_add(request: Request, session: SessionDep, actor: QALead, form: FormDep) -> Response:
    name = ThemeAddForm.model_validate(form_data(form, ThemeAddForm)).name
    outcome = attempt(session, lambda: themes.theme_add(session, actor=actor, name=name))
    if isinstance(outcome, Conflict):
        return refusal_page(request, outcome)
    if isinstance(outcome, ValidationFailed):
        return _manage(request, session, values={"name": name}, errors=outcome.errors, status_code=400)
    return see_other(f"{MANAGE_PATH}?added={outcome.id}")


@router.post(f"{MANAGE_PATH}/status")
def theme_status(request: Request, session: SessionDep, actor: QALead, form: FormDep) -> Response:
    """Retire (`active=no`) or restore (`active=yes`) a theme, once confirmed."""
    values = form_data(form, ThemeStatusForm)
    theme = _theme_or_404(session, values["theme_id"])
    data, errors = validate(ThemeStatusForm, values)
    if data is None:
        raise ValidationFailed(errors)
    themes.theme_set_active(session, actor=actor, theme=theme, active=data.active == "yes")
    return see_other(f"{MANAGE_PATH}?{'restored' if theme.active else 'retired'}={theme.id}")
