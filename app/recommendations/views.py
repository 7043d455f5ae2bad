"""Recommendations as pages: the list (with the filters, drill-down target of the dashboard, and its CSV and XLSX
exports), "My actions", one recommendation (progress, evidence, verification, reopening, due date), and raising
them from an audit's findings or, for the QA lead, from a cycle's thematic findings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.accounts.models import User
from app.audit_trail.service import audit_bulk_read
from app.audits.lookups import RaisingAudit
from app.audits.models import Audit
from app.audits.permissions import may_read_audit
from app.cases.models import Case
from app.db import SessionDep
from app.errors import Conflict, ValidationFailed
from app.moderation.audit_access import audit_access
from app.numbers import parse_int
from app.pagination import page_number
from app.recommendations import permissions, rules, selectors, service
from app.recommendations.lookups import Raiser, ReadableRecommendation, RecommendationUser, access_of
from app.recommendations.models import Recommendation
from app.recommendations.schemas import (
    DueDateForm,
    DueReasonForm,
    RecommendationMoveForm,
    RecommendationNotesForm,
    RecommendationRaiseForm,
    RecommendationRaiseValues,
)
from app.sampling.lookups import ManagedCycle, ProgrammeManager
from app.sampling.models import Cycle
from app.web.exports import table_response
from app.web.forms import (
    FormDep,
    attempt,
    date_from_parts,
    date_part_values,
    form_data,
    posted_version,
    request_today,
    validate,
    validate_all_named,
)
from app.web.query import query_string
from app.web.templating import render, render_list

router = APIRouter(tags=["recommendations (HTML)"])

# Everyone who works with recommendations (which ones: app.recommendations.permissions); the API has the same guard.
Worker = RecommendationUser
PAGE_SIZE = 25
EXPORT_HEADERS = (
    "Number",
    "Status",
    "Priority",
    "Due date",
    "Days overdue",
    "Escalated to",
    "Owner",
    "Team",
    "Service area",
    "Child",
    "Audit",
    "Cycle",
    "Themes",
    "What must be done",
    "Evidence",
    "Raised by",
    "Raised on",
    "Closed on",
)


def _zone(request: Request) -> str:
    return request.app.state.settings.timezone


def _thresholds(request: Request) -> rules.Thresholds:
    return service.thresholds(request.app.state.settings)


# --- The list and its exports ---------------------------------------------------------------------------


@router.get("/recommendations")
def recommendations_list(request: Request, session: SessionDep, user: Worker, page: str | None = None) -> Response:
    flt = selectors.filter_from_query(request.query_params, user=user)
    today = request_today(request)
    result = selectors.recommendations_page(
        session,
        user=user,
        flt=flt,
        today=today,
        zone=_zone(request),
        page=page_number(page),
        page_size=PAGE_SIZE,
        clamp_to_last=True,
    )
    rows = selectors.recommendation_rows(session, items=result.items, today=today, thresholds=_thresholds(request))
    params = flt.query()
    audit_bulk_read(
        session,
        actor=user,
        action="recommendation.list",
        what="recommendations",
        count=len(rows),
        filters={**params, "page": result.page},
    )
    return render_list(
        request,
        "recommendations/list.html",
        {
            "rows": rows,
            "flt": flt,
            "params": params,
            "export_query": query_string(params),
            "selects": selectors.filter_selects(selectors.filter_choices(session, user=user), flt),
        },
        result=result,
        params=params,
    )


def _export(request: Request, session: Session, user: User, fmt: str) -> Response:
    flt = selectors.filter_from_query(request.query_params, user=user)
    today = request_today(request)
    stmt = selectors.recommendations_select(session, user=user, flt=flt, today=today, zone=_zone(request))
    items = list(session.execute(stmt).scalars())
    rows = selectors.recommendation_rows(session, items=items, today=today, thresholds=_thresholds(request))
    service.recommendation_export_record(session, viewer=user, fmt=fmt, rows=len(rows), query=flt.query())
    zone = request.app.state.settings.tz
    table = [
        (
            r.item.id,
            r.status_label,
            r.priority_label,
            r.item.due_date,
            r.days_overdue or "",
            r.level_label,
            r.owner_name,
            r.team_name,
            r.service_area_name,
            r.child_id,
            r.item.audit_id or "",
            r.cycle_title,
            "; ".join(r.themes),
            r.item.text,
            r.item.evidence,
            r.raised_by_name,
            r.item.raised_at.astimezone(zone).date(),
            r.item.closed_at.astimezone(zone).date() if r.item.closed_at else None,
        )
        for r in rows
    ]
    return table_response(
        fmt, name="recommendations", title="Recommendations", headers=EXPORT_HEADERS, rows=table, today=today
    )


@router.get("/recommendations.csv")
def recommendations_csv(request: Request, session: SessionDep, user: Worker) -> Response:
    return _export(request, session, user, "csv")


@router.get("/recommendations.xlsx")
def recommendations_xlsx(request: Request, session: SessionDep, user: Worker) -> Response:
    return _export(request, session, user, "xlsx")


# --- My actions -----------------------------------------------------------------------------------------


@router.get("/recommendations/mine")
def my_actions(request: Request, session: SessionDep, user: Worker) -> Response:
    today = request_today(request)
    thresholds = _thresholds(request)
    rows = selectors.recommendation_rows(
        session, items=selectors.my_actions(session, user=user), today=today, thresholds=thresholds
    )
    awaiting = selectors.awaiting_verification_by(session, user=user, limit=50)
    audit_bulk_read(
        session,
        actor=user,
        action="recommendation.list",
        what="recommendations (my actions)",
        count=len(rows) + len(awaiting),
        filters={"list": "mine"},
    )
    return render(
        request,
        "recommendations/mine.html",
        {
            "overdue": [r for r in rows if r.is_overdue and r.item.status != rules.COMPLETED],
            "due_soon": [
                r
                for r in rows
                if not r.is_overdue and r.item.status != rules.COMPLETED and (r.item.due_date - today).days <= 7
            ],
            "later": [
                r
                for r in rows
                if not r.is_overdue and r.item.status != rules.COMPLETED and (r.item.due_date - today).days > 7
            ],
            "completed": [r for r in rows if r.item.status == rules.COMPLETED],
            "awaiting": selectors.recommendation_rows(session, items=awaiting, today=today, thresholds=thresholds),
            "today": today,
        },
    )


# --- One recommendation ---------------------------------------------------------------------------------


def _detail_page(
    request: Request,
    session: Session,
    user: User,
    item: Recommendation,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    conflict: str | None = None,
    status_code: int = 200,
    done: str | None = None,
) -> Response:
    (row,) = selectors.recommendation_rows(
        session, items=[item], today=request_today(request), thresholds=_thresholds(request)
    )
    access = access_of(request, session, item)
    actor = rules.Actor(is_owner=permissions.is_owner(user, access), may_verify=permissions.may_verify(user, access))
    section_title = ""
    if item.audit_id is not None and item.section_key:
        audit = session.get(Audit, item.audit_id)
        if audit is not None:
            section_title = dict(service.section_choices(session, audit=audit)).get(item.section_key, "")
    return render(
        request,
        "recommendations/detail.html",
        {
            "row": row,
            "item": item,
            "history": selectors.recommendation_history(session, recommendation_id=item.id),
            "can_start": actor.is_owner and item.status == rules.OPEN,
            "can_complete": actor.is_owner and item.status in (rules.OPEN, rules.IN_PROGRESS),
            "can_verify": (not actor.is_owner) and actor.may_verify and item.status == rules.COMPLETED,
            "owner_waits": actor.is_owner and item.status == rules.COMPLETED,
            "can_change_due": item.status != rules.CLOSED and permissions.may_change_due_date(user, access),
            "section_title": section_title,
            "errors": errors or {},
            "values": values or {},
            "conflict": conflict,
            "done": done,
            "audit_visible": _audit_visible(session, user, item),
        },
        status_code=status_code,
    )


def _audit_visible(session: Session, user: User, item: Recommendation) -> bool:
    """Whether to link the audit it came from: only for those who may read that audit."""
    if item.audit_id is None:
        return False
    audit = session.get(Audit, item.audit_id)
    return audit is not None and may_read_audit(user, audit_access(session, audit))


DONE_MESSAGES = {
    "raised": "Recommendation raised",
    "start": "Marked as in progress",
    "complete": "Marked as completed: it now waits for verification",
    "close": "Verified and closed",
    "reopen": "Reopened: it is back with the owner",
    "due_date": "Due date changed",
}


@router.get("/recommendations/{recommendation_id}")
def recommendation_detail(
    request: Request, session: SessionDep, user: Worker, item: ReadableRecommendation, done: str | None = None
) -> Response:
    service.recommendation_view_record(session, item=item, viewer=user)
    return _detail_page(request, session, user, item, done=DONE_MESSAGES.get(done or ""))


@router.post("/recommendations/{recommendation_id}/move")
def recommendation_move(
    request: Request, session: SessionDep, user: Worker, item: ReadableRecommendation, form: FormDep
) -> Response:
    posted = form_data(form, RecommendationMoveForm)
    values = RecommendationNotesForm.model_validate(posted).model_dump()
    data, errors = validate(RecommendationMoveForm, posted)
    if data is None:
        return _detail_page(request, session, user, item, values=values, errors=errors, status_code=400)
    action = data.action
    outcome = attempt(
        session,
        lambda: service.recommendation_act(
            session,
            item=item,
            actor=user,
            action=action,
            version=posted_version(form),
            settings=request.app.state.settings,
            evidence=data.evidence,
            reason=data.reason,
        ),
    )
    if isinstance(outcome, ValidationFailed):
        return _detail_page(request, session, user, item, values=values, errors=outcome.errors, status_code=400)
    if isinstance(outcome, Conflict):  # nothing of the stale form was kept; show the item as it now is
        return _detail_page(request, session, user, item, values=values, conflict=outcome.message, status_code=409)
    return RedirectResponse(f"/recommendations/{item.id}?done={action.value}", status_code=303)


@router.post("/recommendations/{recommendation_id}/due-date")
def recommendation_due_date(
    request: Request, session: SessionDep, user: Worker, item: ReadableRecommendation, form: FormDep
) -> Response:
    posted = {**form_data(form, DueDateForm), "due_date": date_from_parts(form, "due_date")}
    values = {**DueReasonForm.model_validate(posted).model_dump(), **date_part_values(form, "due_date")}
    data, errors = validate(DueDateForm, posted)
    if data is None:
        return _detail_page(request, session, user, item, values=values, errors=errors, status_code=400)
    outcome = attempt(
        session,
        lambda: service.recommendation_due_change(
            session,
            item=item,
            actor=user,
            due_date=data.due_date,
            reason=data.due_reason,
            version=posted_version(form),
            settings=request.app.state.settings,
        ),
    )
    if isinstance(outcome, ValidationFailed):
        errors = {("due_reason" if k == "reason" else k): v for k, v in outcome.errors.items()}
        return _detail_page(request, session, user, item, values=values, errors=errors, status_code=400)
    if isinstance(outcome, Conflict):  # nothing of the stale form was kept; show the item as it now is
        return _detail_page(request, session, user, item, values=values, conflict=outcome.message, status_code=409)
    return RedirectResponse(f"/recommendations/{item.id}?done=due_date", status_code=303)


# --- Raising ----------------------------------------------------------------------------------------------


def _raise_page(
    request: Request,
    session: Session,
    *,
    audit: Audit | None,
    cycle: Cycle | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    raised: int | None = None,
) -> Response:
    settings = request.app.state.settings
    context: dict[str, Any] = {
        "raised": raised,
        "audit": audit,
        "cycle": cycle,
        "values": values,
        "errors": errors,
        "owners": service.owner_choices(session),
        "themes": service.active_themes(session),
        "priorities": [(p, rules.PRIORITY_LABELS[p], service.due_days(settings)[p]) for p in rules.PRIORITIES],
        "sections": service.section_choices(session, audit=audit) if audit is not None else [],
    }
    if audit is not None:
        case = session.get(Case, audit.case_id)
        context.update(
            case=case,
            existing=selectors.recommendation_rows(
                session,
                items=selectors.recommendations_for_audit(session, audit_id=audit.id),
                today=request_today(request),
                thresholds=_thresholds(request),
            ),
        )
    else:
        context.update(service_areas=selectors.filter_choices(session, user=request.state.user)["service_areas"])
    return render(request, "recommendations/raise.html", context, status_code=status_code)


def _raise_submit(
    request: Request, session: Session, user: User, form: Any, *, audit: Audit | None, cycle: Cycle | None
) -> Response:
    posted = {**form_data(form, RecommendationRaiseForm), "due_date": date_from_parts(form, "due_date")}
    data, errors = validate_all_named(RecommendationRaiseForm, posted)
    item = attempt(
        session,
        lambda: service.recommendation_raise(
            session,
            actor=user,
            settings=request.app.state.settings,
            text=data.text,
            owner_id=data.owner_id,
            priority=data.priority,
            due_date=data.due_date,
            theme_ids=data.theme_ids,
            audit=audit,
            section_key=data.section_key,
            cycle=cycle,
            service_area_id=data.service_area_id,
            errors=errors,
        ),
    )
    if isinstance(item, Conflict):
        raise item
    if isinstance(item, ValidationFailed):
        values = {**RecommendationRaiseValues.model_validate(posted).model_dump(), **date_part_values(form, "due_date")}
        return _raise_page(
            request, session, audit=audit, cycle=cycle, values=values, errors=item.errors, status_code=400
        )
    back = f"/audits/{audit.id}/recommendations" if audit is not None else f"/recommendations/{item.id}"
    return RedirectResponse(f"{back}?raised={item.id}" if audit is not None else f"{back}?done=raised", status_code=303)


@router.get("/audits/{audit_id}/recommendations")
def audit_recommendations(
    request: Request, session: SessionDep, user: Raiser, audit: RaisingAudit, raised: str | None = None
) -> Response:
    case = session.get(Case, audit.case_id)
    owner = service.default_owner(session, case=case) if case is not None else None
    values: dict[str, Any] = {"owner_id": str(owner.id) if owner else "", "priority": "normal", "theme_ids": []}
    return _raise_page(request, session, audit=audit, cycle=None, values=values, errors={}, raised=parse_int(raised))


@router.post("/audits/{audit_id}/recommendations")
def audit_recommendation_raise(
    request: Request, session: SessionDep, user: Raiser, audit: RaisingAudit, form: FormDep
) -> Response:
    return _raise_submit(request, session, user, form, audit=audit, cycle=None)


@router.get("/programme/{cycle_id}/recommendations/new")
def cycle_recommendation_form(
    request: Request, session: SessionDep, _: ProgrammeManager, cycle: ManagedCycle
) -> Response:
    values: dict[str, Any] = {"priority": "normal", "theme_ids": []}
    return _raise_page(request, session, audit=None, cycle=cycle, values=values, errors={})


@router.post("/programme/{cycle_id}/recommendations/new")
def cycle_recommendation_raise(
    request: Request, session: SessionDep, lead: ProgrammeManager, cycle: ManagedCycle, form: FormDep
) -> Response:
    return _raise_submit(request, session, lead, form, audit=None, cycle=cycle)
