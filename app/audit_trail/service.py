"""Appending to the audit trail, removing the details of old events, and checking that nobody has altered it.

Recording an event takes no lock: it is written with the request's other changes but without its place in the
chain; once the request has committed, a short step (`audit_chain_link`, called by `commit_and_link`) gives the
committed events their places in the order they were recorded, holding the chain head only for that step. An event
not yet linked (its request still finishing) is counted by `verify`, never skipped silently.

Three layers, each catching what the one before cannot:
- the hash chain: every event's hash covers the event and the hash before it, so changing or removing one breaks
  the chain (and the database refuses UPDATE and DELETE on the table, but for linking and redaction, below);
- the seal: each event's hash is also signed with an HMAC under a key the database never holds (AUDIT_TRAIL_KEY,
  or one derived from SECRET_KEY), so a superuser who rewrites the table and re-hashes every event cannot re-seal
  them;
- checkpoints: `caseaudit audit-trail checkpoint` appends a signed (sequence number, hash) to a file outside the
  database (AUDIT_TRAIL_CHECKPOINT_DIR), so cutting off the newest events and rewinding the chain head is caught.

Redaction: an event's *details* (summary, before, after) may name a child, and the retention schedule must be able
to remove them. So the chain covers a hash of the details (`details_hash`, given at linking: `event_digest_v2`)
rather than the details themselves, and `audit_redact` may replace them with "Details removed under retention rule
<rule>", once, recording an `audit_trail.redact` event that names every event it redacted; everything else about a
redacted event (who, when, what kind of action, on which record) stays in the chain. Verify recomputes the details
hash of every event that still has its details, and accepts a redacted one only where a redaction event in the
trail names it (the database allows no other change). Events linked before details hashes (`details_hash` empty)
keep their hash over the details (`event_digest`) and cannot be redacted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, null, select, update
from sqlmodel import Session, col

from app import clock
from app.audit_trail.models import AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

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
    """SHA-256 over a canonical JSON form of an event, its details included, and the hash before it: the hash of the
    events linked before details hashes (their `details_hash` is empty), which cannot be redacted."""
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
    return _sha256_of(payload)


def _sha256_of(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def details_digest(*, summary: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """SHA-256 over a canonical JSON form of an event's details: what the chain covers in their place."""
    return _sha256_of({"summary": summary, "before": before, "after": after})


def event_digest_v2(
    *,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    entity_type: str | None,
    entity_id: str | None,
    details_hash: str,
    prev_hash: str,
) -> str:
    """SHA-256 over a canonical JSON form of an event, with its details' hash in place of its details, and the hash
    before it: the hash of every event linked since details hashes, so its details can be redacted."""
    return _sha256_of(
        {
            "v": 2,
            "seq": seq,
            "occurred_at": occurred_at.isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor_label": actor_label,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "details_hash": details_hash,
            "prev_hash": prev_hash,
        }
    )


def event_hash(event: AuditEvent) -> str:
    """What a linked event's hash must be, from what is stored: over its details' hash, or over its details for
    an event linked before details hashes."""
    if event.details_hash is None:
        return event_digest(**_event_fields(event))
    return event_digest_v2(**_event_fields_v2(event))


def _details_hash_of(event: AuditEvent) -> str:
    return details_digest(summary=event.summary, before=event.before, after=event.after)


PENDING = "audit_trail_pending"  # session.info key: this session recorded events still to be linked

REDACT_ACTION = "audit_trail.redact"
# The database's rule (migration 2026-12-06_1500) allows a redaction only with exactly this summary.
REDACTED_SUMMARY_PREFIX = "Details removed under retention rule "
RULE_MAX_LENGTH = 80
REDACT_BATCH = 1000  # ids per statement: well inside SQLite's and PostgreSQL's limits on bound parameters


def redacted_summary(rule: str) -> str:
    """What a redacted event's summary says in place of its details."""
    return REDACTED_SUMMARY_PREFIX + rule


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
        if event.details_hash is None:  # from the details as stored (read back above), as verify will read them
            event.details_hash = _details_hash_of(event)
        digest = event_hash(event)
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
class RedactionSummary:
    """One `audit_trail.redact` event, as verify found it: when, under which rule, how many events it redacted."""

    seq: int | None  # its place in the chain (None: committed, not linked yet)
    at: datetime
    rule: str
    count: int  # events whose details it removed (each checked to point back at it)


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    problem: str | None = None
    first_bad_seq: int | None = None
    unsealed: int = 0  # events from before seals (upgraded installations)
    checkpoints: int = 0  # signed checkpoints that matched
    pending: int = 0  # events recorded but not linked into the chain yet (their transaction is linking them)
    legacy: int = 0  # events linked before details hashes (hashed over their details; they cannot be redacted)
    redacted: int = 0  # events whose details were removed by a redaction
    redactions: tuple[RedactionSummary, ...] = ()  # the redaction events, oldest first


def _chain_fields(event: AuditEvent) -> dict[str, Any]:
    """What every event's hash covers whatever its version: its place, who, when, what, to which record."""
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "prev_hash": event.prev_hash,
    }


