"""Legal holds as pages and JSON (the QA lead only, `app.retention.holds.LEGAL_HOLD_ROLES`, for both): put a case on
hold from its page, lift a hold (after a page that says what lifting means), and the list of holds.

    GET      /legal-holds/new?child_id=           a case named by its child ID: on to its legal hold page
    GET/POST /cases/{case_id}/legal-hold          the reason, then the case is on hold (409 when it already is)
    GET/POST /legal-holds/{hold_id}/lift          the reason, then the hold is lifted (409 when it already was)
    GET      /legal-holds                         active holds first; ?status=active|lifted
    GET      /api/v1/legal-holds                  the same list, paginated
    POST     /api/v1/cases/{case_id}/legal-hold   {"reason"} -> 201, the hold
    POST     /api/v1/legal-holds/{hold_id}/lift   {"reason"} -> 200, the hold, lifted

`router` holds the pages (with the CSRF check), `api_router` the JSON routes (under /api/v1); both are registered in
`app.main`. The case is taken through the case register's lookups (`ReadableCase`, `ReadableCaseId`); a hold through
`ManagedHold` / `ManagedHoldId` below, which answer 404 for a hold that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlmodel import Session
from starlette.datastructures import FormData

from app.accounts.models import User
from app.audit_trail.service import audit_bulk_read
from app.cases.lookups import ReadableCase, ReadableCaseId
from app.cases.models import Case, LegalHold
from app.cases.selectors import CHILD_ID_MAX_LENGTH, case_by_child_id
from app.db import RowId, SessionDep
from app.errors import Conflict, ValidationFailed
from app.numbers import parse_int
from app.pagination import MAX_PAGE, MAX_PAGE_SIZE, PageOut, page_number
from app.retention import holds
from app.web.auth import RoleGuard
from app.web.forms import FormDep, attempt, clip, form_data, see_other
from app.web.lookup import not_found
from app.web.query import StatusFilter
from app.web.templating import render, render_list

router = APIRouter(tags=["legal holds (HTML)"])
api_router = APIRouter(tags=["legal holds"])

PAGE_SIZE = 25
HoldManager = Annotated[User, Depends(RoleGuard(*holds.LEGAL_HOLD_ROLES))]


# --- The hold a route names --------------------------------------------------------------------------------------


def _hold(request: Request, session: Session, number: int | None, shown: object) -> LegalHold:
    hold = holds.hold_get(session, number)
    if hold is None:
        raise not_found(request, page=holds.NOT_FOUND, api=holds.NOT_FOUND_API.format(id=shown))
    return hold


def managed_hold(request: Request, hold_id: str, session: SessionDep, lead: HoldManager) -> LegalHold:
    """A page's hold: any text in the address, and what is not a hold's number is not found (404)."""
    return _hold(request, session, parse_int(hold_id, max_digits=12), hold_id)


def managed_hold_id(request: Request, hold_id: RowId, session: SessionDep, lead: HoldManager) -> LegalHold:
    """The API's hold: a whole number (anything else is bad input, 422)."""
    return _hold(request, session, hold_id, hold_id)


ManagedHold = Annotated[LegalHold, Depends(managed_hold)]
ManagedHoldId = Annotated[LegalHold, Depends(managed_hold_id)]


# --- Forms and JSON shapes ---------------------------------------------------------------------------------------


class LegalHoldForm(BaseModel):
    """The reason typed on the place and lift pages (the service names one that is missing, short or long)."""

    reason: Annotated[str, BeforeValidator(clip(holds.REASON_MAX_LENGTH + 1))] = ""


