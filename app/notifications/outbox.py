"""The email outbox: emails are added in the transaction of the change they report (`outbox_add`) and sent afterwards
by a job (`outbox_deliver`), so an email goes out if and only if its change was committed, and once.

`outbox_add` adds one row for one person, keyed by `dedupe_key`: adding the same key again adds nothing (so a
caller that runs twice, or two callers racing, still make one email). The address is the person's email when the
row is sent (a changed address is used); a person without one, or whose account is no longer active, is skipped,
and the row says why.

`outbox_deliver(new_session, settings=..., now=...)` is a job (`job(new_session, **kwargs)`): it sends every due
row through `app.mail.send`, one message per row, each in transactions of its own:

1. claim the row (a conditional UPDATE: still unsent, still due, at the attempt count read) and commit, moving its
   `next_attempt_at` a lease ahead, so a run alongside this one skips it and a run that died mid-send leaves it to
   be tried again once the lease is over;
2. send, with no transaction open;
3. mark it sent, or failed: `last_error` (the mail module's message, which names the server and the SMTP code, never
   the recipient) and `next_attempt_at` backed off (1, 2, 4 ... minutes, at most an hour apart), until
   MAX_ATTEMPTS, when it is given up (no `next_attempt_at`).

A re-run sends nothing twice. Without SMTP_HOST nothing is tried: the rows wait (the report says how many).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from app import clock, mail
from app.accounts.models import User
from app.config import Settings, get_settings
from app.db import SessionMaker
from app.jobs.queue import job_defer
from app.notifications.models import EmailOutbox

logger = logging.getLogger("caseaudit.outbox")

MAX_ATTEMPTS = 10
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=10)  # longer than a send can take (mail.TIMEOUT_SECONDS per step)
BATCH = 200  # rows read per pass; the run goes on until none is due
SUBJECT_MAX = 200

NO_ADDRESS = "Not sent: the person has no email address."
INACTIVE = "Not sent: the person's account is not active."
NO_ONE = "Not sent: there is nobody to send it to."


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 1, 2, 4 ... minutes, at most an hour."""
    return min(FIRST_BACKOFF * 2 ** max(0, attempts - 1), MAX_BACKOFF)


def outbox_add(
    session: Session,
    *,
    user: User | None = None,
    to_address: str | None = None,
    subject: str,
    body: str,
    kind: str,
    key: str,
    now: datetime | None = None,
) -> bool:
    """Add an email to `user` (or to `to_address`) in the caller's transaction, due at once. `key` names it: a key
    already in the outbox adds nothing (idempotent). Returns whether a row was added."""
    at = now or clock.now()
    values: dict[str, Any] = {
        "to_user_id": user.id if user is not None else None,
        "to_address": (user.email if user is not None else to_address) or "",
        "subject": subject[:SUBJECT_MAX],
        "body": body,
        "kind": kind,
        "dedupe_key": key,
        "created_at": at,
        "attempts": 0,
        "last_error": "",
        "next_attempt_at": at,
    }
    insert_for = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = EmailOutbox.metadata.tables[EmailOutbox.__tablename__]
    stmt = insert_for(table).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    # RETURNING says whether a row went in (PostgreSQL's driver gives no row count for an insert that returns).
    added = session.execute(stmt.returning(table.c.id)).first() is not None
    if added:
        job_defer(session, "outbox_deliver")  # sent as soon as this commits (and by the periodic run, if not)
    return added


@dataclass
class OutboxReport:
    """What a delivery run did, for the command and the job queue's log (no personal data)."""

    sent: int = 0
    failed: int = 0  # will be tried again
    gave_up: int = 0  # failed MAX_ATTEMPTS times
    skipped: int = 0  # no address, or an inactive account
    waiting: int = 0  # due but not tried: SMTP_HOST is not set
    failures: list[str] = field(default_factory=list)  # email ids and the mail server's answer

    def summary(self) -> str:
        text = (
            f"Outbox: {self.sent} sent, {self.failed} failed (to be tried again), {self.gave_up} given up, "
            f"{self.skipped} skipped (no email address or an inactive account)."
        )
        if self.waiting:
            text += f" {self.waiting} waiting: SMTP_HOST is not set, so none was sent."
        return text


def _due(session: Session, now: datetime, after_id: int) -> list[int]:
    stmt = (
        select(col(EmailOutbox.id))
        .where(
            col(EmailOutbox.sent_at).is_(None),
            col(EmailOutbox.next_attempt_at).is_not(None),
            col(EmailOutbox.next_attempt_at) <= now,
            col(EmailOutbox.id) > after_id,
        )
        .order_by(col(EmailOutbox.id))
        .limit(BATCH)
    )
    return list(session.execute(stmt).scalars())