def _event_fields(event: AuditEvent) -> dict[str, Any]:
    """A legacy (v1) event's hash covers its details themselves."""
    return {**_chain_fields(event), "summary": event.summary, "before": event.before, "after": event.after}


def _event_fields_v2(event: AuditEvent) -> dict[str, Any]:
    """A v2 event's hash covers the hash of its details, so they can be redacted."""
    return {**_chain_fields(event), "details_hash": event.details_hash}


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
    """Walk the whole chain; report the first event that was altered, removed, inserted or re-sealed (a changed
    detail of an event that still has its details included, and details removed without a redaction event that
    names the event), and any checkpoint that the chain no longer reaches or agrees with."""
    checkpoints, unreadable = _read_checkpoints(checkpoint_dir)
    if unreadable:
        return ChainCheck(False, 0, unreadable, None)
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = unsealed = matched = legacy = 0
    redactors = _Redactors(session)
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
        if event_hash(event) != event.hash:
            return ChainCheck(False, checked, f"event {event.seq} was changed after it was recorded", event.seq)
        problem = _details_problem(event, redactors)
        if problem:
            return ChainCheck(False, checked, problem, event.seq)
        legacy += event.details_hash is None
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
    return ChainCheck(
        True,
        checked,
        unsealed=unsealed,
        checkpoints=matched,
        pending=pending,
        legacy=legacy,
        redacted=sum(redactors.counts.values()),
        redactions=redactors.summaries(),
    )


