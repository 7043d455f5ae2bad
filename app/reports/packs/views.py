"""Board packs as records: the list (issued packs for everyone with report access; drafts and schedules for the QA
lead), schedules, a draft's commentary and distribution list, issuing (the PDF is made on the job queue), and the
download of exactly what was issued, by a user or through a board member's signed link. Every download is in the
audit trail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app import clock
from app.accounts.models import User
from app.db import SessionDep
from app.errors import Conflict, NotFound, ValidationFailed
from app.pagination import page_number
from app.reports.board_pack import period_from_query
from app.reports.packs import permissions, rules, selectors, service
from app.reports.packs.lookups import ManagedPack, ManagedSchedule, PackManager, PackReader, ReadablePack
from app.reports.packs.models import DRAFT, FAILED, FREQUENCIES, ISSUED, BoardPackRecord, PackDelivery
from app.reports.packs.schemas import DraftForm, PrepareForm, ScheduleForm
from app.web.forms import FormDep, Refusal, attempt, form_data, posted_version, see_other, validate
from app.web.templating import render, render_list

router = APIRouter(tags=["board packs (HTML, PDF)"])

PDF = "application/pdf"


def _pdf(pack: BoardPackRecord) -> Response:
    assert pack.pdf is not None
    return Response(
        pack.pdf,
        media_type=PDF,
        headers={
            "Content-Disposition": f'attachment; filename="{pack.filename or f"board-pack-{pack.id}.pdf"}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/reports/packs")
def packs_page(request: Request, session: SessionDep, user: PackReader) -> Response:
    result = selectors.issued_page(session, user=user, page=page_number(request.query_params.get("page")))
    manager = permissions.may_manage_packs(user)
    context: dict[str, Any] = {
        "manager": manager,
        "drafts": selectors.drafts(session) if manager else [],
        "schedules": selectors.schedules(session) if manager else [],
        "areas": selectors.area_names(session),
    }
    return render_list(request, "reports/packs/list.html", context, result=result, params={})


def _schedule_page(
    request: Request, session: Session, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Response:
    context = {"values": values, "errors": errors, "areas": selectors.area_names(session), "frequencies": FREQUENCIES}
    return render(request, "reports/packs/schedule.html", context, status_code=status_code)


@router.get("/reports/packs/schedule")
def schedule_form(request: Request, session: SessionDep, _: PackManager) -> Response:
    return _schedule_page(request, session, {"frequency": "monthly", "working_day": "5"}, {})


@router.post("/reports/packs/schedule")
def schedule_submit(request: Request, session: SessionDep, actor: PackManager, form: FormDep) -> Response:
    values = form_data(form, ScheduleForm)
    data, errors = validate(ScheduleForm, values)
    if data is None:
        return _schedule_page(request, session, values, errors, status_code=400)
    made = attempt(
        session,
        lambda: service.schedule_create(
            session,
            title=data.title,
            frequency=data.frequency,
            working_day=data.working_day,
            service_area_id=data.service_area_id,
            recipients_text=data.recipients,
            actor=actor,
        ),
    )
    if isinstance(made, Exception):
        return _schedule_page(request, session, values, getattr(made, "errors", {}) or {"form": made.message}, 400)
    return see_other("/reports/packs")


@router.get("/reports/packs/schedules/{schedule_id}/stop")
def schedule_stop_confirm(request: Request, _: PackManager, schedule: ManagedSchedule) -> Response:
    return render(request, "reports/packs/stop.html", {"schedule": schedule})


@router.post("/reports/packs/schedules/{schedule_id}/stop")
def schedule_stop(
    request: Request, session: SessionDep, actor: PackManager, schedule: ManagedSchedule, form: FormDep
) -> Response:
    done = attempt(
        session, lambda: service.schedule_stop(session, schedule=schedule, version=posted_version(form), actor=actor)
    )
    if isinstance(done, Exception):
        context = {"schedule": schedule, "notice": done.message}
        return render(request, "reports/packs/stop.html", context, status_code=409)
    return see_other("/reports/packs")


@router.post("/reports/packs/new")
def pack_new(request: Request, session: SessionDep, actor: PackManager, form: FormDep) -> Response:
    """A draft of the pack the board pack page shows (its period and area), for commentary and issuing."""
    data = PrepareForm.model_validate(form_data(form, PrepareForm))
    period, errors = period_from_query(
        {"period": data.period, "month": data.month, "quarter": data.quarter}, today=request.app.state.settings.today()
    )
    if errors:
        raise Conflict("That period could not be read: choose it again on the board pack page.")
    made = attempt(
        session,
        lambda: service.pack_prepare(
            session, period=period, service_area_id=data.service_area_id, params={}, recipients=[], actor=actor
        ),
    )
    if isinstance(made, Exception):
        raise Conflict(made.message)
    return see_other(f"/reports/packs/{made.id}")


def _pack_page(
    request: Request,
    session: Session,
    user: User,
    pack: BoardPackRecord,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    deliveries: list[PackDelivery] = (
        selectors.deliveries(session, pack_id=pack.id) if pack.id and permissions.may_manage_packs(user) else []
    )
    context = {
        "pack": pack,
        "period": _period(pack),
        "manager": permissions.may_manage_packs(user),
        "area": selectors.area_names(session).get(pack.service_area_id or 0),
        "values": values or {"commentary": pack.commentary, "recipients": "\n".join(pack.recipients)},
        "errors": errors or {},
        "notice": notice,
        "deliveries": deliveries,
        "preview_href": _preview_href(pack),
    }
    return render(request, "reports/packs/detail.html", context, status_code=status_code)


def _refused(
    request: Request,
    session: Session,
    user: User,
    pack: BoardPackRecord,
    refusal: Refusal,
    *,
    values: dict[str, Any] | None = None,
) -> Response:
    """The pack's page again after a refused save or issue: the fields at fault (400), or why it cannot change (409)."""
    errors = refusal.errors if isinstance(refusal, ValidationFailed) else {}
    return _pack_page(
        request,
        session,
        user,
        pack,
        values=values,
        errors=errors,
        notice=None if errors else refusal.message,
        status_code=409 if isinstance(refusal, Conflict) else 400,
    )


