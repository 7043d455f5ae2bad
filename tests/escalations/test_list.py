"""The QA lead's list of escalations: open and closed ones (acknowledged or withdrawn), a status filter, the time each
took to acknowledge (working hours and in all), an empty state per filter, and pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.escalations.models import Escalation
from tests.escalations.test_escalations import page_text
from tests.factories import login, make_case

FRIDAY_4PM = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


def escalation(db, people, audit, child_id: str, **fields) -> Escalation:
    case = make_case(db, child_id=child_id)
    row = Escalation(
        audit_id=audit.id,
        case_id=case.id,
        raised_by_id=people.auditor.id,
        recipient_id=people.manager.id,
        description="x",
        **{"created_at": FRIDAY_4PM, **fields},
    )
    db.add(row)
    db.flush()
    return row


def rows_of(text: str) -> list[str]:
    return [child for child in ("OPEN0001", "ACKD0001", "WDRN0001") if child in text]


def test_open_and_closed_escalations_with_a_filter_and_the_time_to_acknowledge(client, db, people, audit):
    escalation(db, people, audit, "OPEN0001")
    escalation(
        db,
        people,
        audit,
        "ACKD0001",
        acknowledged_at=FRIDAY_4PM + timedelta(days=2, hours=18),  # Monday 10:00
        acknowledged_by_id=people.manager.id,
        outcome="referral_made",
    )
    escalation(
        db,
        people,
        audit,
        "WDRN0001",
        withdrawn_at=FRIDAY_4PM + timedelta(minutes=30),
        withdrawn_by_id=people.auditor.id,
        withdrawn_reason="Mistake",
    )
    login(client, "lead")
    everything = page_text(client.get("/escalations").text)
    assert rows_of(everything) == ["OPEN0001", "ACKD0001", "WDRN0001"]
    assert "Time to acknowledge" in everything
    assert "OPEN0001 (escalation" in everything and "Waiting for acknowledgement Not yet" in everything
    assert "Acknowledged 2 working hours 2 days 18 hours in all" in everything
    assert "Withdrawn Not needed" in everything  # the status, and no time to acknowledge
    for status, expected in (
        ("open", ["OPEN0001"]),
        ("closed", ["ACKD0001", "WDRN0001"]),
        ("acknowledged", ["ACKD0001"]),
        ("withdrawn", ["WDRN0001"]),
    ):
        page = client.get(f"/escalations?status={status}")
        assert rows_of(page_text(page.text)) == expected, status
        assert f'<option value="{status}" selected>' in page.text
    # htmx asks for the results only.
    fragment = client.get("/escalations?status=closed", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in fragment.text and rows_of(page_text(fragment.text)) == ["ACKD0001", "WDRN0001"]


def test_an_empty_filter_says_so(client, db, people, audit):
    escalation(db, people, audit, "OPEN0001")
    login(client, "lead")
    assert "No escalations with this status." in page_text(client.get("/escalations?status=withdrawn").text)