class LegalHoldReason(BaseModel):
    """Placing or lifting a hold through the API: why."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        default="",
        max_length=10_000,
        description=f"why ({holds.REASON_MIN_LENGTH} to {holds.REASON_MAX_LENGTH:,} characters); kept with the hold "
        "and in the audit trail",
    )


class LegalHoldPublic(BaseModel):
    id: int
    case_id: int
    child_id: str
    status: Literal["active", "lifted"]
    reason: str
    placed_at: datetime
    placed_by_id: int | None
    placed_by: str
    lifted_at: datetime | None
    lifted_by_id: int | None
    lifted_by: str | None
    lifted_reason: str | None


def hold_public(row: holds.HoldRow) -> LegalHoldPublic:
    h = row.hold
    assert h.id is not None
    return LegalHoldPublic(
        id=h.id,
        case_id=h.case_id,
        child_id=row.child_id,
        status="active" if row.active else "lifted",
        reason=h.reason,
        placed_at=h.placed_at,
        placed_by_id=h.placed_by_id,
        placed_by=row.placed_by_name,
        lifted_at=h.lifted_at,
        lifted_by_id=h.lifted_by_id,
        lifted_by=(row.lifted_by_name or None) if h.lifted_at else None,
        lifted_reason=h.lifted_reason,
    )


# --- Pages -------------------------------------------------------------------------------------------------------


def _hold_page(
    request: Request,
    template: str,
    context: dict[str, object],
    *,
    reason: str = "",
    errors: dict[str, str] | None = None,
    conflict: str | None = None,
    status_code: int = 200,
) -> Response:
    """The place and lift pages: the form's reason, its problems or the conflict, and the reason's limits."""
    return render(
        request,
        f"retention/holds/{template}",
        {
            **context,
            "reason": reason,
            "errors": errors or {},
            "conflict": conflict,
            "reason_min": holds.REASON_MIN_LENGTH,
            "reason_max": holds.REASON_MAX_LENGTH,
        },
        status_code=status_code,
    )


def _place_page(request: Request, session: Session, case: Case, **form: Any) -> Response:
    assert case.id is not None
    existing = holds.case_hold_row(session, case_id=case.id)
    return _hold_page(request, "place.html", {"case": case, "existing": existing}, **form)


@router.get("/cases/{case_id}/legal-hold")
def hold_place_form(request: Request, session: SessionDep, lead: HoldManager, case: ReadableCase) -> Response:
    return _place_page(request, session, case)


def _hold_change(
    session: Session,
    form: FormData,
    change: Callable[[str], object],
    page: Callable[..., Response],
    done: str,
) -> Response:
    """Place or lift a hold with the posted reason: the page again with the reason's problem (400) or the conflict
    (409), nothing kept; or on to `done`."""
    posted = LegalHoldForm.model_validate(form_data(form, LegalHoldForm))
    outcome = attempt(session, lambda: change(posted.reason))
    if isinstance(outcome, ValidationFailed):
        return page(reason=posted.reason, errors=outcome.errors, status_code=400)
    if isinstance(outcome, Conflict):
        return page(conflict=outcome.message, status_code=409)
    return see_other(done)


@router.post("/cases/{case_id}/legal-hold")
def hold_place_submit(
    request: Request, session: SessionDep, lead: HoldManager, case: ReadableCase, form: FormDep
) -> Response:
    return _hold_change(
        session,
        form,
        lambda reason: holds.hold_place(session, case=case, reason=reason, actor=lead),
        lambda **shown: _place_page(request, session, case, **shown),
        f"/cases/{case.id}?legal_hold=placed",
    )


def _lift_page(request: Request, session: Session, hold: LegalHold, **form: Any) -> Response:
    return _hold_page(request, "lift.html", {"row": holds.hold_row(session, hold)}, **form)


@router.get("/legal-holds/new")
def hold_find_case(
    request: Request,
    session: SessionDep,
    lead: HoldManager,
    child_id: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Put a case on hold starting from its child ID (a letter names the child): on to the case's hold page."""
    errors: dict[str, str] = {}
    if child_id is not None:
        case = case_by_child_id(session, scope=None, child_id=child_id)  # the QA lead sees every case
        if case is not None:
            return see_other(f"/cases/{case.id}/legal-hold")
        typed = child_id.strip()
        errors["child_id"] = f"There is no case with child ID {typed}" if typed else "Enter the child ID of the case"
    return render(
        request,
        "retention/holds/new.html",
        {"child_id": (child_id or "")[: CHILD_ID_MAX_LENGTH + 10], "errors": errors},
        status_code=400 if errors else 200,
    )


