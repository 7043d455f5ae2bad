"""The board pack jobs: preparing the drafts schedules call for (daily), making an issued pack's PDF once, and
sending it to the board (attached, or as a signed link that expires when it is too big to attach). Each is safe to
run again: a pack is made once, and each board member is sent it at most once."""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from app import clock, mail
from app.accounts.models import User
from app.config import Settings
from app.db import SessionMaker
from app.jobs.queue import job_defer
from app.reports.board_pack import BoardPack, build_pack, figure_name, pack_pdf, parse_month, parse_quarter
from app.reports.filters import report_filter
from app.reports.packs import rules
from app.reports.packs.models import FAILED, GENERATING, ISSUED, BoardPackRecord, PackDelivery
from app.reports.packs.service import packs_prepare_due
from app.web.documents import documents_environment
from app.working_days import calendar_for

log = logging.getLogger("caseaudit.board_packs")

TEMPLATE = "reports/board_pack.html"
PDF = "application/pdf"


def packs_prepare_job(new_session: SessionMaker, settings: Settings) -> None:
    """Daily: a draft for each schedule whose day has come (the QA lead is told on the packs page)."""
    with new_session() as session:
        made = packs_prepare_due(
            session, today=settings.today(), calendar=calendar_for(settings.working_days_jurisdiction)
        )
        session.commit()
    if made:
        log.info("board packs prepared for commentary: %s", ", ".join(str(p.id) for p in made))


def document_html(settings: Settings, board: BoardPack, *, generated_by: str, record: BoardPackRecord) -> str:
    """The standalone pack as issued: the report, then the QA lead's commentary and the issue's details."""
    return (
        documents_environment(settings)
        .get_template(TEMPLATE)
        .render(
            pack=board,
            report=board.report,
            errors={},
            error_order=[],
            standalone=True,
            generated_at=clock.now(),
            generated_by=generated_by,
            figure_name=figure_name,
            form={},
            kept={},
            commentary=record.commentary,
            issue_number=record.id,
        )
    )


def pack_generate_job(new_session: SessionMaker, settings: Settings, *, pack_id: int) -> None:
    """Make an issued pack's PDF, once, from the figures as they are now; store it with its SHA-256, and queue its
    sending in the same transaction. A failure leaves the pack "failed" on its page, to be issued again."""
    with new_session() as session:
        record = session.get(BoardPackRecord, pack_id)
        if record is None or record.status != GENERATING:
            return  # made already, or not issued
        issuer = session.get(User, record.issued_by_id) if record.issued_by_id else None
        period = (
            parse_month(record.period_value) if record.period_kind == "month" else parse_quarter(record.period_value)
        )
        if issuer is None or period is None:
            _failed(new_session, pack_id)
            return
        started = time.perf_counter()
        try:
            params = {k: str(v) for k, v in record.params.items()}
            if record.service_area_id is not None:
                params["service_area"] = str(record.service_area_id)
            flt = report_filter(session, params, user=issuer, today=settings.today())
            board = build_pack(session, flt, period, settings=settings)
            pdf = pack_pdf(document_html(settings, board, generated_by=issuer.full_name, record=record))
        except Exception:
            _failed(new_session, pack_id)
            raise
        seconds = time.perf_counter() - started
        now = clock.now()
        limit = settings.board_pack_attach_max_mb * 1024 * 1024
        how = "attached" if len(pdf) <= limit else "link"
        expires = now + timedelta(days=settings.board_pack_link_days) if how == "link" else None
        done = session.execute(
            update(BoardPackRecord)
            .where(col(BoardPackRecord.id) == pack_id, col(BoardPackRecord.status) == GENERATING)
            .values(
                status=ISSUED,
                pdf=pdf,
                sha256=hashlib.sha256(pdf).hexdigest(),
                size=len(pdf),
                filename=board.filename,
                issued_at=now,
                generation_seconds=round(seconds, 3),
                version=BoardPackRecord.version + 1,
            )
        ).rowcount
        if done != 1:
            return
        for email in record.recipients:
            session.add(PackDelivery(pack_id=pack_id, email=email, how=how, link_expires_at=expires))
        job_defer(session, "board_pack_send", lock_key=str(pack_id), pack_id=pack_id)
        session.commit()
    log.info("board pack %s made in %.2f s (%d bytes)", pack_id, seconds, len(pdf))


def _failed(new_session: SessionMaker, pack_id: int) -> None:
    with new_session() as session:
        session.execute(
            update(BoardPackRecord)
            .where(col(BoardPackRecord.id) == pack_id, col(BoardPackRecord.status) == GENERATING)
            .values(status=FAILED, version=BoardPackRecord.version + 1)
        )
        session.commit()


def message(settings: Settings, record: BoardPackRecord, delivery: PackDelivery) -> dict[str, Any]:
    """The email to one board member: the pack attached, or a link to it, and no figures in the text."""
    period = parse_month(record.period_value) if record.period_kind == "month" else parse_quarter(record.period_value)
    label = period.label if period else record.period_value
    subject = f"Board pack: {label}"
    lines = [f"The case file audit board pack for {label} has been issued by the QA lead."]
    attachment = None
    if delivery.how == "attached":
        assert record.pdf is not None and record.filename
        lines.append("It is attached as a PDF.")
        attachment = (record.filename, record.pdf, PDF)
    else:
        assert delivery.id is not None and delivery.link_expires_at is not None
        token = rules.link_token(settings.secret_key or "", delivery.id, delivery.link_expires_at)
        lines.append(
            f"Download it (until {delivery.link_expires_at.astimezone(settings.tz):%-d %B %Y}): "
            f"{settings.base_url.rstrip('/')}/board-packs/{token}"
        )
    lines.append(f"SHA-256 of the issued file: {record.sha256}")
    return {"subject": subject, "body": "\n\n".join(lines) + "\n", "attachment": attachment}


def pack_send_job(new_session: SessionMaker, settings: Settings, *, pack_id: int) -> None:
    """Send an issued pack to each board member not yet sent it. Each delivery is claimed (and committed) before it
    is sent, so none is ever sent twice (a run that dies mid-send leaves that one claimed and unconfirmed, shown on
    the pack's page); one the mail server refused is tried again by the queue (the job fails)."""
    failures = 0
    with new_session() as session:
        record = session.get(BoardPackRecord, pack_id)
        if record is None or record.status != ISSUED:
            return
        waiting = (
            session.execute(
                select(PackDelivery).where(PackDelivery.pack_id == pack_id, col(PackDelivery.claimed_at).is_(None))
            )
            .scalars()
            .all()
        )
        for delivery in waiting:
            claimed = session.execute(
                update(PackDelivery)
                .where(col(PackDelivery.id) == delivery.id, col(PackDelivery.claimed_at).is_(None))
                .values(claimed_at=clock.now())
            ).rowcount
            session.commit()
            if claimed != 1:
                continue
            try:
                mail.send(settings, to=delivery.email, **message(settings, record, delivery))
            except mail.MailError as exc:
                failures += 1
                delivery.error = str(exc)[:300]
                delivery.claimed_at = None  # not sent: the next run tries again
            else:
                delivery.sent_at = clock.now()
                delivery.error = ""
            session.add(delivery)
            session.commit()
    if failures:
        raise mail.MailError(f"{failures} board member(s) not sent the pack; tried again later")
