"""The hash-chained audit trail: appends, verification, tamper detection and the append-only database rule."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from app.audit_trail.models import AuditChainHead, AuditEvent
from app.audit_trail.service import (
    CHECKPOINT_FILE,
    GENESIS_HASH,
    audit_chain_link,
    audit_chain_verify,
    audit_checkpoint_write,
    audit_record,
    details_digest,
    event_digest,
    event_digest_v2,
)
from tests.factories import make_user

# --- event_digest: pure ----------------------------------------------------------------------

BASE_FIELDS = {
    "seq": 7,
    "occurred_at": datetime(2026, 3, 27, 9, 30, 15, 123456, tzinfo=UTC),
    "actor_id": 3,
    "actor_label": "qa.lead",
    "action": "user.update",
    "entity_type": "user",
    "entity_id": "12",
    "summary": "User asha changed",
    "before": {"roles": ["auditor"]},
    "after": {"roles": ["auditor", "moderator"]},
    "prev_hash": "a" * 64,
}


def test_event_digest_is_a_deterministic_sha256():
    digest = event_digest(**BASE_FIELDS)
    assert digest == event_digest(**dict(BASE_FIELDS))
    assert len(digest) == 64 and int(digest, 16) >= 0


def test_event_digest_format_is_pinned():
    """Changing the canonical form would make every trail already stored fail verification."""
    assert event_digest(**BASE_FIELDS) == "9460cb074c3f0d30eed7d4aab952c018b764d903c43147d1dd2f9d71b9408cfd"


def test_event_digest_ignores_key_order_inside_before_and_after():
    reordered = {**BASE_FIELDS, "after": {"b": 1, "a": 2}}
    same = {**BASE_FIELDS, "after": {"a": 2, "b": 1}}
    assert event_digest(**reordered) == event_digest(**same)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", 8),
        ("occurred_at", datetime(2026, 3, 27, 9, 30, 15, 123457, tzinfo=UTC)),
        ("actor_id", 4),
        ("actor_id", None),
        ("actor_label", "someone.else"),
        ("action", "user.deactivate"),
        ("entity_type", "team"),
        ("entity_id", "13"),
        ("summary", "User asha changed."),
        ("before", None),
        ("before", {"roles": ["moderator"]}),
        ("after", {"roles": ["auditor"]}),
        ("prev_hash", "b" * 64),
    ],
)
def test_event_digest_changes_when_any_field_changes(field, value):
    assert event_digest(**{**BASE_FIELDS, field: value}) != event_digest(**BASE_FIELDS)


# --- Recording and verifying against the database --------------------------------------------


def _events(db) -> list[AuditEvent]:
    return list(db.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())


def _head(db) -> tuple[int, str]:
    return tuple(db.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)).one())


def _allow_tampering(db) -> None:
    """Switch off the append-only triggers inside this test's transaction (rolled back afterwards)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
    else:
        db.execute(text("DROP TRIGGER audit_event_no_update"))
        db.execute(text("DROP TRIGGER audit_event_no_delete"))


def _record_three(db):
    actor = make_user(db, username="chain.actor")
    audit_chain_link(db)  # the user's own creation, into the chain first
    start_seq = _head(db)[0]
    events = [
        audit_record(
            db,
            actor=actor,
            action="test.one",
            summary="First",
            entity_type="user",
            entity_id=actor.id,
            after={"on": datetime(2026, 1, 1).date()},
        ),
        audit_record(db, actor=None, action="test.two", summary="Second", before={"x": 1}, after={"x": 2}),
        audit_record(db, actor=actor, action="test.three", summary="Third", actor_label="override"),
    ]
    assert all(e.seq is None and e.hash is None for e in events)  # recorded without taking the chain
    assert audit_chain_link(db) == 3
    return actor, start_seq, events


def test_audit_record_appends_in_sequence_linking_each_hash_to_the_one_before(db):
    _actor, start_seq, events = _record_three(db)
    all_events = _events(db)
    assert [e.seq for e in all_events] == list(range(1, len(all_events) + 1))
    assert [e.seq for e in events] == [start_seq + 1, start_seq + 2, start_seq + 3]
    assert all_events[0].prev_hash == GENESIS_HASH
    for earlier, later in itertools.pairwise(all_events):
        assert later.prev_hash == earlier.hash
    assert _head(db) == (events[-1].seq, events[-1].hash)


def test_audit_record_stores_who_did_what(db):
    actor, _, (first, second, third) = _record_three(db)
    assert (first.actor_id, first.actor_label, first.entity_id) == (actor.id, "chain.actor", str(actor.id))
    assert first.after == {"on": "2026-01-01"}  # dates stored as JSON text
    assert (second.actor_id, second.actor_label) == (None, "system")
    assert third.actor_label == "override"


def test_audit_record_truncates_an_overlong_summary_and_still_verifies(db):
    event = audit_record(db, actor=None, action="test.long", summary="x" * 900)
    assert len(event.summary) == 500
    db.expire_all()
    assert audit_chain_verify(db).ok


