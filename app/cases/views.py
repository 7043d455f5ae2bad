"""HTML pages for the case register: the case list (filters, search, sorting) and one case."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts.roles import Role
from app.audit_trail.service import audit_bulk_read, audit_record
from app.audits import case_scope
from app.audits import selectors as audit_selectors
from app.cases import selectors
from app.cases.corrections import selectors as correction_selectors
from app.cases.corrections.permissions import may_correct_facts
from app.cases.facts import CASE_TYPE_LABELS
from app.cases.filters import CaseListFilter
from app.cases.lookups import CaseReader, ReadableCase, case_number
from app.cases.scope import scope_service_area_ids
from app.db import SessionDep
from app.retention import holds as legal_holds
from app.web.templating import render, render_list

router = APIRouter(tags=["cases (HTML)"])

PAGE_SIZE = 50


@router.get("/cases")
def cases_list(request: Request, session: SessionDep, user: CaseReader, page: str | None = None) -> Response:
    flt, _ = CaseListFilter.from_params(request.query_params)
    result = case_scope.cases_page(
        session,
        user=user,
        today=request.app.state.settings.today(),
        status=flt.status,
        case_type=flt.case_type,
        team_id=flt.team_id,
        service_area_id=flt.service_area_id,
        worker=flt.worker,
        age_band=flt.age_band,
        flags=flt.flags,
        q=flt.q,
        sort=flt.sort,
        order=flt.order,
        page=case_number(page) or 1,
        page_size=PAGE_SIZE,
        clamp_to_last=True,
    )
    filters = flt.values()
    audit_bulk_read(
        session,
        actor=user,
        action="case.list",
        what="cases",
        count=len(result.items),
        filters={**filters, "page": result.page},
    )
    areas, teams = selectors.filter_choices(session, user=user)
    return render_list(
        request,
        "cases/list.html",
        {
            "filters": filters,
            "areas": areas,
            "teams": teams,
            "teams_by_id": selectors.teams_by_id(session),
            "case_types": CASE_TYPE_LABELS,
            "age_bands": selectors.AGE_BAND_LABELS,
            "flags": selectors.FLAGS,
            "statuses": selectors.STATUSES,
            "today": request.app.state.settings.today(),
            "age_on": selectors.age_on,
            "type_label": selectors.case_type_label,
            "no_scope": scope_service_area_ids(user) == set(),
        },
        result=result,
        params=flt.query(),
    )


@router.get("/cases/{case_id}")
def case_detail(request: Request, session: SessionDep, user: CaseReader, case: ReadableCase) -> Response:
    audit_record(
        session,
        actor=user,
        action="case.view",
        summary=f"Viewed the case of child {case.child_id}",
        entity_type="case",
        entity_id=case.id,
    )
    teams = selectors.teams_by_id(session)
    areas = selectors.service_areas_by_id(session)
    settings = request.app.state.settings
    can_hold = user.has_role(*legal_holds.LEGAL_HOLD_ROLES)  # the QA lead's Legal hold panel (app.retention.holds)
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "team": teams.get(case.team_id) if case.team_id is not None else None,
            "area": areas.get(case.service_area_id) if case.service_area_id is not None else None,
            "type_label": selectors.case_type_label(case.case_type),
            "age": selectors.age_on(case.birth_year, case.birth_month, request.app.state.settings.today()),
            "born": selectors.birth_label(case),
            "involvements": selectors.involvement_rows(case),
            "case_system_url": selectors.case_system_url(settings.case_system_url_template, case.child_id),
            "audits": audit_selectors.audit_rows(
                session, audits=audit_selectors.audits_page(session, user=user, case_id=case.id, page_size=100).items
            ),
            "can_start_audit": user.has_role(Role.QA_LEAD),
            "corrections": correction_selectors.correction_history(session, case),
            "can_correct": may_correct_facts(user),
            "corrected": request.query_params.get("corrected") == "1",
            "can_hold": can_hold,
            "legal_hold": legal_holds.case_hold_row(session, case_id=case.id) if can_hold else None,
        },
    )