@dataclass(frozen=True)
class _Claimed:
    id: int
    attempts: int  # including this one
    to: str | None  # None: skipped (`why`)
    why: str
    subject: str
    body: str


def _claim(session: Session, outbox_id: int, now: datetime) -> _Claimed | None:
    """Take one due row for this run (committed by the caller), or None if it is no longer due or another run took
    it. A row whose person has no address or an inactive account is finished here, not sent."""
    row = session.get(EmailOutbox, outbox_id)
    if row is None or row.sent_at is not None or row.next_attempt_at is None or row.next_attempt_at > now:
        return None
    to, why = row.to_address or None, NO_ONE
    if row.to_user_id is not None:
        person = session.get(User, row.to_user_id)
        to, why = (person.email or None, NO_ADDRESS) if person is not None else (to, NO_ONE)
        if person is not None and not person.active:
            to, why = None, INACTIVE
    attempts = row.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "next_attempt_at": now + CLAIM_LEASE}
    if to is None:
        values = {"next_attempt_at": None, "last_error": why}
    taken = session.execute(
        update(EmailOutbox)
        .where(
            col(EmailOutbox.id) == outbox_id,
            col(EmailOutbox.sent_at).is_(None),
            col(EmailOutbox.attempts) == row.attempts,
            col(EmailOutbox.next_attempt_at) <= now,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", taken).rowcount != 1:
        return None
    return _Claimed(id=outbox_id, attempts=attempts, to=to, why=why, subject=row.subject, body=row.body)


def _finish(session: Session, claimed: _Claimed, *, now: datetime, error: str | None) -> None:
    if error is None:
        values: dict[str, Any] = {"sent_at": now, "last_error": "", "next_attempt_at": None}
    else:
        retry = claimed.attempts < MAX_ATTEMPTS
        values = {"last_error": error, "next_attempt_at": now + backoff(claimed.attempts) if retry else None}
    session.execute(
        update(EmailOutbox)
        .where(col(EmailOutbox.id) == claimed.id, col(EmailOutbox.sent_at).is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def outbox_waiting(session: Session, *, now: datetime) -> int:
    """How many rows are due now and unsent."""
    stmt = (
        select(func.count())
        .select_from(EmailOutbox)
        .where(
            col(EmailOutbox.sent_at).is_(None),
            col(EmailOutbox.next_attempt_at).is_not(None),
            col(EmailOutbox.next_attempt_at) <= now,
        )
    )
    return session.execute(stmt).scalar_one()


def outbox_deliver(
    new_session: SessionMaker, settings: Settings | None = None, now: datetime | None = None
) -> OutboxReport:
    """Send every due email (a job: `job(new_session, **kwargs)`; safe to run again, and alongside another run).
    `now` fixes the run's time (default: the clock, read as it goes)."""
    settings = settings or get_settings()
    report = OutboxReport()
    if not settings.smtp_host:
        with new_session() as session:
            report.waiting = outbox_waiting(session, now=now or clock.now())
        if report.waiting:
            logger.warning("Outbox: %d emails waiting; SMTP_HOST is not set, so none was sent", report.waiting)
        return report
    after_id = 0
    while True:
        with new_session() as session:
            due = _due(session, now or clock.now(), after_id)
        if not due:
            return report
        for outbox_id in due:
            after_id = outbox_id
            with new_session() as session:
                claimed = _claim(session, outbox_id, now or clock.now())
                session.commit()
            if claimed is None:
                continue
            if claimed.to is None:
                report.skipped += 1
                logger.info("Outbox: email %d skipped: %s", claimed.id, claimed.why)
                continue
            error = None
            try:
                mail.send(settings, to=claimed.to, subject=claimed.subject, body=claimed.body)
            except mail.MailError as exc:
                error = str(exc)  # names the server and the SMTP code, never the recipient
            with new_session() as session:
                _finish(session, claimed, now=now or clock.now(), error=error)
                session.commit()
            if error is None:
                report.sent += 1
            elif claimed.attempts < MAX_ATTEMPTS:
                report.failed += 1
                report.failures.append(f"email {claimed.id}, attempt {claimed.attempts}: {error}")
                logger.warning("Outbox: email %d, attempt %d, not sent: %s", claimed.id, claimed.attempts, error)
            else:
                report.gave_up += 1
                report.failures.append(f"email {claimed.id}, given up after {claimed.attempts} attempts: {error}")
                logger.error("Outbox: email %d given up after %d attempts: %s", claimed.id, claimed.attempts, error)