@router.get("/legal-holds/{hold_id}/lift")
def hold_lift_form(request: Request, session: SessionDep, lead: HoldManager, hold: ManagedHold) -> Response:
    return _lift_page(request, session, hold)


@router.post("/legal-holds/{hold_id}/lift")
def hold_lift_submit(
    request: Request, session: SessionDep, lead: HoldManager, hold: ManagedHold, form: FormDep
) -> Response:
    return _hold_change(
        session,
        form,
        lambda reason: holds.hold_lift(session, hold=hold, reason=reason, actor=lead),
        lambda **shown: _lift_page(request, session, hold, **shown),
        f"/cases/{hold.case_id}?legal_hold=lifted",
    )


@router.get("/legal-holds")
def holds_list(request: Request, session: SessionDep, lead: HoldManager, page: str | None = None) -> Response:
    flt, _ = StatusFilter.from_params(request.query_params, statuses=holds.STATUS_LABELS)
    result = holds.holds_page(
        session, status=flt.status, page=page_number(page), page_size=PAGE_SIZE, clamp_to_last=True
    )
    audit_bulk_read(
        session,
        actor=lead,
        action="legal_hold.list",
        what="legal holds",
        count=len(result.items),
        filters={"status": flt.status, "page": result.page},
    )
    return render_list(
        request,
        "retention/holds/list.html",
        {
            "rows": holds.hold_rows(session, holds=result.items),
            "status": flt.status or "",
            "statuses": holds.STATUS_LABELS,
        },
        result=result,
        params=flt.query(),
    )


# --- JSON --------------------------------------------------------------------------------------------------------

Status = Annotated[
    Literal["active", "lifted"] | None,
    Query(description="active (the cases on hold now) or lifted; without it, every hold, active ones first"),
]


@api_router.get("/legal-holds", response_model=PageOut[LegalHoldPublic])
def api_holds_list(
    session: SessionDep,
    lead: HoldManager,
    status: Status = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageOut[LegalHoldPublic]:
    """Every legal hold (the QA lead), active ones first, then the newest first. Listing them is recorded in the
    audit trail."""
    result = holds.holds_page(session, status=status, page=page, page_size=page_size)
    items = [hold_public(row) for row in holds.hold_rows(session, holds=result.items)]
    audit_bulk_read(
        session,
        actor=lead,
        action="legal_hold.list",
        what="legal holds",
        count=len(items),
        filters={"status": status, "page": result.page},
    )
    return PageOut(items=items, total=result.total, page=result.page, page_size=result.page_size)


@api_router.post(
    "/cases/{case_id}/legal-hold",
    status_code=201,
    response_model=LegalHoldPublic,
    responses={
        409: {"description": "The case is already on legal hold: nothing changed"},
        422: {"description": "The reason is missing, shorter than 10 or longer than 2,000 characters (`reason`)"},
    },
)
def api_hold_place(
    session: SessionDep, lead: HoldManager, case: ReadableCaseId, body: LegalHoldReason
) -> LegalHoldPublic:
    """Put the case on legal hold, for a reason: the retention run then keeps it and everything about it until the
    hold is lifted. One active hold per case."""
    hold = holds.hold_place(session, case=case, reason=body.reason, actor=lead)
    return hold_public(holds.hold_row(session, hold))


@api_router.post(
    "/legal-holds/{hold_id}/lift",
    response_model=LegalHoldPublic,
    responses={
        409: {"description": "The hold has already been lifted: nothing changed"},
        422: {"description": "The reason is missing, shorter than 10 or longer than 2,000 characters (`reason`)"},
    },
)
def api_hold_lift(
    session: SessionDep, lead: HoldManager, hold: ManagedHoldId, body: LegalHoldReason
) -> LegalHoldPublic:
    """Lift a legal hold, for a reason. Once lifted, the case's records may be removed or anonymised at the next
    retention run when their period has ended. A hold is lifted once."""
    holds.hold_lift(session, hold=hold, reason=body.reason, actor=lead)
    return hold_public(holds.hold_row(session, hold))
