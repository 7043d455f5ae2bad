"""The QA lead's audit trail page: newest first, filters, and the tamper check."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from app.accounts.auth import SESSION, token_issue
from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.audit_trail.service import audit_chain_link, audit_record
from app.web.auth import SESSION_COOKIE
from tests.conftest import TEST_NOW
from tests.factories import login, make_user, page_text, post_form


@pytest.fixture
def lead(client, db) -> User:
    user = make_user(db, username="lead", roles=(Role.QA_LEAD,), full_name="Quinn Lead")
    raw, _ = token_issue(db, user=user, kind=SESSION, lifetime=timedelta(hours=1))
    client.cookies.set(SESSION_COOKIE, raw)
    return user


def rows(html: str) -> list[list[str]]:
    """The audit table's rows as lists of cell texts (No., When, Who, Action, Record, What)."""
    body = re.search(r'<tbody class="govuk-table__body">(.*?)</tbody>', html, flags=re.S)
    if body is None:
        return []
    return [
        [page_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), flags=re.S)
    ]


def actions(html: str) -> list[str]:
    return [row[3] for row in rows(html)]


def today_in(client) -> str:
    return client.app.state.settings.today().isoformat()


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/audit-trail", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/audit-trail"


@pytest.mark.parametrize("roles", [(Role.AUDITOR,), (Role.HEAD_OF_SERVICE, Role.MODERATOR), (Role.VIEWER,)])
def test_only_the_qa_lead_may_see_or_check_the_trail(client, db, roles):
    make_user(db, username="someone", roles=roles)
    login(client, "someone")
    assert client.get("/audit-trail").status_code == 403
    response = post_form(client, "/audit-trail/verify")
    assert response.status_code == 403
    verified = db.execute(select(AuditEvent).where(AuditEvent.action == "audit_trail.verify")).first()
    assert verified is None


def test_events_are_listed_newest_first_with_who_did_what(client, db, lead):
    audit_record(db, actor=lead, action="test.first", summary="The first thing")
    audit_record(
        db,
        actor=None,
        action="test.second",
        summary="The second thing",
        entity_type="team",
        entity_id=7,
        before={"name": "Old"},
        after={"name": "New"},
    )
    audit_chain_link(db)  # as the request that recorded them does once it has committed
    response = client.get("/audit-trail")
    assert response.status_code == 200
    table = rows(response.text)
    assert [row[3] for row in table[:2]] == ["test.second", "test.first"]
    seqs = [int(row[0]) for row in table]
    assert seqs == sorted(seqs, reverse=True)
    newest, older = table[0], table[1]
    assert newest[2] == "system" and newest[4] == "team 7"
    assert newest[5].startswith("The second thing")
    assert 'Before: {"name": "Old"}' in newest[5] and 'After: {"name": "New"}' in newest[5]
    assert older[2] == "lead"
    assert f"Showing 1 to {len(table)} of {len(table)} events" in page_text(response.text)


def test_filter_by_action(client, db, lead):
    audit_record(db, actor=lead, action="test.keep", summary="Keep me")
    audit_record(db, actor=lead, action="test.drop", summary="Not me")
    response = client.get("/audit-trail?action=test.keep")
    assert actions(response.text) == ["test.keep"]
    assert re.search(r'value="test.keep"\s+selected', response.text)
    # The action list offers every action recorded so far.
    assert '<option value="test.drop">' in response.text


def test_filter_by_actor_ignores_case_and_spaces(client, db, lead):
    other = make_user(db, username="asha")
    audit_record(db, actor=other, action="test.by_asha", summary="Asha did it")
    audit_record(db, actor=lead, action="test.by_lead", summary="Lead did it")
    assert actions(client.get("/audit-trail?actor=%20ASHA%20").text) == ["test.by_asha"]
    assert "test.by_asha" not in actions(client.get("/audit-trail?actor=lead").text)


def test_filter_by_record(client, db, lead):
    audit_record(db, actor=lead, action="test.user5", summary="About user 5", entity_type="user", entity_id=5)
    audit_record(db, actor=lead, action="test.user6", summary="About user 6", entity_type="user", entity_id=6)
    assert actions(client.get("/audit-trail?entity_type=user&entity_id=5").text) == ["test.user5"]


def test_filter_by_dates(client, db, lead):
    audit_record(db, actor=lead, action="test.today", summary="Today")
    today = today_in(client)
    assert "test.today" in actions(client.get(f"/audit-trail?date_from={today}&date_to={today}").text)
    tomorrow = (datetime.fromisoformat(today) + timedelta(days=1)).date().isoformat()
    yesterday = (datetime.fromisoformat(today) - timedelta(days=1)).date().isoformat()
    later = client.get(f"/audit-trail?date_from={tomorrow}")
    assert actions(later.text) == []
    assert "No events match these filters." in page_text(later.text)
    assert actions(client.get(f"/audit-trail?date_to={yesterday}").text) == []


@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("value", ["2026-02-31", "27/03/2026", "yesterday"])
def test_bad_date_shows_a_message_not_an_error_page(client, db, lead, field, value):
    audit_record(db, actor=lead, action="test.visible", summary="Still listed")
    response = client.get("/audit-trail", params={field: value})
    assert response.status_code == 200
    text = page_text(response.text)
    assert "There is a problem" in text
    assert "Enter a real date in the format YYYY-MM-DD" in text
    assert f'href="#{field}"' in response.text
    assert f'value="{value}"' in response.text  # what was typed is kept
    assert "test.visible" in actions(response.text)


