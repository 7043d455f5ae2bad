"""Reads of the audit trail."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, cast, false, or_, select
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


MENTIONS_PER_QUERY = 100  # child IDs per statement: three LIKEs each, well inside SQLite's expression depth


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def trail_events_about(
    entities: Mapping[str, Iterable[object]], *, mention: str | None = None, mentions: Iterable[str] = ()
) -> Select[tuple[AuditEvent]]:
    """A query for the events about some records: those whose (entity_type, entity_id) is one of `entities`
    ({"audit": [3, 4], "case": [12]}), and every event whose summary or before/after details name one of the
    `mentions` (child IDs; `mention` for one). Oldest first. Used to answer a child's records request and to redact what
    the trail says about children whose records are removed. Mentions match as text (a child ID that begins another
    child's matches too): `trail_events_about_children` keeps only the events that name an exact ID."""
    conditions = [
        (AuditEvent.entity_type == kind) & AuditEvent.entity_id.in_([str(i) for i in ids])
        for kind, ids in entities.items()
        if ids
    ]
    for text in [*([mention] if mention else []), *mentions]:
        pattern = _like(text)
        conditions += [
            AuditEvent.summary.like(pattern, escape="\\"),
            cast(AuditEvent.before, String).like(pattern, escape="\\"),
            cast(AuditEvent.after, String).like(pattern, escape="\\"),
        ]
    return select(AuditEvent).where(or_(*conditions) if conditions else false()).order_by(AuditEvent.id)


def _names(event: AuditEvent, pattern: re.Pattern[str]) -> bool:
    texts = [event.summary, json.dumps(event.before or {}), json.dumps(event.after or {})]
    return any(pattern.search(text) for text in texts)


def trail_events_about_children(
    session: Session, entities: Mapping[str, Iterable[object]], *, child_ids: Iterable[str]
) -> list[AuditEvent]:
    """The events about these records or naming one of these child IDs as a whole word (never a longer ID it
    begins), oldest first, each once: one pass over the trail per MENTIONS_PER_QUERY children, not one per child."""
    wanted = {(kind, str(i)) for kind, ids in entities.items() for i in ids}
    ids = sorted(set(child_ids), key=len, reverse=True)
    if not ids:
        events = session.execute(trail_events_about(entities)).scalars()
        return [e for e in events if (e.entity_type, e.entity_id) in wanted]
    found: dict[int, AuditEvent] = {}
    for start in range(0, len(ids), MENTIONS_PER_QUERY):
        chunk = ids[start : start + MENTIONS_PER_QUERY]
        pattern = re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, chunk)) + r")(?![A-Za-z0-9])")
        scope = entities if start == 0 else {}
        for event in session.execute(trail_events_about(scope, mentions=chunk)).scalars():
            if event.id is not None and ((event.entity_type, event.entity_id) in wanted or _names(event, pattern)):
                found[event.id] = event
    return [found[key] for key in sorted(found)]


def trail_events_about_child(
    session: Session, entities: Mapping[str, Iterable[object]], *, child_id: str
) -> list[AuditEvent]:
    """The events about these records or naming this child ID as a whole word (never a longer ID it begins)."""
    return trail_events_about_children(session, entities, child_ids=[child_id])
