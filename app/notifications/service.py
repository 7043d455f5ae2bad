"""A person's in-app notifications: how many are unread, the list, and marking them read."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
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