def test_the_trail_pages_through_50_events_at_a_time(client, db, lead):
    for n in range(60):
        audit_record(db, actor=lead, action="test.many", summary=f"Event {n}")
    first = client.get("/audit-trail?action=test.many")
    assert "Showing 1 to 50 of 60 events" in page_text(first.text)
    assert rows(first.text)[0][5] == "Event 59"
    second = client.get("/audit-trail?action=test.many&page=2")
    assert "Showing 51 to 60 of 60 events" in page_text(second.text)
    assert rows(second.text)[-1][5] == "Event 0"


@pytest.mark.parametrize("page", ["99", str(10**20)])
def test_a_page_past_the_end_shows_the_last_page(client, db, lead, page):
    for n in range(3):
        audit_record(db, actor=lead, action="test.few", summary=f"Event {n}")
    response = client.get(f"/audit-trail?action=test.few&page={page}")
    assert response.status_code == 200
    assert "Showing 1 to 3 of 3 events" in page_text(response.text)
    assert [row[5] for row in rows(response.text)] == ["Event 2", "Event 1", "Event 0"]


def test_verify_reports_an_intact_trail_and_is_itself_recorded(client, db, lead):
    audit_record(db, actor=lead, action="test.something", summary="Something")
    count = len(db.execute(select(AuditEvent.id)).all())
    response = post_form(client, "/audit-trail/verify")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "The audit trail is intact" in text
    assert f"{count} events checked" in text
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "audit_trail.verify")).scalar_one()
    assert (event.actor_id, event.actor_label) == (lead.id, "lead")
    assert event.after == {"ok": True, "checked": count, "problem": None}
    assert "intact" in event.summary
    # Checking again includes the first check's own event, and is still intact.
    again = page_text(post_form(client, "/audit-trail/verify").text)
    assert f"{count + 1} events checked" in again


def test_verify_reports_where_the_trail_was_altered(client, db, lead):
    audit_record(db, actor=lead, action="test.before", summary="Before")
    target = audit_record(db, actor=lead, action="test.target", summary="Original wording")
    audit_record(db, actor=lead, action="test.after", summary="After")
    audit_chain_link(db)  # as the request that recorded them does once it has committed
    db.flush()
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
    else:
        db.execute(text("DROP TRIGGER audit_event_no_update"))
    db.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(summary="Softer wording"))
    db.expire_all()
    response = post_form(client, "/audit-trail/verify")
    assert response.status_code == 200
    text_ = page_text(response.text)
    assert "The audit trail has been altered" in text_
    assert "The audit trail is intact" not in text_
    assert (
        f"Problem found at event {target.seq}: event {target.seq} was changed after it was recorded. "
        "Tell your information governance lead."
    ) in text_
    assert f"{target.seq - 1} events before it are intact." in text_
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "audit_trail.verify")).scalar_one()
    assert event.actor_id == lead.id
    assert event.after["ok"] is False and "BROKEN" in event.summary


def test_verify_needs_the_csrf_token(client, db, lead):
    client.get("/audit-trail")
    assert client.post("/audit-trail/verify").status_code == 403
    assert db.execute(select(AuditEvent).where(AuditEvent.action == "audit_trail.verify")).first() is None


def test_htmx_filter_request_gets_only_the_results(client, db, lead):
    audit_record(db, actor=lead, action="test.htmx", summary="Fragment")
    response = client.get("/audit-trail?action=test.htmx", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "test.htmx" in response.text
    assert "<h1" not in response.text and "<html" not in response.text


def test_a_redacted_event_is_shown_as_removed_with_the_date_and_rule(client, db, lead, set_clock):
    from datetime import UTC

    from app.audit_trail.service import audit_redact

    kept = audit_record(db, actor=lead, action="case.view", summary="Viewed the case of child KEEP0001")
    gone = audit_record(
        db, actor=lead, action="case.view", summary="Viewed the case of child GONE0001", after={"child": "GONE0001"}
    )
    audit_chain_link(db)
    set_clock(datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
    audit_redact(db, events=[gone], rule="closed_cases", actor=None)
    audit_chain_link(db)
    set_clock(TEST_NOW)  # the lead's session, issued then, is still valid
    response = client.get("/audit-trail?action=case.view")
    assert response.status_code == 200
    assert "GONE0001" not in response.text
    what = {row[0]: row[5] for row in rows(response.text)}
    assert what[str(gone.seq)] == "Details removed on 6 Dec 2026 under retention rule closed_cases"
    assert what[str(kept.seq)] == "Viewed the case of child KEEP0001"
    assert '<strong class="govuk-tag govuk-tag--grey">Details removed</strong>' in response.text
    redaction = rows(client.get("/audit-trail?action=audit_trail.redact").text)
    assert [row[5] for row in redaction] == [
        f"Removed the details of 1 event under rule closed_cases Details of event {gone.seq + 1} "
        f'After: {{"events": [{gone.seq}], "rule": "closed_cases"}}'
    ]


def test_verify_lists_the_redactions_by_day_and_rule(client, db, lead, set_clock):
    from datetime import UTC

    from app.audit_trail.service import audit_redact

    events = [audit_record(db, actor=lead, action="case.view", summary=f"Viewed child C{i}") for i in range(3)]
    audit_chain_link(db)
    set_clock(datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
    audit_redact(db, events=events[:2], rule="closed_cases", actor=None)
    set_clock(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
    audit_redact(db, events=events[2:], rule="trail_details", actor=None)
    audit_chain_link(db)
    set_clock(TEST_NOW)  # the lead's session, issued then, is still valid
    text_ = page_text(post_form(client, "/audit-trail/verify").text)
    assert "The audit trail is intact" in text_
    assert "The details of 3 events were removed, each by a redaction recorded in the trail." in text_
    assert "6 December 2026: 2 events under rule closed_cases" in text_
    assert "7 December 2026: 1 event under rule trail_details" in text_
