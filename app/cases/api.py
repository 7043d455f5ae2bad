"""JSON API for the case register: a page of cases, and one case (each fetch logged as a view)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from app.accounts import selectors as account_selectors
from app.audit_trail.service import audit_bulk_read, audit_record
from app.audits import case_scope
from app.cases import selectors
from app.cases.facts import CaseType
from app.cases.lookups import CaseReader, ReadableCaseId
from app.cases.schemas import CasePublic
from app.db import MAX_ROW_ID, SessionDep
from app.errors import ValidationFailed
from app.numbers import digits
from app.pagination import MAX_PAGE, MAX_PAGE_SIZE, PageOut

router = APIRouter(tags=["cases"])

AgeBand = Literal["0-4", "5-9", "10-15", "16-17", "18+"]
Flag = Literal["missing", "absent", "no_visit"]
NO_MATCH = -1  # an id no row has: a filter naming an unknown id matches nothing


def _id_or_name(value: str | None, *, field: str, by_name) -> int | None:
    """A filter given as a row id (digits) or a name (matched ignoring case and extra spaces)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if digits(value):
        number = int(value) if len(value) <= 10 else NO_MATCH
        return number if 1 <= number <= MAX_ROW_ID else NO_MATCH
    row = by_name(value)
    if row is None:
        raise ValidationFailed({field: f"There is no {field.replace('_', ' ')} called {value!r}"})
    return row.id


@router.get("/cases", response_model=PageOut[CasePublic])
def cases_list(
    request: Request,
    session: SessionDep,
    user: CaseReader,
    status: Literal["open", "closed", "all"] = "open",
    case_type: CaseType | None = None,
    team: Annotated[str | None, Query(max_length=120, description="Team id, or team name (any case)")] = None,
    service_area: Annotated[
        str | None, Query(max_length=120, description="Service area id, or its name (any case)")
    ] = None,
    worker: Annotated[str | None, Query(max_length=120, description="Allocated worker's full name, exactly")] = None,
    q: Annotated[str | None, Query(max_length=40, description="Child ID, or the start of one")] = None,
    age_band: AgeBand | None = None,
    flag: Annotated[list[Flag], Query(description="Only cases with all these flags")] = [],  # noqa: B006
    sort: Literal["child_id", "case_type", "team", "worker", "start_date", "last_statutory_visit"] = "child_id",
    order: Literal["asc", "desc"] = "asc",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageOut[CasePublic]:
    """Cases you may see (your service area, or all for a QA lead), open ones unless `status` says otherwise.

    `team` and `service_area` take either the numeric id or the name; an unknown name is a 422,
    an unknown id an empty page.
    """
    team_id = _id_or_name(team, field="team", by_name=lambda n: account_selectors.team_by_name(session, name=n))
    area_id = _id_or_name(
        service_area, field="service_area", by_name=lambda n: account_selectors.service_area_by_name(session, name=n)
    )
    today = request.app.state.settings.today()
    result = case_scope.cases_page(
        session,
        user=user,
        today=today,
        status=status,
        case_type=case_type.value if case_type else None,
        team_id=team_id,
        service_area_id=area_id,
        worker=worker,
        age_band=age_band,
        flags=flag,
        q=q,
        sort=sort,
        order=order,
        page=page,
        page_size=page_size,
    )
    audit_bulk_read(
        session,
        actor=user,
        action="case.list",
        what="cases",
        count=len(result.items),
        filters={
            "q": q,
            "status": status,
            "case_type": case_type.value if case_type else None,
            "team": team,
            "service_area": service_area,
            "worker": worker,
            "age_band": age_band,
            "flag": list(flag),
            "page": result.page,
        },
    )
    teams = selectors.teams_by_id(session)
    areas = selectors.service_areas_by_id(session)
    return PageOut(
        items=[selectors.case_public(c, teams=teams, areas=areas, today=today) for c in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.get("/cases/{case_id}", response_model=CasePublic, responses={404: {}})
def case_get(request: Request, session: SessionDep, user: CaseReader, case: ReadableCaseId) -> CasePublic:
    """One case; every fetch is recorded in the audit trail as a view of the child's record. Out-of-range ids are
    404 like any other case you cannot see."""
    audit_record(
        session,
        actor=user,
        action="case.view",
        summary=f"Viewed the case of child {case.child_id}",
        entity_type="case",
        entity_id=case.id,
    )
    return selectors.case_public(
        case,
        teams=selectors.teams_by_id(session),
        areas=selectors.service_areas_by_id(session),
        today=request.app.state.settings.today(),
    )
