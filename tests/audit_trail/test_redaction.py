"""Removing the details of audit-trail events under a retention rule: the chain still verifies, every other change
is still caught, the database allows nothing but a redaction shaped exactly so, and verify reports the redactions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, Integer, String, column, delete, event, null, select, table, text, update
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from app import clock
from app.accounts.models import User
from app.audit_trail.models import AuditChainHead, AuditEvent
from app.audit_trail.service import (
    REDACT_ACTION,
    RedactionSummary,
    audit_chain_link,
    audit_chain_verify,
    audit_record,
    audit_redact,
    commit_and_link,
    details_digest,
    event_digest,
    event_digest_v2,
    redacted_summary,
    redactions_by_day,
    seal_of,
)
from app.db import JSONType, UTCDateTime
from tests.audit_trail.test_chain import _allow_tampering
from tests.factories import make_user

# --- The digests: pure ------------------------------------------------------------------------------------------

V2_FIELDS = {
    "seq": 7,
    "occurred_at": datetime(2026, 3, 27, 9, 30, 15, 123456, tzinfo=UTC),
    "actor_id": 3,
    "actor_label": "qa.lead",
    "action": "user.update",
    "entity_type": "user",
    "entity_id": "12",
    "details_hash": "c" * 64,
    "prev_hash": "a" * 64,
}


def test_the_digests_formats_are_pinned():
    """Changing either canonical form would make every trail already stored fail verification."""
    details = details_digest(summary="User asha changed", before={"roles": ["auditor"]}, after=None)
    assert details == "de131c3d03247ec043dd9899d8d93590fdea500a6ecfdf775a23a8663c71f282"
    assert event_digest_v2(**V2_FIELDS) == "effe67eb8845e8aa16a6f5814902f214f28f7fb32397c5341d4572f8fea05472"


def test_the_details_digest_ignores_key_order_and_changes_with_any_detail():
    base = {"summary": "Viewed", "before": {"a": 1, "b": 2}, "after": None}
    assert details_digest(**base) == details_digest(**{**base, "before": {"b": 2, "a": 1}})
    for field, value in [("summary", "Viewed."), ("before", {"a": 1}), ("before", None), ("after", {})]:
        assert details_digest(**{**base, field: value}) != details_digest(**base)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", 8),
        ("occurred_at", datetime(2026, 3, 27, 9, 30, 15, 123457, tzinfo=UTC)),
        ("actor_id", None),
        ("actor_label", "someone.else"),
        ("action", "user.deactivate"),
        ("entity_type", "team"),
        ("entity_id", "13"),
        ("details_hash", "d" * 64),
        ("prev_hash", "b" * 64),
    ],
)
def test_the_v2_digest_changes_when_any_field_changes(field, value):
    assert event_digest_v2(**{**V2_FIELDS, field: value}) != event_digest_v2(**V2_FIELDS)


# --- Helpers ----------------------------------------------------------------------------------------------------


def _record(db, n: int, *, child: str = "DEMO6900650", actor: User | None = None) -> list[AuditEvent]:
    events = [
        audit_record(
            db,
            actor=actor,
            action="case.view",
            summary=f"Viewed the case of child {child} ({i})",
            entity_type="case",
            entity_id=100 + i,
            before={"child_id": child} if i % 2 else None,
            after={"seen": [child, i]},
        )
        for i in range(n)
    ]
    audit_chain_link(db)
    return events


def _fresh(db, event_: AuditEvent) -> AuditEvent:
    db.expire_all()
    found = db.get(AuditEvent, event_.id)
    assert found is not None
    return found


def _verify(db):
    db.flush()
    db.expire_all()  # what the database holds, not the objects in memory
    return audit_chain_verify(db)


def _link_the_old_way(db) -> int:
    """Link the pending events as the trail did before details hashes: hashed over their details (v1)."""
    db.flush()
    db.expire_all()
    seq, prev = db.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)).one()
    pending = db.execute(select(AuditEvent).where(AuditEvent.hash.is_(None)).order_by(AuditEvent.id)).scalars()
    linked = 0
    for old in list(pending):
        seq += 1
        digest = event_digest(
            seq=seq,
            occurred_at=old.occurred_at,
            actor_id=old.actor_id,
            actor_label=old.actor_label,
            action=old.action,
            entity_type=old.entity_type,
            entity_id=old.entity_id,
            summary=old.summary,
            before=old.before,
            after=old.after,
            prev_hash=prev,
        )
        db.execute(
            update(AuditEvent)
            .where(AuditEvent.id == old.id)
            .values(seq=seq, prev_hash=prev, hash=digest, seal=seal_of(digest))
        )
        prev = digest
        linked += 1
    db.execute(update(AuditChainHead).values(last_seq=seq, last_hash=prev))
    db.expire_all()
    return linked


# --- Linking ----------------------------------------------------------------------------------------------------


def test_linking_gives_each_event_the_hash_of_its_details_as_stored(db):
    (first, second) = _record(db, 2)
    for e in (first, second):
        stored = _fresh(db, e)
        assert stored.details_hash == details_digest(summary=stored.summary, before=stored.before, after=stored.after)
        assert stored.hash == event_digest_v2(
            seq=stored.seq,
            occurred_at=stored.occurred_at,
            actor_id=stored.actor_id,
            actor_label=stored.actor_label,
            action=stored.action,
            entity_type=stored.entity_type,
            entity_id=stored.entity_id,
            details_hash=stored.details_hash,
            prev_hash=stored.prev_hash,
        )
    check = _verify(db)
    assert check.ok and check.legacy == 0 and check.redacted == 0 and check.redactions == ()


# --- Redacting --------------------------------------------------------------------------------------------------


def test_redaction_removes_the_details_keeps_the_event_and_the_chain_verifies(db):
    actor = make_user(db, username="retention.officer")
    events = _record(db, 4)
    keep = events[3]
    result = audit_redact(db, events=events[:3], rule="closed_cases", actor=actor, reason="Closed over 25 years")
    assert result.count == 3 and result.skipped == 0
    assert result.redacted == tuple(e.seq for e in events[:3])
    redaction = result.event
    assert redaction is not None
    assert (redaction.action, redaction.entity_type, redaction.actor_id) == (REDACT_ACTION, None, actor.id)
    assert redaction.summary == "Removed the details of 3 events under rule closed_cases"
    assert redaction.after == {
        "rule": "closed_cases",
        "events": [e.seq for e in events[:3]],
        "reason": "Closed over 25 years",
    }
    for original in events[:3]:
        stored = _fresh(db, original)
        assert stored.summary == "Details removed under retention rule closed_cases" == redacted_summary("closed_cases")
        assert stored.before is None and stored.after is None
        assert (stored.redacted_at, stored.redaction_rule, stored.redacted_by_id) == (
            redaction.occurred_at,
            "closed_cases",
            redaction.id,
        )
        assert (stored.action, stored.entity_type, stored.entity_id, stored.hash) == (
            "case.view",
            "case",
            original.entity_id,
            original.hash,
        )
        assert stored.details_hash is not None
    # The raw columns are SQL NULL (not JSON null), as the database's rule wants.
    raw = db.execute(
        text("SELECT count(*) FROM audit_event WHERE redacted_at IS NOT NULL AND before IS NULL AND after IS NULL")
    ).scalar_one()
    assert raw == 3
    assert _fresh(db, keep).summary.startswith("Viewed the case of child DEMO6900650")

    db.commit()
    commit_and_link(db)  # the redaction event takes its place after the events it redacted
    check = _verify(db)
    assert check.ok, check.problem
    assert check.redacted == 3
    linked = _fresh(db, redaction)
    assert linked.seq is not None and linked.seq > max(e.seq or 0 for e in events)
    assert check.redactions == (RedactionSummary(seq=linked.seq, at=linked.occurred_at, rule="closed_cases", count=3),)


def test_the_caller_holding_the_objects_sees_them_redacted(db):
    (held,) = _record(db, 1)
    audit_redact(db, events=[held], rule="closed_cases", actor=None)
    assert held.summary == "Details removed under retention rule closed_cases" and held.after is None


def test_redactions_on_two_days_under_two_rules_are_reported_by_day_and_rule(db, set_clock, settings):
    events = _record(db, 8)
    set_clock(datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
    audit_redact(db, events=events[:3], rule="closed_cases", actor=None)
    audit_redact(db, events=events[3:5], rule="closed_cases", actor=None)
    audit_chain_link(db)
    set_clock(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
    audit_redact(db, events=[e.id for e in events[5:7]], rule="trail_details", actor=None)  # ids do too
    audit_chain_link(db)
    check = _verify(db)
    assert check.ok, check.problem
    assert check.redacted == 7
    assert [(r.rule, r.count) for r in check.redactions] == [
        ("closed_cases", 3),
        ("closed_cases", 2),
        ("trail_details", 2),
    ]
    assert redactions_by_day(check.redactions, settings.tz) == [
        (date(2026, 12, 6), "closed_cases", 5),
        (date(2026, 12, 7), "trail_details", 2),
    ]


def test_redaction_is_idempotent(db):
    events = _record(db, 3)
    first = audit_redact(db, events=events[:2], rule="closed_cases", actor=None)
    again = audit_redact(db, events=events, rule="closed_cases", actor=None)
    assert first.count == 2
    assert again.redacted == (events[2].seq,) and again.already_redacted == 2
    assert again.event is not None and again.event.after["events"] == [events[2].seq]
    nothing = audit_redact(db, events=events + events, rule="other_rule", actor=None)
    assert nothing.event is None and nothing.count == 0 and nothing.already_redacted == 3
    assert _fresh(db, events[0]).redaction_rule == "closed_cases"  # the first redaction stands
    redactions = db.execute(select(AuditEvent).where(AuditEvent.action == REDACT_ACTION)).scalars().all()
    assert len(redactions) == 2
    audit_chain_link(db)
    assert _verify(db).ok


def test_pending_missing_and_redaction_events_are_skipped_and_counted(db):
    linked = _record(db, 2)
    earlier = audit_redact(db, events=linked[:1], rule="closed_cases", actor=None).event
    assert earlier is not None
    audit_chain_link(db)
    pending = audit_record(db, actor=None, action="case.view", summary="Viewed the case of child DEMO6900650")
    unflushed = AuditEvent(occurred_at=clock.now(), actor_label="x", action="case.view", summary="Not flushed yet")
    result = audit_redact(db, events=[pending, linked[1], earlier, 10**9, unflushed], rule="closed_cases", actor=None)
    assert result.redacted == (linked[1].seq,)
    assert (result.pending, result.refused, result.not_found, result.already_redacted, result.legacy) == (2, 1, 1, 0, 0)
    assert _fresh(db, pending).summary == "Viewed the case of child DEMO6900650"  # waits until it is linked
    assert _fresh(db, earlier).summary == "Removed the details of 1 event under rule closed_cases"


def test_nothing_to_redact_records_nothing(db):
    before = db.execute(select(AuditEvent.id)).all()
    result = audit_redact(db, events=[], rule="closed_cases", actor=None)
    assert result.event is None and result.count == 0
    assert db.execute(select(AuditEvent.id)).all() == before


@pytest.mark.parametrize("rule", ["", " closed", "x" * 81, "two\nlines"])
def test_a_rule_must_be_a_short_name(db, rule):
    events = _record(db, 1)
    with pytest.raises(ValueError, match="retention rule"):
        audit_redact(db, events=events, rule=rule, actor=None)


def test_thousands_of_events_are_redacted_in_a_few_statements(db):
    n = 2_500
    db.add_all(
        AuditEvent(
            occurred_at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=i),
            actor_label="system",
            action="case.view",
            summary=f"Viewed the case of child BULK{i:05}",
            entity_type="case",
            entity_id=str(i),
        )
        for i in range(n)
    )
    db.flush()
    audit_chain_link(db)
    ids = list(db.execute(select(AuditEvent.id).where(AuditEvent.summary.like("%BULK%"))).scalars())
    statements: list[str] = []
    connection = db.connection()

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        result = audit_redact(db, events=ids, rule="bulk_rule", actor=None)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert result.count == n
    assert len(statements) <= 12, statements  # batches of ids, not one statement per event
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE AUDIT_EVENT")]
    assert len(updates) == 3
    audit_chain_link(db)
    check = _verify(db)
    assert check.ok, check.problem
    assert check.redacted == n and check.redactions[-1].count == n


# --- Tampering is still caught ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_label", "someone.else"),
        ("action", "case.edit"),
        ("occurred_at", datetime(2026, 1, 1, tzinfo=UTC)),
        ("entity_id", "999"),
        ("details_hash", "e" * 64),
    ],
)
def test_changing_anything_else_about_a_redacted_event_is_caught(db, column, value):
    events = _record(db, 3)
    audit_redact(db, events=events, rule="closed_cases", actor=None)
    audit_chain_link(db)
    target = events[1]
    _allow_tampering(db)
    db.execute(update(AuditEvent).where(AuditEvent.id == target.id).values({column: value}))
    check = _verify(db)
    assert not check.ok
    assert (check.first_bad_seq, check.problem) == (target.seq, f"event {target.seq} was changed after it was recorded")


@pytest.mark.parametrize(
    "values",
    [
        {"summary": "Details removed under retention rule other_rule"},
        {"summary": "Something innocent"},
        {"after": {"restored": True}},
        {"redaction_rule": "other_rule"},
        {"redacted_at": None},
    ],
    ids=["summary-rule", "summary", "after", "rule", "un-redacted"],
)
def test_changing_a_redacted_events_redaction_is_caught(db, values):
    events = _record(db, 2)
    audit_redact(db, events=events, rule="closed_cases", actor=None)
    audit_chain_link(db)
    target = events[0]
    _allow_tampering(db)
    db.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(values))
    check = _verify(db)
    assert not check.ok and check.first_bad_seq == target.seq
    assert check.problem in (
        f"event {target.seq} was changed after it was recorded",
        f"event {target.seq}'s redaction does not agree with the redaction event that names it",
    )


@pytest.mark.parametrize(
    "values",
    [
        {"summary": "Viewed the case of child SOMEONE99"},
        {"before": {"child_id": "SOMEONE99"}},
        {"before": None},
        {"after": {"seen": []}},
    ],
    ids=["summary", "before", "before-removed", "after"],
)
def test_changing_the_details_of_an_event_that_has_them_is_caught(db, values):
    events = _record(db, 3)
    audit_redact(db, events=events[:1], rule="closed_cases", actor=None)  # a redaction elsewhere in the trail
    audit_chain_link(db)
    target = events[1]
    _allow_tampering(db)
    db.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(values))
    check = _verify(db)
    assert not check.ok
    assert (check.first_bad_seq, check.problem) == (target.seq, f"event {target.seq} was changed after it was recorded")


def _redaction_shaped(target: AuditEvent, redaction: AuditEvent, rule: str = "closed_cases") -> dict:
    return {
        "summary": redacted_summary(rule),
        "before": null(),
        "after": null(),
        "redacted_at": redaction.occurred_at,
        "redaction_rule": rule,
        "redacted_by_id": redaction.id,
    }


def test_details_removed_without_a_redaction_event_naming_the_event_are_caught(db):
    """The database lets a redaction-shaped change through when it points at a real redaction event (it cannot
    afford to read the list of events a redaction names, per row); verify reads it, and finds the event missing."""
    events = _record(db, 3)
    redaction = audit_redact(db, events=events[:1], rule="closed_cases", actor=None).event
    assert redaction is not None
    target = events[1]
    db.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(_redaction_shaped(target, redaction)))
    audit_chain_link(db)
    check = _verify(db)
    assert not check.ok and check.first_bad_seq == target.seq
    assert check.problem == f"event {target.seq}'s details were removed without a redaction event"


@pytest.mark.parametrize("points_at", ["nothing", "another event", "no such event"])
def test_a_redacted_event_pointing_at_no_redaction_is_caught(db, points_at):
    events = _record(db, 3)
    target = events[1]
    by = {"nothing": None, "another event": events[0].id, "no such event": 10**9}[points_at]
    _allow_tampering(db)
    db.execute(
        update(AuditEvent)
        .where(AuditEvent.id == target.id)
        .values(
            summary=redacted_summary("closed_cases"),
            before=null(),
            after=null(),
            redacted_at=clock.now(),
            redaction_rule="closed_cases",
            redacted_by_id=by,
        )
    )
    check = _verify(db)
    assert not check.ok and check.first_bad_seq == target.seq
    assert check.problem == f"event {target.seq}'s details were removed without a redaction event"


# --- The database's rule ----------------------------------------------------------------------------------------


@pytest.fixture
def redacted_world(db):
    """Three linked events by someone; the first redacted (so a redaction event exists), the other two not."""
    events = _record(db, 3, actor=make_user(db, username="viewer"))
    redaction = audit_redact(db, events=events[:1], rule="closed_cases", actor=None).event
    assert redaction is not None
    db.flush()
    return events, redaction


def _refused(db, statement) -> None:
    with pytest.raises(DatabaseError, match="append-only"):
        with db.begin_nested():
            db.execute(statement)


def test_a_redaction_shaped_update_is_allowed(db, redacted_world):
    """The control for the refusals below: exactly this shape gets through."""
    (_, target, _), redaction = redacted_world
    with db.begin_nested():
        db.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(_redaction_shaped(target, redaction)))
    assert _fresh(db, target).redacted_by_id == redaction.id


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_label", "someone.else"),
        ("action", "case.edit"),
        ("occurred_at", datetime(2026, 1, 1, tzinfo=UTC)),
        ("actor_id", None),
        ("entity_type", "audit"),
        ("entity_id", "999"),
        ("seq", 10**6),
        ("hash", "f" * 64),
        ("prev_hash", "f" * 64),
        ("seal", "f" * 64),
        ("details_hash", "f" * 64),
        ("summary", "Details removed"),
        ("after", {"child_id": "DEMO6900650"}),
        ("redaction_rule", "other_rule"),
        ("redacted_at", datetime(2026, 1, 1, tzinfo=UTC)),
        ("redacted_by_id", None),
    ],
)
def test_the_database_refuses_a_redaction_that_changes_anything_else(db, redacted_world, column, value):
    (_, target, _), redaction = redacted_world
    values = {**_redaction_shaped(target, redaction), column: value}
    _refused(db, update(AuditEvent).where(AuditEvent.id == target.id).values(values))
    assert _fresh(db, target).redacted_at is None


def test_the_database_refuses_a_redaction_pointing_at_an_event_that_is_not_a_redaction(db, redacted_world):
    (_, target, other), redaction = redacted_world
    values = {**_redaction_shaped(target, redaction), "redacted_by_id": other.id}
    _refused(db, update(AuditEvent).where(AuditEvent.id == target.id).values(values))


def test_the_database_refuses_a_second_redaction_and_the_redaction_of_a_redaction(db, redacted_world):
    (first, _, _), redaction = redacted_world
    later = audit_redact(db, events=redacted_world[0][1:2], rule="closed_cases", actor=None).event
    assert later is not None
    db.flush()
    _refused(db, update(AuditEvent).where(AuditEvent.id == first.id).values(_redaction_shaped(first, later)))
    _refused(db, update(AuditEvent).where(AuditEvent.id == redaction.id).values(_redaction_shaped(redaction, later)))


def test_the_database_refuses_to_redact_an_unlinked_event(db, redacted_world):
    _, redaction = redacted_world
    pending = audit_record(db, actor=None, action="case.view", summary="Not linked yet")
    db.flush()
    _refused(db, update(AuditEvent).where(AuditEvent.id == pending.id).values(_redaction_shaped(pending, redaction)))


def test_the_database_refuses_to_delete_a_redacted_event_or_any_other(db, redacted_world):
    (first, second, _), redaction = redacted_world
    for victim in (first, second, redaction):
        _refused(db, delete(AuditEvent).where(AuditEvent.id == victim.id))


# --- Events linked before details hashes ------------------------------------------------------------------------


def test_events_linked_before_details_hashes_still_verify_and_cannot_be_redacted(db):
    audit_chain_link(db)  # whatever the fixtures recorded, first
    old = [audit_record(db, actor=None, action="case.view", summary=f"Old event {i}", after={"i": i}) for i in range(3)]
    assert _link_the_old_way(db) == 3
    new = _record(db, 2)
    stored = [_fresh(db, e) for e in old]
    assert all(e.details_hash is None and e.hash is not None for e in stored)
    check = _verify(db)
    assert check.ok, check.problem
    assert check.legacy == 3

    result = audit_redact(db, events=old + new, rule="closed_cases", actor=None)
    assert result.legacy == 3 and result.redacted == tuple(e.seq for e in new)
    assert _fresh(db, old[0]).summary == "Old event 0"
    audit_chain_link(db)
    check = _verify(db)
    assert check.ok and check.legacy == 3 and check.redacted == 2

    # The database refuses too, and a changed summary of an old event is caught by its old hash.
    redaction = result.event
    assert redaction is not None
    _refused(db, update(AuditEvent).where(AuditEvent.id == old[1].id).values(_redaction_shaped(old[1], redaction)))
    _allow_tampering(db)
    db.execute(update(AuditEvent).where(AuditEvent.id == old[1].id).values(summary="Old event, softened"))
    check = _verify(db)
    assert not check.ok and check.problem == f"event {stored[1].seq} was changed after it was recorded"


# --- The upgrade, on a database of its own ----------------------------------------------------------------------


@pytest.fixture
def upgrade_engine(pytestconfig, tmp_path) -> Iterator[Engine]:
    """A database of its own at the revision before this one."""
    from app.db import make_engine
    from tests.conftest import fresh_database_url

    engine = make_engine(fresh_database_url(pytestconfig, tmp_path, "trail_redaction"))
    _alembic(engine, "upgrade", "b4e0f6a8c1d3")
    yield engine
    engine.dispose()


# audit_event as the code before this revision knew it.
OLD_EVENT = table(
    "audit_event",
    column("seq", Integer()),
    column("occurred_at", UTCDateTime()),
    column("actor_label", String()),
    column("action", String()),
    column("summary", String()),
    column("after", JSONType),
    column("prev_hash", String()),
    column("hash", String()),
    column("seal", String()),
)


def _alembic(engine: Engine, command_name: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from app.config import PROJECT_DIR

    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.attributes["configure_logging"] = False
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, command_name)(config, revision)


def test_an_upgraded_trail_keeps_verifying_and_only_new_events_can_be_redacted(upgrade_engine):
    """A trail linked by the code before this revision (events hashed over their details, one left pending), then
    the upgrade: the old events verify as they are, the pending one is linked the new way, and the downgrade is
    refused once events rely on details hashes."""
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    prev = "0" * 64
    with upgrade_engine.begin() as connection:
        for seq in (1, 2):
            summary, after = f"Viewed the case of child OLD{seq}", {"n": seq}
            digest = event_digest(
                seq=seq,
                occurred_at=start,
                actor_id=None,
                actor_label="system",
                action="case.view",
                entity_type=None,
                entity_id=None,
                summary=summary,
                before=None,
                after=after,
                prev_hash=prev,
            )
            connection.execute(
                OLD_EVENT.insert().values(
                    seq=seq,
                    occurred_at=start,
                    actor_label="system",
                    action="case.view",
                    summary=summary,
                    after=after,
                    prev_hash=prev,
                    hash=digest,
                    seal=seal_of(digest),
                )
            )
            prev = digest
        connection.execute(
            OLD_EVENT.insert().values(
                occurred_at=start,
                actor_label="system",
                action="case.view",
                summary="Recorded before the upgrade, linked after it",
            )
        )
        connection.execute(text("UPDATE audit_chain_head SET last_seq = 2, last_hash = :h"), {"h": prev})

    _alembic(upgrade_engine, "upgrade", "head")
    with Session(upgrade_engine) as session:
        check = audit_chain_verify(session)
        assert check.ok and (check.checked, check.legacy, check.pending) == (2, 2, 1), check
        assert audit_chain_link(session) == 1
        session.commit()
        check = audit_chain_verify(session)
        assert check.ok and (check.checked, check.legacy) == (3, 2), check
        events = list(session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())
        assert [e.details_hash is None for e in events] == [True, True, False]
        result = audit_redact(session, events=events, rule="closed_cases", actor=None)
        assert result.redacted == (3,) and result.legacy == 2
        commit_and_link(session)
        check = audit_chain_verify(session)
        assert check.ok and check.redacted == 1 and check.legacy == 2, check

    with pytest.raises(RuntimeError, match="cannot be downgraded past it"):
        _alembic(upgrade_engine, "downgrade", "b4e0f6a8c1d3")


def test_the_downgrade_restores_the_old_rule_when_nothing_relies_on_details_hashes(upgrade_engine):
    _alembic(upgrade_engine, "upgrade", "head")
    _alembic(upgrade_engine, "downgrade", "b4e0f6a8c1d3")
    with upgrade_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_event (occurred_at, actor_label, action, summary) "
                "VALUES (CURRENT_TIMESTAMP, 'system', 'x', 'y')"
            )
        )
    with pytest.raises(DatabaseError, match="append-only"):
        with upgrade_engine.begin() as connection:
            connection.execute(text("UPDATE audit_event SET summary = 'z'"))
    with upgrade_engine.begin() as connection:  # linking is still allowed
        connection.execute(text("UPDATE audit_event SET seq = 1, prev_hash = :h, hash = :h"), {"h": "0" * 64})
    with pytest.raises(DatabaseError, match="append-only"):
        with upgrade_engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_event"))


def test_two_redactions_of_the_same_events_at_once_redact_them_once(pytestconfig, tmp_path):
    """The second waits for the first to commit, then finds the events redacted and records nothing."""
    import threading

    from app.cli import alembic_upgrade
    from app.db import make_engine
    from tests.conftest import fresh_database_url

    if not pytestconfig.getoption("--postgres"):
        pytest.skip("SQLite runs one writing transaction at a time (BEGIN IMMEDIATE)")
    url = fresh_database_url(pytestconfig, tmp_path, "trail_redact_race")
    alembic_upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            ids = [audit_record(session, actor=None, action="case.view", summary=f"Viewed {i}").id for i in range(5)]
            commit_and_link(session)
        first = Session(engine)
        assert audit_redact(first, events=ids, rule="closed_cases", actor=None).count == 5
        results = []

        def second() -> None:
            with Session(engine) as session:
                results.append(audit_redact(session, events=ids, rule="other_rule", actor=None))
                commit_and_link(session)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive(), "the second redaction should wait for the first"
        commit_and_link(first)
        first.close()
        thread.join(timeout=20)
        (result,) = results
        assert result.event is None and result.already_redacted == 5
        with Session(engine) as session:
            check = audit_chain_verify(session)
            assert check.ok and check.redacted == 5 and [r.rule for r in check.redactions] == ["closed_cases"]
    finally:
        engine.dispose()