def _period(pack: BoardPackRecord) -> Any:
    period, _ = period_from_query(
        {"period": pack.period_kind, pack.period_kind: pack.period_value}, today=clock.now().date()
    )
    return period


def _preview_href(pack: BoardPackRecord) -> str:
    area = f"&service_area={pack.service_area_id}" if pack.service_area_id else ""
    return f"/reports/board-pack?period={pack.period_kind}&{pack.period_kind}={pack.period_value}{area}"


@router.get("/reports/packs/{pack_id}")
def pack_page(request: Request, session: SessionDep, user: PackReader, pack: ReadablePack) -> Response:
    return _pack_page(request, session, user, pack)


@router.post("/reports/packs/{pack_id}")
def pack_draft_save(
    request: Request, session: SessionDep, actor: PackManager, pack: ManagedPack, form: FormDep
) -> Response:
    values = form_data(form, DraftForm)
    data = DraftForm.model_validate(values)
    saved = attempt(
        session,
        lambda: service.pack_draft_save(
            session,
            pack=pack,
            commentary=data.commentary,
            recipients_text=data.recipients,
            version=posted_version(form),
            actor=actor,
        ),
    )
    if isinstance(saved, Exception):
        return _refused(request, session, actor, pack, saved, values=values)
    return see_other(f"/reports/packs/{pack.id}?saved=1")


@router.get("/reports/packs/{pack_id}/issue")
def pack_issue_confirm(request: Request, session: SessionDep, user: PackManager, pack: ManagedPack) -> Response:
    if pack.status not in (DRAFT, FAILED):  # issued already (or being made): the pack's own page says so
        return _pack_page(request, session, user, pack)
    return render(request, "reports/packs/issue.html", {"pack": pack, "period": _period(pack)})


@router.post("/reports/packs/{pack_id}/issue")
def pack_issue(request: Request, session: SessionDep, actor: PackManager, pack: ManagedPack, form: FormDep) -> Response:
    issued = attempt(
        session,
        lambda: service.pack_issue(session, pack=pack, version=posted_version(form), actor=actor),
    )
    if isinstance(issued, Exception):
        return _refused(request, session, actor, pack, issued)
    return see_other(f"/reports/packs/{pack.id}")


@router.get("/reports/packs/{pack_id}/status")
def pack_status(request: Request, session: SessionDep, user: PackReader, pack: ReadablePack) -> Response:
    """The pack's state, for the page to follow while its PDF is made (htmx)."""
    return render(request, "reports/packs/_status.html", {"pack": pack, "manager": permissions.may_manage_packs(user)})


@router.get("/reports/packs/{pack_id}/pdf")
def pack_download(request: Request, session: SessionDep, user: PackReader, pack: ReadablePack) -> Response:
    """Exactly the file that was issued (its SHA-256 is on the pack's page); each download is in the trail."""
    if pack.status != ISSUED or pack.pdf is None:
        raise NotFound("This pack has not been issued yet: there is no file to download.")
    service.pack_download_record(session, pack=pack, actor=user, delivery_id=None)
    return _pdf(pack)


@router.get("/board-packs/{token}")
def pack_link_download(request: Request, session: SessionDep, token: str) -> Response:
    """A board member's signed link (no account needed): the issued file until the link expires."""
    delivery_id = rules.link_open(request.app.state.settings.secret_key or "", token[:200], clock.now())
    delivery = session.get(PackDelivery, delivery_id) if delivery_id is not None else None
    pack = session.get(BoardPackRecord, delivery.pack_id) if delivery is not None else None
    if pack is None or pack.status != ISSUED or pack.pdf is None:
        raise NotFound("This download link is not valid or has expired. Ask the QA lead to send the pack again.")
    service.pack_download_record(session, pack=pack, actor=None, delivery_id=delivery_id)
    return _pdf(pack)
