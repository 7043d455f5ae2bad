"""Changing board pack records: schedules, drafts and their commentary, issuing (the PDF is made on the job queue),
and the record of each download. A pack, once issued, is never changed."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.accounts.models import ServiceArea, User
from app.audit_trail.service import audit_record
from app.db import claim_version
from app.errors import Conflict, ValidationFailed
from app.jobs.queue import job_defer
from app.reports.board_pack import Period
from app.reports.packs import rules
from app.reports.packs.models import DRAFT, FAILED, FREQUENCIES, GENERATING, BoardPackRecord, PackSchedule
from app.working_days import WorkingDayCalendar

COMMENTARY_MAX = 20_000
STALE = "This pack was changed by someone else since you opened it. Check it again, then try once more."


def _area_problem(session: Session, service_area_id: int | None) -> str | None:
    if service_area_id is not None and session.get(ServiceArea, service_area_id) is None:
        return "Select a service area from the list"
    return None


def schedule_create(
    session: Session,
    *,
    title: str,
    frequency: str,
    working_day: int | None,
    service_area_id: int | None,
    recipients_text: str,
    actor: User,
) -> PackSchedule:
    """A schedule, checked whole: every problem named by its field."""
    errors: dict[str, str] = {}
    title = title.strip()
    if not title:
        errors["title"] = "Enter a title, for example Improvement Operations Board"
    elif len(title) > 120:
        errors["title"] = "The title must be 120 characters or fewer"
    if frequency not in FREQUENCIES:
        errors["frequency"] = "Select monthly or quarterly"
    low, high = rules.WORKING_DAY_RANGE
    if working_day is None or not low <= working_day <= high:
        errors["working_day"] = f"Enter a working day from {low} to {high}"
    if problem := _area_problem(session, service_area_id):
        errors["service_area_id"] = problem
    recipients, problems = rules.recipients_parse(recipients_text)
    if problems:
        errors["recipients"] = "; ".join(problems)
    if errors:
        raise ValidationFailed(errors)
    assert working_day is not None
    schedule = PackSchedule(
        title=title,
        frequency=frequency,
        working_day=working_day,
        service_area_id=service_area_id,
        recipients=recipients,
        created_by_id=actor.id,
    )
    session.add(schedule)
    session.flush()
    audit_record(
        session,
        actor=actor,
        action="board_pack.schedule",
        entity_type="board_pack_schedule",
        entity_id=schedule.id,
        summary=f"Scheduled {frequency} board packs: {title}",
        after={
            "frequency": frequency,
            "working_day": working_day,
            "service_area_id": service_area_id,
            "recipients": len(recipients),
        },
    )
    return schedule


def schedule_stop(session: Session, *, schedule: PackSchedule, version: int | None, actor: User) -> None:
    """No more drafts from this schedule (those already made stay)."""
    claim_version(session, schedule, version, stale=STALE, active=False)
    audit_record(
        session,
        actor=actor,
        action="board_pack.schedule_stop",
        entity_type="board_pack_schedule",
        entity_id=schedule.id,
        summary=f"Stopped the board pack schedule {schedule.title}",
    )


def pack_prepare(
    session: Session,
    *,
    period: Period,
    service_area_id: int | None,
    params: dict[str, Any],
    recipients: list[str],
    actor: User | None,
    schedule_id: int | None = None,
) -> BoardPackRecord:
    """A draft pack for a period and scope, for the QA lead's commentary before it is issued."""
    if problem := _area_problem(session, service_area_id):
        raise ValidationFailed({"service_area_id": problem})
    pack = BoardPackRecord(
        schedule_id=schedule_id,
        period_kind=period.kind,
        period_value=period.value,
        service_area_id=service_area_id,
        params=params,
        recipients=recipients,
        created_by_id=actor.id if actor else None,
    )
    session.add(pack)
    session.flush()
    audit_record(
        session,
        actor=actor,
        actor_label=None if actor else "schedule",
        action="board_pack.prepare",
        entity_type="board_pack",
        entity_id=pack.id,
        summary=f"Prepared the board pack for {period.label} for commentary",
        after={"period": period.value, "service_area_id": service_area_id, "schedule_id": schedule_id},
    )
    return pack


