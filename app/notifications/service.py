"""A person's in-app notifications: how many are unread, the list, and marking them read; and the notifications
about a safeguarding escalation (one per person and escalation, saying its state now)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from app import clock
from app.db import valid_row_id
from app.notifications.models import Notification
from app.pagination import Page, paginate


def unread_count(session: Session, *, user_id: int) -> int:
    """How many of this person's notifications are unread (for the home page and the navigation)."""
    stmt = (
        select(func.count())
        .select_from(Notification)
        .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
    )
    return session.execute(stmt).scalar_one()


def notifications_page(session: Session, *, user_id: int, page: int | None, page_size: int | None) -> Page[Any]:
    """This person's notifications, unread first, newest first."""
    stmt = (
        select(Notification)
        .where(col(Notification.user_id) == user_id)
        .order_by(col(Notification.read_at).is_not(None), col(Notification.day).desc(), col(Notification.id).desc())
    )
    return paginate(session, stmt, page=page, page_size=page_size, clamp_to_last=True)


def notification_get_own(session: Session, *, user_id: int, notification_id: int) -> Notification | None:
    """The notification if it is this person's; someone else's is as good as missing."""
    if not valid_row_id(notification_id):
        return None
    found = session.get(Notification, notification_id)
    return found if found is not None and found.user_id == user_id else None


def notification_mark_read(session: Session, *, notification: Notification, now: datetime | None = None) -> None:
    if notification.read_at is None:
        notification.read_at = now or clock.now()
        session.add(notification)
        session.flush()


def notifications_mark_all_read(session: Session, *, user_id: int, now: datetime | None = None) -> int:
    """Mark every unread notification of this person read; returns how many were."""
    result = session.execute(
        update(Notification)
        .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        .values(read_at=now or clock.now())
    )
    return cast("CursorResult[Any]", result).rowcount


def escalation_notify(
    session: Session, *, user_ids: Iterable[int], escalation_id: int, kind: str, message: str, day: date, now: datetime
) -> None:
    """Tell each person about a safeguarding escalation in the app: their one notification about it says `message`
    now (added, or rewritten and unread again), in the caller's transaction."""
    rows = [
        {
            "user_id": user_id,
            "escalation_id": escalation_id,
            "kind": kind,
            "message": message,
            "day": day,
            "created_at": now,
            "read_at": None,
        }
        for user_id in dict.fromkeys(user_ids)
    ]
    if not rows:
        return
    insert_for = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert_for(Notification.metadata.tables[Notification.__tablename__])
    stmt = stmt.on_conflict_do_update(
        index_elements=["user_id", "escalation_id"],
        set_={name: stmt.excluded[name] for name in ("kind", "message", "day", "created_at", "read_at")},
    )
    session.execute(stmt, rows)


def escalation_notifications_read(
    session: Session, *, escalation_id: int, now: datetime, keep_unread: Iterable[int] = ()
) -> None:
    """Mark everyone's notifications about an escalation read (it needs nothing more of them), but those of
    `keep_unread` (people just told something new about it)."""
    session.execute(
        update(Notification)
        .where(
            col(Notification.escalation_id) == escalation_id,
            col(Notification.read_at).is_(None),
            col(Notification.user_id).not_in(list(keep_unread)),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
