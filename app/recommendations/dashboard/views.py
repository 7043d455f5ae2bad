"""The recommendations dashboard as a page: a head of service sees their own service area, the QA lead any area or
all of them. It shows counts and recommendation numbers only (no child's record), so viewing it is not recorded."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.accounts.models import User
from app.accounts.roles import Role
from app.db import SessionDep
from app.errors import PermissionDenied
from app.recommendations import permissions, selectors, service
from app.recommendations.dashboard import service as dashboard
from app.recommendations.permissions import DASHBOARD_ROLES
from app.web.auth import RoleGuard
from app.web.templating import render

router = APIRouter(tags=["recommendations (HTML)"])

DashboardViewer = Annotated[User, Depends(RoleGuard(*DASHBOARD_ROLES))]


@router.get("/recommendations/dashboard")
def dashboard_page(request: Request, session: SessionDep, user: DashboardViewer) -> Response:
    if not permissions.may_view_dashboard(user):
        raise PermissionDenied(
            "The dashboard is for heads of service of a service area and the QA lead: "
            "ask the QA lead to set your service area."
        )
    settings = request.app.state.settings
    choices = selectors.filter_choices(session, user=user)
    asked = selectors.filter_from_query(request.query_params, user=user)
    every_area = user.has_role(Role.QA_LEAD)
    if not every_area:  # a head of service: their own area, whatever the link asks for
        asked = replace(asked, service_area_id=user.scope_service_area_id)
    areas = choices["service_areas"]
    area = next((a for a in areas if a.id == asked.service_area_id), None)
    teams = [t for t in choices["teams"] if area is None or t.service_area_id == area.id]
    flt, errors = dashboard.checked_filter(
        asked,
        options={
            "service_area": {a.id for a in areas},
            "team": {t.id for t in teams},
            "theme": {t.id for t in choices["themes"]},
            "cycle": {c.id for c in choices["cycles"]},
        },
    )
    figures = dashboard.dashboard_figures(
        session,
        service_area_id=flt.service_area_id,
        flt=flt,
        today=settings.today(),
        zone=settings.timezone,
        thresholds=service.thresholds(settings),
    )
    return render(
        request,
        "recommendations/dashboard.html",
        {
            "figures": figures,
            "base": dashboard.dashboard_filter(flt, service_area_id=flt.service_area_id),
            "list_url": dashboard.list_url,
            "every_area": every_area,
            "area": area,
            "areas": areas,
            "teams": teams,
            "themes": choices["themes"],
            "cycles": choices["cycles"],
            "priorities": choices["priorities"],
            "errors": errors,
            "error_order": list(dashboard.FILTER_PARAMS),
        },
    )
