"""Reads of the audit trail."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from app.audit_trail.models import AuditEvent
from app.pagination import Page, paginate


def audit_events_page(
    session: Session,
    *,
    tz: ZoneInfo,
    action: str | None = None,
    actor: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int | None = 1,
    page_size: int | None = 50,
    clamp_to_last: bool = False,
) -> Page[AuditEvent]:
    """Events newest first (as recorded: the chain follows the same order), filtered; dates are whole local days."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if actor:
        stmt = stmt.where(AuditEvent.actor_label == actor.strip().lower())
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if date_from:
        stmt = stmt.where(AuditEvent.occurred_at >= datetime.combine(date_from, time.min, tz))
    if date_to:
        stmt = stmt.where(AuditEvent.occurred_at < datetime.combine(date_to + timedelta(days=1), time.min, tz))
    return paginate(session, stmt, page=page, page_size=page_size, clamp_to_last=clamp_to_last)


def audit_actions(session: Session) -> list[str]:
    return list(session.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).scalars())
