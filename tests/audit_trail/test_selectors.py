"""The events about a child's records, found to answer a records request and to redact them under retention."""

from __future__ import annotations

from app.audit_trail.selectors import trail_events_about, trail_events_about_child
from app.audit_trail.service import audit_chain_link, audit_chain_verify, audit_record, audit_redact


def _world(db):
    about_case = audit_record(
        db, actor=None, action="case.view", summary="Viewed case 12", entity_type="case", entity_id=12
    )
    about_audit = audit_record(
        db, actor=None, action="audit.view", summary="Viewed audit 3", entity_type="audit", entity_id=3
    )
    naming = audit_record(db, actor=None, action="case.search", summary="Searched for DEMO6900650")
    in_details = audit_record(
        db, actor=None, action="case.list", summary="Listed 1 case", after={"filter": {"q": "DEMO6900650"}}
    )
    longer = audit_record(db, actor=None, action="case.search", summary="Searched for DEMO69006501")
    percent = audit_record(db, actor=None, action="case.search", summary="Searched for DEMO%")
    other = audit_record(db, actor=None, action="case.view", summary="Viewed case 13", entity_type="case", entity_id=13)
    audit_chain_link(db)
    return {
        "case": about_case,
        "audit": about_audit,
        "naming": naming,
        "details": in_details,
        "longer": longer,
        "percent": percent,
        "other": other,
    }


def test_events_about_records_and_mentions(db):
    w = _world(db)
    found = list(db.execute(trail_events_about({"case": [12], "audit": [3]}, mention="DEMO6900650")).scalars())
    assert [e.id for e in found] == [w[k].id for k in ("case", "audit", "naming", "details", "longer")]
    assert list(db.execute(trail_events_about({"case": []})).scalars()) == []
    assert [e.id for e in db.execute(trail_events_about({}, mention="DEMO%")).scalars()] == [w["percent"].id]


def test_events_about_a_child_leave_out_a_longer_id_it_begins(db):
    w = _world(db)
    found = trail_events_about_child(db, {"case": [12], "audit": [3]}, child_id="DEMO6900650")
    assert [e.id for e in found] == [w[k].id for k in ("case", "audit", "naming", "details")]


def test_once_redacted_the_trail_no_longer_names_the_child(db):
    w = _world(db)
    found = trail_events_about_child(db, {"case": [12], "audit": [3]}, child_id="DEMO6900650")
    result = audit_redact(db, events=found, rule="closed_cases", actor=None)
    assert result.count == 4
    audit_chain_link(db)
    db.expire_all()
    assert trail_events_about_child(db, {}, child_id="DEMO6900650") == []
    still = trail_events_about_child(db, {"case": [12]}, child_id="DEMO6900650")  # the event stays, without details
    assert [(e.id, e.summary) for e in still] == [(w["case"].id, "Details removed under retention rule closed_cases")]
    check = audit_chain_verify(db)
    assert check.ok and check.redacted == 4


def test_events_about_many_children_at_once_in_chunks(db, monkeypatch):
    """A retention batch asks once for all its children; chunked statements find each child's events once."""
    import app.audit_trail.selectors as selectors

    w = _world(db)
    second = audit_record(db, actor=None, action="case.search", summary="Searched for DEMO7000001 and DEMO6900650")
    audit_chain_link(db)
    monkeypatch.setattr(selectors, "MENTIONS_PER_QUERY", 1)  # one child per statement: the chunks must add up
    found = selectors.trail_events_about_children(
        db, {"case": [12]}, child_ids=["DEMO6900650", "DEMO7000001", "DEMO6900650"]
    )
    assert [e.id for e in found] == [w[k].id for k in ("case", "naming", "details")] + [second.id]
    assert selectors.trail_events_about_children(db, {"audit": [3]}, child_ids=[]) == [w["audit"]]