class _Redactors:
    """The trail's `audit_trail.redact` events (read up front: each comes after the events it redacted), the
    sequence numbers each names, and how many redacted events verify has found pointing back at each."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.events: dict[int, AuditEvent] = {}
        self.named: dict[int, frozenset[int]] = {}
        self.counts: Counter[int] = Counter()
        for event in session.execute(select(AuditEvent).where(AuditEvent.action == REDACT_ACTION)).scalars():
            self._add(event)

    def _add(self, event: AuditEvent) -> None:
        assert event.id is not None
        listed = event.after.get("events") if isinstance(event.after, dict) else None
        self.events[event.id] = event
        self.named[event.id] = frozenset(s for s in listed or () if isinstance(s, int) and not isinstance(s, bool))

    def get(self, event_id: int | None) -> AuditEvent | None:
        """The redaction event with this id (one committed since the walk began is read now)."""
        if event_id is None:
            return None
        if event_id not in self.events:
            event = self.session.get(AuditEvent, event_id)
            if event is None or event.action != REDACT_ACTION:
                return None
            self._add(event)
        return self.events[event_id]

    def summaries(self) -> tuple[RedactionSummary, ...]:
        ordered = sorted(self.events.values(), key=lambda e: (e.seq is None, e.seq or 0, e.id or 0))
        return tuple(
            RedactionSummary(
                seq=e.seq,
                at=e.occurred_at,
                rule=str((e.after or {}).get("rule", "")),
                count=self.counts[e.id or 0],
            )
            for e in ordered
        )


def _details_problem(event: AuditEvent, redactors: _Redactors) -> str | None:
    """What is wrong with a linked event's details (its hash already checked), or None: an event that has them
    must still hash to its details hash; one whose details were removed must say so in the fixed words, and be
    named by the redaction event it points at, under the same rule and at the same moment."""
    changed = f"event {event.seq} was changed after it was recorded"
    marks = (event.redacted_at, event.redaction_rule, event.redacted_by_id)
    if event.details_hash is None or event.redacted_at is None:
        if any(mark is not None for mark in marks):  # half a redaction, or one of an event that cannot have any
            return changed
        if event.details_hash is not None and _details_hash_of(event) != event.details_hash:
            return changed
        return None
    if (
        event.redaction_rule is None
        or event.summary != redacted_summary(event.redaction_rule)
        or event.before is not None
        or event.after is not None
    ):
        return changed
    redactor = redactors.get(event.redacted_by_id)
    if (
        redactor is None
        or event.action == REDACT_ACTION
        or event.seq not in redactors.named[event.redacted_by_id or 0]
        or (redactor.seq is not None and event.seq is not None and redactor.seq <= event.seq)
    ):
        return f"event {event.seq}'s details were removed without a redaction event"
    if (redactor.after or {}).get("rule") != event.redaction_rule or redactor.occurred_at != event.redacted_at:
        return f"event {event.seq}'s redaction does not agree with the redaction event that names it"
    redactors.counts[event.redacted_by_id or 0] += 1
    return None


def redactions_by_day(redactions: Iterable[RedactionSummary], tz: ZoneInfo) -> list[tuple[date, str, int]]:
    """The redactions as (local day, rule, events redacted), one line per day and rule, oldest first."""
    totals: dict[tuple[date, str], int] = {}
    for redaction in sorted(redactions, key=lambda r: r.at):
        key = (redaction.at.astimezone(tz).date(), redaction.rule)
        totals[key] = totals.get(key, 0) + redaction.count
    return [(day, rule, count) for (day, rule), count in totals.items()]


# --- Redaction ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedactionResult:
    """What `audit_redact` did: the redaction event (None when there was nothing to redact), the sequence numbers
    of the events it redacted, and how many of those asked for it skipped, and why."""

    event: AuditEvent | None
    redacted: tuple[int, ...] = ()
    already_redacted: int = 0  # redacted before (a redaction is done once)
    pending: int = 0  # not linked into the chain yet: redact them once they are
    legacy: int = 0  # linked before details hashes: their hash covers their details, which must stay
    refused: int = 0  # redaction events themselves: what was redacted, and when, stays in the trail
    not_found: int = 0  # no event with that id

    @property
    def count(self) -> int:
        return len(self.redacted)

    @property
    def skipped(self) -> int:
        return self.already_redacted + self.pending + self.legacy + self.refused + self.not_found


def _batches(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), REDACT_BATCH):
        yield ids[start : start + REDACT_BATCH]


def audit_redact(
    session: Session,
    *,
    events: Iterable[AuditEvent | int],
    rule: str,
    actor: Actor | None,
    reason: str | None = None,
) -> RedactionResult:
    """Remove the details (summary, before, after) of these events (objects or ids) under a retention rule, in the
    caller's transaction, and record one `audit_trail.redact` event naming them (by sequence number). Each keeps its
    place in the chain, who did what and when, and its details' hash; its summary becomes "Details removed under
    retention rule <rule>". Only linked events with a details hash can be redacted, each once; the rest are skipped
    and counted (`RedactionResult`), and so are redaction events. Thousands of events take a few statements."""
    if not rule or len(rule) > RULE_MAX_LENGTH or rule != rule.strip() or not rule.isprintable():
        raise ValueError(f"a retention rule is a name of 1 to {RULE_MAX_LENGTH} characters, not {rule!r}")
    session.flush()
    ids: list[int] = []
    unflushed = 0
    for item in events:
        event_id = item if isinstance(item, int) else item.id
        if event_id is None:
            unflushed += 1
        else:
            ids.append(event_id)
    ids = list(dict.fromkeys(ids))
    lock = session.get_bind().dialect.name == "postgresql"  # two redactions of one event: the second waits, skips it
    found: dict[int, tuple[int | None, str | None, object, str]] = {}
    for batch in _batches(ids):
        stmt = select(
            AuditEvent.id, AuditEvent.seq, AuditEvent.details_hash, AuditEvent.redacted_at, AuditEvent.action
        ).where(col(AuditEvent.id).in_(batch), col(AuditEvent.hash).is_not(None))
        for row in session.execute(stmt.with_for_update() if lock else stmt):
            found[row.id] = (row.seq, row.details_hash, row.redacted_at, row.action)
    unlinked = [i for i in ids if i not in found]
    pending = unflushed
    for batch in _batches(unlinked):
        pending += session.execute(
            select(func.count()).select_from(AuditEvent).where(col(AuditEvent.id).in_(batch))
        ).scalar_one()
    chosen: list[tuple[int, int]] = []  # (seq, id)
    already = legacy = refused = 0
    for event_id, (seq, details_hash, redacted_at, action) in found.items():
        if action == REDACT_ACTION:
            refused += 1
        elif redacted_at is not None:
            already += 1
        elif details_hash is None:
            legacy += 1
        else:
            assert seq is not None
            chosen.append((seq, event_id))
    chosen.sort()
    skipped = {
        "already_redacted": already,
        "pending": pending,
        "legacy": legacy,
        "refused": refused,
        "not_found": len(unlinked) + unflushed - pending,
    }
    if not chosen:
        return RedactionResult(event=None, **skipped)
    seqs = [seq for seq, _ in chosen]
    after: dict[str, Any] = {"rule": rule, "events": seqs}
    if reason:
        after["reason"] = reason
    count = len(seqs)
    redaction = audit_record(
        session,
        actor=actor,
        action=REDACT_ACTION,
        summary=f"Removed the details of {count} event{'' if count == 1 else 's'} under rule {rule}",
        after=after,
    )
    chosen_ids = [event_id for _, event_id in chosen]
    for batch in _batches(chosen_ids):
        done = session.execute(
            update(AuditEvent)
            .where(col(AuditEvent.id).in_(batch), col(AuditEvent.redacted_at).is_(None))
            .values(
                summary=redacted_summary(rule),
                before=null(),
                after=null(),
                redacted_at=redaction.occurred_at,
                redaction_rule=rule,
                redacted_by_id=redaction.id,
            )
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != len(batch):
            raise RuntimeError("audit events changed while they were being redacted")
    redacted_ids = set(chosen_ids)
    for obj in list(session.identity_map.values()):  # objects the caller holds: read them again when next used
        if isinstance(obj, AuditEvent) and obj.id in redacted_ids:
            session.expire(obj)
    return RedactionResult(event=redaction, redacted=tuple(seqs), **skipped)


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