def packs_prepare_due(session: Session, *, today: date, calendar: WorkingDayCalendar) -> list[BoardPackRecord]:
    """A draft for each active schedule whose period's day has come and has none yet (safe to run again)."""
    made: list[BoardPackRecord] = []
    schedules = session.execute(select(PackSchedule).where(col(PackSchedule.active))).scalars().all()
    for schedule in schedules:
        period = rules.draft_due(schedule.frequency, schedule.working_day, today, calendar)
        if period is None:
            continue
        exists = session.execute(
            select(BoardPackRecord.id).where(
                BoardPackRecord.schedule_id == schedule.id, BoardPackRecord.period_value == period.value
            )
        ).first()
        if exists:
            continue
        try:
            with session.begin_nested():
                made.append(
                    pack_prepare(
                        session,
                        period=period,
                        service_area_id=schedule.service_area_id,
                        params={},
                        recipients=list(schedule.recipients),
                        actor=None,
                        schedule_id=schedule.id,
                    )
                )
        except IntegrityError:
            continue  # another run made it meanwhile
    return made


def pack_draft_save(
    session: Session,
    *,
    pack: BoardPackRecord,
    commentary: str,
    recipients_text: str,
    version: int | None,
    actor: User,
) -> None:
    """The QA lead's commentary and the distribution list of a draft."""
    if pack.status not in (DRAFT, FAILED):
        raise Conflict("This pack has been issued: it cannot change. Prepare a new one to say more.")
    errors: dict[str, str] = {}
    commentary = commentary.strip()
    if len(commentary) > COMMENTARY_MAX:
        errors["commentary"] = f"The commentary must be {COMMENTARY_MAX:,} characters or fewer"
    recipients, problems = rules.recipients_parse(recipients_text)
    if problems:
        errors["recipients"] = "; ".join(problems)
    if errors:
        raise ValidationFailed(errors)
    claim_version(session, pack, version, stale=STALE, commentary=commentary, recipients=recipients)
    audit_record(
        session,
        actor=actor,
        action="board_pack.draft",
        entity_type="board_pack",
        entity_id=pack.id,
        summary="Saved the board pack's commentary and distribution list",
        after={"commentary_characters": len(commentary), "recipients": len(recipients)},
    )


def pack_issue(session: Session, *, pack: BoardPackRecord, version: int | None, actor: User) -> None:
    """Issue a draft: from now on it never changes. Its PDF is made, stored and sent on the job queue."""
    if pack.status not in (DRAFT, FAILED):
        raise Conflict("This pack has already been issued.")
    errors: dict[str, str] = {}
    if not pack.commentary.strip():
        errors["commentary"] = "Write the commentary before issuing the pack"
    if not pack.recipients:
        errors["recipients"] = "Enter at least one email address"
    if errors:
        raise ValidationFailed(errors)
    claim_version(session, pack, version, stale=STALE, status=GENERATING, issued_by_id=actor.id)
    job_defer(session, "board_pack_generate", lock_key=str(pack.id), pack_id=pack.id)
    audit_record(
        session,
        actor=actor,
        action="board_pack.issue",
        entity_type="board_pack",
        entity_id=pack.id,
        summary=f"Issued the board pack {pack.period_value} to {len(pack.recipients)} board members",
        after={
            "period": pack.period_value,
            "service_area_id": pack.service_area_id,
            "recipients": len(pack.recipients),
        },
    )


def pack_download_record(
    session: Session, *, pack: BoardPackRecord, actor: User | None, delivery_id: int | None
) -> None:
    """Every download of an issued pack, by a user or through a board member's link, is in the trail."""
    by = f"through the link sent to board member {delivery_id}" if delivery_id else "by a user"
    audit_record(
        session,
        actor=actor,
        actor_label=None if actor else "board member",
        action="board_pack.download",
        entity_type="board_pack",
        entity_id=pack.id,
        summary=f"Downloaded the issued board pack {pack.period_value} {by}",
        after={"sha256": pack.sha256, "delivery_id": delivery_id},
    )