def test_verify_is_ok_on_an_intact_chain_read_back_from_the_database(db):
    _record_three(db)
    db.flush()
    db.expire_all()  # compare what the database returns, not the objects in memory
    check = audit_chain_verify(db)
    assert check.ok, check.problem
    assert check.checked == len(_events(db))
    assert check.problem is None and check.first_bad_seq is None


def test_the_database_refuses_to_update_an_audit_event(db):
    _, _, (first, _, _) = _record_three(db)
    db.flush()
    with pytest.raises(DatabaseError, match="append-only"):
        with db.begin_nested():
            db.execute(update(AuditEvent).where(AuditEvent.id == first.id).values(summary="Nothing happened"))
    db.expire_all()
    assert db.get(AuditEvent, first.id).summary == "First"


def test_the_database_refuses_to_delete_an_audit_event(db):
    _, _, (first, _, _) = _record_three(db)
    db.flush()
    with pytest.raises(DatabaseError, match="append-only"):
        with db.begin_nested():
            db.execute(delete(AuditEvent).where(AuditEvent.id == first.id))
    db.expire_all()
    assert db.get(AuditEvent, first.id) is not None


def test_verify_detects_a_changed_summary(db):
    _, _, (_first, second, _) = _record_three(db)
    db.flush()
    _allow_tampering(db)
    db.execute(update(AuditEvent).where(AuditEvent.id == second.id).values(summary="Something innocent"))
    db.expire_all()
    check = audit_chain_verify(db)
    assert not check.ok
    assert check.first_bad_seq == second.seq
    assert check.problem == f"event {second.seq} was changed after it was recorded"
    assert check.checked == second.seq - 1


def _rehashed(event: AuditEvent, *, prev_hash: str, summary: str) -> tuple[str, str]:
    """The details hash and hash an event would have with this summary after this hash: what someone who rewrites
    the table, and knows how the trail hashes, computes (everything but the key)."""
    details = details_digest(summary=summary, before=event.before, after=event.after)
    digest = event_digest_v2(
        seq=event.seq,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        action=event.action,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        details_hash=details,
        prev_hash=prev_hash,
    )
    return details, digest


def test_verify_detects_a_rehashed_row_by_its_seal(db):
    """Recomputing the altered row's own hashes does not help: its seal, made with a key the database does not
    hold, no longer matches."""
    _, _, (_first, second, _third) = _record_three(db)
    db.flush()
    _allow_tampering(db)
    details, digest = _rehashed(second, prev_hash=second.prev_hash, summary="Something innocent")
    db.execute(
        update(AuditEvent)
        .where(AuditEvent.id == second.id)
        .values(summary="Something innocent", details_hash=details, hash=digest)
    )
    db.expire_all()
    check = audit_chain_verify(db)
    assert not check.ok
    assert check.first_bad_seq == second.seq
    assert check.problem == f"event {second.seq} was re-written: its seal is not this service's"


def test_a_superuser_who_rehashes_the_whole_chain_is_still_caught(db):
    """Change one event, then re-hash it and every event after it and move the head: the chain is consistent
    again, but without the key the seals cannot be remade (and copying the old seals does not fit)."""
    _, _, (_first, second, _third) = _record_three(db)
    db.flush()
    _allow_tampering(db)
    events = db.execute(select(AuditEvent).where(AuditEvent.seq >= second.seq).order_by(AuditEvent.seq)).scalars()
    prev = second.prev_hash
    for event in list(events):
        summary = "Something innocent" if event.id == second.id else event.summary
        details, digest = _rehashed(event, prev_hash=prev, summary=summary)
        db.execute(
            update(AuditEvent)
            .where(AuditEvent.id == event.id)
            .values(summary=summary, prev_hash=prev, details_hash=details, hash=digest)
        )
        prev = digest
    db.execute(update(AuditChainHead).values(last_hash=prev))
    db.expire_all()
    check = audit_chain_verify(db)
    assert not check.ok and check.first_bad_seq == second.seq and "seal" in check.problem


def test_removing_a_seal_is_caught(db):
    _, _, (_first, second, _third) = _record_three(db)
    db.flush()
    _allow_tampering(db)
    db.execute(update(AuditEvent).where(AuditEvent.id == second.id).values(seal=None))
    db.expire_all()
    check = audit_chain_verify(db)
    assert not check.ok and check.problem == f"event {second.seq} has lost its seal"


def test_a_cut_tail_with_the_head_wound_back_correctly_is_caught_by_a_checkpoint(db, tmp_path):
    """Delete the newest event and set the head to the event before it, exactly: the chain alone looks intact,
    but the signed checkpoint written outside the database remembers the event that is gone."""
    _, _, (_first, second, third) = _record_three(db)
    db.flush()
    point = audit_checkpoint_write(db, directory=tmp_path)
    assert point.seq == third.seq
    assert audit_chain_verify(db, checkpoint_dir=tmp_path).checkpoints == 1
    _allow_tampering(db)
    db.execute(delete(AuditEvent).where(AuditEvent.id == third.id))
    db.execute(update(AuditChainHead).values(last_seq=second.seq, last_hash=second.hash))
    db.expire_all()
    assert audit_chain_verify(db).ok  # without the checkpoint nothing looks wrong
    check = audit_chain_verify(db, checkpoint_dir=tmp_path)
    assert not check.ok and f"reached event {third.seq}" in check.problem


