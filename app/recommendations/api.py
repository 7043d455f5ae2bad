"""JSON API for recommendations: raise one from an audit or a cycle's thematic finding, list and read them (within
the caller's scope), and move them on or change their due date (the same services as the pages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from sqlmodel import Session

from app.audit_trail.service import audit_bulk_read
from app.audits.lookups import RaisingAudit
from app.cases.models import Case
from app.config import Settings
from app.db import SessionDep
from app.errors import ValidationFailed
from app.pagination import MAX_PAGE, MAX_PAGE_SIZE, PageOut
from app.recommendations import selectors, service
from app.recommendations.lookups import Raiser, ReadableRecommendation, RecommendationUser
from app.recommendations.models import Recommendation
from app.recommendations.schemas import (
    AuditRecommendationCreate,
    RecommendationDetail,
    RecommendationPublic,
    RecommendationQuery,
    RecommendationUpdate,
    ThematicRecommendationCreate,
    recommendation_detail,
    recommendation_public,
)
from app.sampling.lookups import ManagedCycle, ProgrammeManager

router = APIRouter(tags=["recommendations"])

_RAISE_ERRORS = {
    403: {"description": "Not allowed to raise one here"},
    404: {},
    422: {"description": "A field at fault, named in `detail[].loc`"},
}
_WRITE_ERRORS = {
    **_RAISE_ERRORS,
    403: {"description": "Not allowed to do this (e.g. the owner closing their own)"},
    409: {"description": "Stale version, or a move the recommendation's status does not allow"},
}


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _detail(session: Session, settings: Settings, item: Recommendation) -> RecommendationDetail:
    (row,) = selectors.recommendation_rows(
        session, items=[item], today=settings.today(), thresholds=service.thresholds(settings)
    )
    assert item.id is not None
    return recommendation_detail(row, selectors.recommendation_history(session, recommendation_id=item.id))


@router.post(
    "/audits/{audit_id}/recommendations", response_model=RecommendationDetail, status_code=201, responses=_RAISE_ERRORS
)
def recommendation_raise_on_audit(
    request: Request, session: SessionDep, user: Raiser, audit: RaisingAudit, body: AuditRecommendationCreate
) -> RecommendationDetail:
    """Raise a recommendation from an audit's finding (its auditor, a moderator of it, or the QA lead). Without
    `owner_id` it goes to the case's worker, or else its team manager; when the case has neither, 422 names
    `owner_id`."""
    owner_id = body.owner_id
    if owner_id is None:
        case = session.get(Case, audit.case_id)
        default = service.default_owner(session, case=case) if case is not None else None
        owner_id = default.id if default is not None else None
    settings = _settings(request)
    try:
        item = service.recommendation_raise(
            session,
            actor=user,
            settings=settings,
            text=body.text,
            owner_id=owner_id,
            priority=body.priority,
            due_date=body.due_date,
            theme_ids=body.theme_ids,
            audit=audit,
            section_key=body.section_key,
        )
    except ValidationFailed as exc:
        if body.owner_id is None and "owner_id" in exc.errors:
            exc.errors["owner_id"] = (
                "The case has no default owner (its worker has no account and its team no manager): give owner_id"
            )
        raise
    return _detail(session, settings, item)


@router.post(
    "/cycles/{cycle_id}/recommendations", response_model=RecommendationDetail, status_code=201, responses=_RAISE_ERRORS
)
def recommendation_raise_thematic(
    request: Request,
    session: SessionDep,
    user: ProgrammeManager,
    cycle: ManagedCycle,
    body: ThematicRecommendationCreate,
) -> RecommendationDetail:
    """Raise a recommendation from a thematic finding of a cycle (QA lead): no case; its service area is the one
    given, else the owner's."""
    settings = _settings(request)
    item = service.recommendation_raise(
        session,
        actor=user,
        settings=settings,
        text=body.text,
        owner_id=body.owner_id,
        priority=body.priority,
        due_date=body.due_date,
        theme_ids=body.theme_ids,
        cycle=cycle,
        service_area_id=body.service_area_id,
    )
    return _detail(session, settings, item)


@router.get("/recommendations", response_model=PageOut[RecommendationPublic])
def recommendations_list(
    request: Request,
    session: SessionDep,
    user: RecommendationUser,
    query: Annotated[RecommendationQuery, Query()],
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageOut[RecommendationPublic]:
    """Recommendations you may see (the QA lead: all; a head of service: their area's; a team manager: their
    teams'; the auditor and the moderators of an audit: those raised from it; anyone: those they own or raised),
    narrowed by the filters. `status=outstanding` is open, in progress
    or completed awaiting verification; `overdue` is outstanding past its due date (on the local calendar)."""
    flt = selectors.filter_from_query(query.params(), user=user)
    if flt.errors:
        raise RequestValidationError(
            [{"loc": ("query", name), "msg": message, "type": "value_error"} for name, message in flt.errors.items()]
        )
    settings = _settings(request)
    today = settings.today()
    result = selectors.recommendations_page(
        session, user=user, flt=flt, today=today, zone=settings.timezone, page=page, page_size=page_size
    )
    rows = selectors.recommendation_rows(
        session, items=result.items, today=today, thresholds=service.thresholds(settings)
    )
    audit_bulk_read(
        session,
        actor=user,
        action="recommendation.list",
        what="recommendations",
        count=len(rows),
        filters={**query.params(), "page": result.page},
    )
    return PageOut(
        items=[recommendation_public(row) for row in rows],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.get("/recommendations/{recommendation_id}", response_model=RecommendationDetail, responses={404: {}})
def recommendation_get(
    request: Request, session: SessionDep, user: RecommendationUser, item: ReadableRecommendation
) -> RecommendationDetail:
    """One recommendation with its history. Reading one on a child's case is recorded in the audit trail."""
    service.recommendation_view_record(session, item=item, viewer=user)
    return _detail(session, _settings(request), item)


@router.patch("/recommendations/{recommendation_id}", response_model=RecommendationDetail, responses=_WRITE_ERRORS)
def recommendation_update(
    request: Request,
    session: SessionDep,
    user: RecommendationUser,
    item: ReadableRecommendation,
    body: RecommendationUpdate,
) -> RecommendationDetail:
    """Change the due date (with `due_date_reason`) and/or move the status on (see the body's description).

    The due date changes first and the status second, each against the version the one before left, all in one
    transaction: if either is refused nothing is saved, and the response names what was wrong."""
    if body.status is None and body.due_date is None:
        raise ValidationFailed({"status": "Send a new status or a new due date (or both)"})
    if body.evidence is not None and body.status != "completed":
        raise ValidationFailed({"evidence": "Evidence is recorded when the status moves to completed"})
    settings = _settings(request)
    version = body.version
    if body.due_date is not None:
        reason = body.due_date_reason if body.due_date_reason is not None else body.reason
        try:
            service.recommendation_due_change(
                session,
                item=item,
                actor=user,
                due_date=body.due_date,
                reason=reason,
                version=version,
                settings=settings,
            )
        except ValidationFailed as exc:
            raise ValidationFailed(
                {("due_date_reason" if k == "reason" else k): v for k, v in exc.errors.items()}
            ) from None
        version = item.version
    if body.status is not None:
        action = service.action_for_status(item.status, body.status)
        service.recommendation_act(
            session,
            item=item,
            actor=user,
            action=action,
            version=version,
            settings=settings,
            evidence=body.evidence or "",
            reason=body.reason or "",
        )
    return _detail(session, settings, item)
