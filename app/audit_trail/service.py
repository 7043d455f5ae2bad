"""Appending to the audit trail and checking that nobody has altered it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlmodel import Session

from app import clock
from app.audit_trail.models import AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from app.accounts.models import User

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"


def _jsonable(value: Any) -> Any:
    """Dates and other values as JSON-native types, so the stored form hashes the same after a round trip."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str))


def event_digest(
    *,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    entity_type: str | None,
    entity_id: str | None,
    summary: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    prev_hash: str,
) -> str:
    """SHA-256 over a canonical JSON form of an event and the hash before it."""
    payload = {
        "seq": seq,
        "occurred_at": occurred_at.isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "summary": summary,
        "before": before,
        "after": after,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def audit_record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    summary: str,
    entity_type: str | None = None,
    entity_id: object | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one event. Updating the chain head first serialises concurrent appends on every database."""
    seq, prev_hash = session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(last_seq=AuditChainHead.last_seq + 1)
        .returning(AuditChainHead.last_seq, AuditChainHead.last_hash)
    ).one()
    fields: dict[str, Any] = {
        "seq": seq,
        "occurred_at": clock.now(),
        "actor_id": actor.id if actor else None,
        "actor_label": actor_label or (actor.username if actor else SYSTEM_ACTOR),
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "summary": summary[:500],
        "before": _jsonable(before),
        "after": _jsonable(after),
        "prev_hash": prev_hash,
    }
    digest = event_digest(**fields)
    event = AuditEvent(**fields, hash=digest)
    session.add(event)
    session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(last_hash=digest))
    session.flush()
    return event


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    problem: str | None = None
    first_bad_seq: int | None = None


def _event_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "summary": event.summary,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }


def audit_chain_verify(session: Session) -> ChainCheck:
    """Walk the whole chain; report the first event that was altered, removed or inserted."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000)).scalars()
    for event in rows:
        if event.seq != expected_seq:
            return ChainCheck(False, checked, f"event {expected_seq} is missing (found {event.seq} next)", expected_seq)
        if event.prev_hash != expected_prev:
            return ChainCheck(False, checked, f"event {event.seq} does not follow the event before it", event.seq)
        if event_digest(**_event_fields(event)) != event.hash:
            return ChainCheck(False, checked, f"event {event.seq} was changed after it was recorded", event.seq)
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = session.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)).one_or_none()
    if head is None or tuple(head) != (checked, expected_prev):
        return ChainCheck(False, checked, "the newest events were removed (the chain head does not match)", checked + 1)
    return ChainCheck(True, checked)


def audit_read(
    session: Session, *, actor: User | None, action: str, summary: str, entity_type: str, entity_id: object
) -> AuditEvent:
    """Record that someone read one record with personal data in it (a page, an API fetch, an export)."""
    return audit_record(
        session, actor=actor, action=action, summary=summary, entity_type=entity_type, entity_id=entity_id
    )


def audit_bulk_read(
    session: Session, *, actor: User | None, action: str, what: str, count: int, filters: dict[str, Any]
) -> AuditEvent:
    """Record one read of many records at once (a list page, a search, an export) as a single event: how many were
    shown and the filter that chose them (a search for a child ID included), never the records themselves."""
    shown = {name: value for name, value in filters.items() if value not in (None, "", [], ())}
    return audit_record(
        session,
        actor=actor,
        action=action,
        summary=f"Listed {count} {what}",
        after={"count": count, "filter": shown},
    )
