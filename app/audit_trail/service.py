"""Appending to the audit trail and checking that nobody has altered it.

Recording an event takes no lock: it is written with the request's other changes but without its place in the
chain; once the request has committed, a short step (`audit_chain_link`, called by `commit_and_link`) gives the
committed events their places in the order they were recorded, holding the chain head only for that step. An event
not yet linked (its request still finishing) is counted by `verify`, never skipped silently.

Three layers, each catching what the one before cannot:
- the hash chain: every event's hash covers the event and the hash before it, so changing or removing one breaks
  the chain (and the database refuses UPDATE and DELETE on the table);
- the seal: each event's hash is also signed with an HMAC under a key the database never holds (AUDIT_TRAIL_KEY,
  or one derived from SECRET_KEY), so a superuser who rewrites the table and re-hashes every event cannot re-seal
  them;
- checkpoints: `caseaudit audit-trail checkpoint` appends a signed (sequence number, hash) to a file outside the
  database (AUDIT_TRAIL_CHECKPOINT_DIR), so cutting off the newest events and rewinding the chain head is caught.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from app import clock
from app.audit_trail.models import AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from app.config import Settings


class Actor(Protocol):
    """Who did it, as the trail records them: a user (`app.accounts.models.User`), whose area builds on this one."""

    @property
    def id(self) -> int | None: ...

    @property
    def username(self) -> str: ...


GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"
CHECKPOINT_FILE = "checkpoints.jsonl"

_seal_key: bytes | None = None


def audit_trail_configure(settings: Settings) -> None:
    """Seal events with this service's key: AUDIT_TRAIL_KEY, or one derived from SECRET_KEY (never stored)."""
    global _seal_key
    if settings.audit_trail_key:
        _seal_key = settings.audit_trail_key.encode()
    else:
        secret = (settings.secret_key or "").encode()
        _seal_key = hmac.new(secret, b"case-file-audit: audit trail seal", hashlib.sha256).digest()


def _key() -> bytes:
    if _seal_key is None:
        from app.config import get_settings

        audit_trail_configure(get_settings())
    assert _seal_key is not None
    return _seal_key


def seal_of(text: str) -> str:
    """The HMAC that proves this service wrote `text` (an event's hash, a checkpoint line)."""
    return hmac.new(_key(), text.encode(), hashlib.sha256).hexdigest()


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


PENDING = "audit_trail_pending"  # session.info key: this session recorded events still to be linked