def test_an_altered_or_forged_checkpoint_file_is_refused(db, tmp_path):
    _record_three(db)
    db.flush()
    audit_checkpoint_write(db, directory=tmp_path)
    path = tmp_path / CHECKPOINT_FILE
    path.write_text(path.read_text().replace('\\"seq\\":', '\\"seq\\":1'), encoding="utf-8")
    check = audit_chain_verify(db, checkpoint_dir=tmp_path)
    assert not check.ok and "checkpoint line 1" in check.problem


def test_verify_detects_a_deleted_row(db):
    _, _, (_first, second, _) = _record_three(db)
    db.flush()
    _allow_tampering(db)
    db.execute(delete(AuditEvent).where(AuditEvent.id == second.id))
    db.expire_all()
    check = audit_chain_verify(db)
    assert not check.ok
    assert check.first_bad_seq == second.seq
    assert check.problem == f"event {second.seq} is missing (found {second.seq + 1} next)"


def test_verify_detects_a_removed_tail(db):
    _, _, (_, _, third) = _record_three(db)
    db.flush()
    _allow_tampering(db)
    db.execute(delete(AuditEvent).where(AuditEvent.id == third.id))
    db.expire_all()
    check = audit_chain_verify(db)
    assert not check.ok
    assert check.first_bad_seq == third.seq
    assert "newest events were removed" in check.problem
    assert check.checked == third.seq - 1


def test_verify_detects_a_removed_tail_even_when_the_head_is_wound_back_to_a_wrong_hash(db):
    _, _, (_, second, third) = _record_three(db)
    db.flush()
    _allow_tampering(db)
    db.execute(delete(AuditEvent).where(AuditEvent.id == third.id))
    db.execute(update(AuditChainHead).values(last_seq=second.seq, last_hash="f" * 64))
    db.expire_all()
    check = audit_chain_verify(db)
    assert not check.ok and "newest events were removed" in check.problem


def test_tampering_is_rolled_back_with_the_test(db):
    """The previous tests' tampering did not leak: the shared database still refuses updates."""
    event = audit_record(db, actor=None, action="test.after", summary="After")
    db.flush()
    with pytest.raises(DatabaseError, match="append-only"):
        with db.begin_nested():
            db.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(summary="x"))
    db.expire_all()
    assert audit_chain_verify(db).ok


def test_an_unlinked_events_content_cannot_change_only_its_place_be_given(db):
    event = audit_record(db, actor=None, action="test.pending", summary="As recorded")
    db.flush()
    with pytest.raises(DatabaseError, match="append-only"):
        with db.begin_nested():
            db.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(summary="Rewritten", hash="a" * 64))
    with pytest.raises(DatabaseError, match="append-only"):
        with db.begin_nested():
            db.execute(delete(AuditEvent).where(AuditEvent.id == event.id))
    audit_chain_link(db)  # filling in its place is the one change allowed
    db.refresh(event)
    assert event.seq is not None and event.seal is not None and audit_chain_verify(db).ok


def test_recording_takes_no_lock_so_a_long_transaction_does_not_hold_up_others(pytestconfig, tmp_path):
    """One transaction records an event and stays open (a slow request); another records, commits and links at
    once instead of waiting for the first to finish. Both end up in the chain, in the order they committed."""
    import threading

    from sqlmodel import Session

    from app.cli import alembic_upgrade
    from app.db import make_engine
    from tests.conftest import fresh_database_url

    if not pytestconfig.getoption("--postgres"):
        pytest.skip("SQLite runs one writing transaction at a time whatever the trail does (BEGIN IMMEDIATE)")
    url = fresh_database_url(pytestconfig, tmp_path, "trail_lock")
    alembic_upgrade(url)
    engine = make_engine(url)
    try:
        slow = Session(engine)
        audit_record(slow, actor=None, action="test.slow", summary="A long request")
        done = threading.Event()

        def quick() -> None:
            with Session(engine) as session:
                audit_record(session, actor=None, action="test.quick", summary="A short request")
                session.commit()
                audit_chain_link(session)
                session.commit()
            done.set()

        thread = threading.Thread(target=quick)
        thread.start()
        assert done.wait(timeout=20), "the short request waited for the long one"
        slow.commit()
        audit_chain_link(slow)
        slow.commit()
        thread.join()
        with Session(engine) as session:
            chain = [e.action for e in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()]
            assert chain == ["test.quick", "test.slow"] and audit_chain_verify(session).ok
        slow.close()
    finally:
        engine.dispose()