def audit_record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    summary: str,
    entity_type: str | None = None,
    entity_id: object | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Record one event, in this session's transaction, without taking any lock: its place in the chain (seq,
    hashes, seal) is given by `audit_chain_link` once the transaction has committed."""
    event = AuditEvent(
        occurred_at=clock.now(),
        actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.username if actor else SYSTEM_ACTOR),
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        summary=summary[:500],
        before=_jsonable(before),
        after=_jsonable(after),
    )
    session.add(event)
    session.flush()
    session.info[PENDING] = True
    return event


def audit_chain_link(session: Session) -> int:
    """Give every event without a place in the chain its place, in the order they were recorded: the events other
    transactions have committed, and this one's own. Holds the chain head only for this step (call it in a short
    transaction of its own after a commit: `commit_and_link`). Returns how many were linked."""
    if session.execute(select(AuditEvent.id).where(col(AuditEvent.hash).is_(None)).limit(1)).first() is None:
        return 0
    seq, prev_hash = session.execute(  # the head's row lock: linkers take turns
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(last_seq=AuditChainHead.last_seq)
        .returning(AuditChainHead.last_seq, AuditChainHead.last_hash)
    ).one()
    pending = session.execute(
        select(AuditEvent)
        .where(col(AuditEvent.hash).is_(None))
        .order_by(AuditEvent.id)
        .execution_options(populate_existing=True)
    ).scalars()
    linked = 0
    for event in list(pending):
        seq += 1
        event.seq, event.prev_hash = seq, prev_hash
        digest = event_digest(**_event_fields(event))
        event.hash, event.seal = digest, seal_of(digest)
        session.add(event)
        prev_hash = digest
        linked += 1
    session.flush()
    session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(last_seq=seq, last_hash=prev_hash))
    session.flush()
    return linked


def commit_and_link(session: Session) -> None:
    """Commit the session, and give the events it recorded their place in the chain.

    On PostgreSQL the linking is a short transaction of its own after the commit, so a request never holds the
    chain head while it works. SQLite's transactions already hold the database's one write lock from their start
    (BEGIN IMMEDIATE, app.db), so there the events are linked just before the commit, in the same transaction."""
    pending = session.info.pop(PENDING, False)
    if pending and session.get_bind().dialect.name == "sqlite":
        audit_chain_link(session)
        pending = False
    session.commit()
    if pending:
        audit_chain_link(session)
        session.commit()


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    problem: str | None = None
    first_bad_seq: int | None = None
    unsealed: int = 0  # events from before seals (upgraded installations)
    checkpoints: int = 0  # signed checkpoints that matched
    pending: int = 0  # events recorded but not linked into the chain yet (their transaction is linking them)


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


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str


def _checkpoint_line(seq: int, digest: str, at: str) -> str:
    return json.dumps({"seq": seq, "hash": digest, "at": at}, sort_keys=True, separators=(",", ":"))


def audit_checkpoint_write(session: Session, *, directory: Path) -> Checkpoint:
    """Append a signed checkpoint of the chain as it stands (its newest event) to the checkpoint file."""
    seq, digest = session.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)).one()
    at = clock.now().isoformat(timespec="seconds")
    line = _checkpoint_line(seq, digest, at)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / CHECKPOINT_FILE).open("a", encoding="utf-8") as out:
        out.write(json.dumps({"checkpoint": line, "seal": seal_of(line)}, separators=(",", ":")) + "\n")
    return Checkpoint(seq=seq, hash=digest, at=at)


def _read_checkpoints(directory: Path | None) -> tuple[dict[int, Checkpoint], str | None]:
    """The signed checkpoints by sequence number, or the problem with the file (a line altered or not signed)."""
    path = directory / CHECKPOINT_FILE if directory is not None else None
    if path is None or not path.exists():
        return {}, None
    found: dict[int, Checkpoint] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            record = json.loads(raw)
            line, seal = record["checkpoint"], record["seal"]
            data = json.loads(line)
            checkpoint = Checkpoint(seq=int(data["seq"]), hash=str(data["hash"]), at=str(data["at"]))
        except (ValueError, KeyError, TypeError):
            return {}, f"checkpoint line {number} cannot be read"
        if not hmac.compare_digest(seal, seal_of(line)):
            return {}, f"checkpoint line {number} was not signed with this service's key (altered or forged)"
        found[checkpoint.seq] = checkpoint
    return found, None


def audit_chain_verify(session: Session, *, checkpoint_dir: Path | None = None) -> ChainCheck:
    """Walk the whole chain; report the first event that was altered, removed, inserted or re-sealed, and any
    checkpoint that the chain no longer reaches or agrees with."""
    checkpoints, unreadable = _read_checkpoints(checkpoint_dir)
    if unreadable:
        return ChainCheck(False, 0, unreadable, None)
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = unsealed = matched = 0
    pending = session.execute(
        select(func.count()).select_from(AuditEvent).where(col(AuditEvent.hash).is_(None))
    ).scalar_one()
    rows = session.execute(
        select(AuditEvent)
        .where(col(AuditEvent.hash).is_not(None))
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=1000)
    ).scalars()
    for event in rows:
        if event.seq != expected_seq:
            return ChainCheck(False, checked, f"event {expected_seq} is missing (found {event.seq} next)", expected_seq)
        if event.prev_hash != expected_prev:
            return ChainCheck(False, checked, f"event {event.seq} does not follow the event before it", event.seq)
        if event_digest(**_event_fields(event)) != event.hash:
            return ChainCheck(False, checked, f"event {event.seq} was changed after it was recorded", event.seq)
        if event.seal is None:
            if checked > unsealed:  # an unsealed event after sealed ones: its seal was removed
                return ChainCheck(False, checked, f"event {event.seq} has lost its seal", event.seq)
            unsealed += 1
        elif not hmac.compare_digest(event.seal, seal_of(event.hash)):
            return ChainCheck(
                False, checked, f"event {event.seq} was re-written: its seal is not this service's", event.seq
            )
        point = checkpoints.get(event.seq)
        if point is not None:
            if point.hash != event.hash:
                return ChainCheck(
                    False, checked, f"event {event.seq} differs from the checkpoint of {point.at}", event.seq
                )
            matched += 1
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    beyond = [p for seq, p in checkpoints.items() if seq > checked]
    if beyond:
        point = max(beyond, key=lambda p: p.seq)
        return ChainCheck(
            False,
            checked,
            f"the newest events were removed: the checkpoint of {point.at} reached event {point.seq}",
            checked + 1,
        )
    head = session.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)).one_or_none()
    if head is None or tuple(head) != (checked, expected_prev):
        return ChainCheck(False, checked, "the newest events were removed (the chain head does not match)", checked + 1)
    return ChainCheck(True, checked, unsealed=unsealed, checkpoints=matched, pending=pending)


# What a read of one record says in the trail (ids only: never a child's or a person's details).
READ_SUMMARIES = {
    "audit.view": "Viewed audit {id}",
    "audit.section_view": "Viewed audit {id}, a section",
    "moderation.view": "Viewed the moderation of audit {id}",
    "import.view": "Viewed import {id} (its rows' problems quote the extract)",
}


def audit_read(
    session: Session, *, actor: Actor | None, action: str, entity_type: str, entity_id: object
) -> AuditEvent:
    """Record that someone read one record with personal data in it (a page, an API fetch, an export)."""
    summary = READ_SUMMARIES[action].format(id=entity_id)
    return audit_record(
        session, actor=actor, action=action, summary=summary, entity_type=entity_type, entity_id=entity_id
    )


def audit_bulk_read(
    session: Session, *, actor: Actor | None, action: str, what: str, count: int, filters: dict[str, Any]
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
