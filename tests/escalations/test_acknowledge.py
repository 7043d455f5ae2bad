"""Acknowledging records what was done: an outcome (required) and a note (required for no further action: why), by
whom and when, shown on the escalation's page with the time it took (in working hours and in all) and given by the
API; rows acknowledged before outcomes were asked for say "Not recorded". The page names the case's team and its
allocated worker by identity."""

from __future__ import annotations

from datetime import UTC, datetime

from app.escalations.models import Escalation
from tests.escalations.test_escalations import escalations, events, page_text, raise_by_api, reload
from tests.factories import api_headers, login, make_audit, make_case, make_user, post_form

FRIDAY_4PM = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def acknowledge(client, escalation, **form):
    return post_form(client, f"/escalations/{escalation.id}/acknowledge", form)


def test_what_was_done_is_required_and_named(client, db, people, audit):
    raise_by_api(client, audit)
    (escalation,) = escalations(db, audit)
    login(client, "manager")
    page = client.get(f"/escalations/{escalation.id}")
    for label in ("What was done?", "Strategy discussion held", "Referral made", "Already known and being acted on"):
        assert label in page_text(page.text)
    missing = acknowledge(client, escalation, note="Called the team.")
    assert missing.status_code == 400
    text = page_text(missing.text)
    assert "There is a problem" in text and "Select what was done about the concern" in text
    assert 'href="#outcome"' in missing.text and "Called the team." in missing.text  # what was typed is kept
    unknown = acknowledge(client, escalation, outcome="made_up")
    assert unknown.status_code == 400 and "Select what was done about the concern" in page_text(unknown.text)
    no_reason = acknowledge(client, escalation, outcome="no_further_action", note="  ")
    assert no_reason.status_code == 400
    assert "Enter why no further action is needed" in page_text(no_reason.text) and 'href="#note"' in no_reason.text
    assert 'value="no_further_action" checked' in no_reason.text
    assert reload(db, escalation).acknowledged_at is None and events(db, "escalation.acknowledge") == []


def test_no_further_action_with_its_reason_is_recorded_and_shown(client, db, people, audit, set_clock):
    set_clock(FRIDAY_4PM, running=False)
    raise_by_api(client, audit)
    (escalation,) = escalations(db, audit)
    set_clock(MONDAY_10AM, running=False)
    login(client, "manager")
    done = acknowledge(client, escalation, outcome="no_further_action", note="Already closed: the bruise was old.")
    assert done.status_code == 303
    escalation = reload(db, escalation)
    assert escalation.outcome == "no_further_action" and escalation.acknowledged_by_id == people.manager.id
    assert escalation.acknowledged_at == MONDAY_10AM
    text = page_text(client.get(done.headers["location"]).text)
    assert "Escalation acknowledged." in text
    assert "Acknowledged Maya Manager on 30 Nov 2026, 10:00" in text
    assert "What was done No further action" in text and "Already closed: the bruise was old." in text
    # Friday 16:00 to Monday 10:00: two working hours, 2 days 18 hours in all.
    assert "Time to acknowledge 2 working hours (2 days 18 hours in all)" in text
    assert "Acknowledge the escalation" not in text
    (event,) = events(db, "escalation.acknowledge")
    assert event.after == {"acknowledged": True, "outcome": "no_further_action", "with_note": True}
    assert "bruise" not in event.summary and "no further action" in event.summary


def test_an_escalation_acknowledged_before_outcomes_says_not_recorded(client, db, people, audit):
    old = Escalation(
        audit_id=audit.id,
        case_id=audit.case_id,
        raised_by_id=people.auditor.id,
        recipient_id=people.manager.id,
        description="Concern",
        acknowledged_at=FRIDAY_4PM,
        acknowledged_by_id=people.manager.id,
    )
    db.add(old)
    db.flush()
    login(client, "manager")
    assert "What was done Not recorded" in page_text(client.get(f"/escalations/{old.id}").text)
    found = client.get(f"/api/v1/escalations/{old.id}", headers=api_headers(client, "manager")).json()
    assert found["status"] == "acknowledged" and found["outcome"] is None and found["outcome_label"] == "Not recorded"


def test_the_page_names_the_cases_team_and_its_worker_by_identity(client, db, people, audit):
    worker = make_user(db, username="wes", roles=("practitioner",), team=people.team, full_name="Wesley Worker")
    case = make_case(db, child_id="CHILD0077", team=people.team, worker=worker, worker_name="W. Worker")
    linked = make_audit(db, case=case, auditor=people.auditor, actor=people.lead)
    raise_by_api(client, linked)
    (escalation,) = escalations(db, linked)
    raise_by_api(client, audit)  # the fixture's case: its worker is a name in the register only
    (unlinked,) = escalations(db, audit)
    login(client, "manager")
    text = page_text(client.get(f"/escalations/{escalation.id}").text)
    assert "Team Safeguarding Team 1" in text and "Allocated worker Wesley Worker" in text
    text = page_text(client.get(f"/escalations/{unlinked.id}").text)
    assert "Allocated worker Wes Worker (not linked to an account)" in text


def test_the_api_reads_and_acknowledges_with_the_outcome(client, db, people, audit):
    raise_by_api(client, audit)
    (escalation,) = escalations(db, audit)
    headers = api_headers(client, "manager")
    url = f"/api/v1/escalations/{escalation.id}"
    found = client.get(url, headers=headers)
    assert found.status_code == 200
    body = found.json()
    assert body["status"] == "open" and body["child_id"] == "CHILD0042" and body["recipient"] == "Maya Manager"
    assert body["outcome"] is None and body["chases"] == [] and body["working_hours_to_acknowledge"] is None
    assert len(events(db, "escalation.view")) == 1  # reading it is recorded, as on the page
    missing = client.post(f"{url}/acknowledge", headers=headers, json={"note": "x"})
    assert missing.status_code == 422 and "outcome" in str(missing.json())
    no_reason = client.post(f"{url}/acknowledge", headers=headers, json={"outcome": "no_further_action"})
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"] == [
        {"loc": ["body", "note"], "msg": "Enter why no further action is needed", "type": "value_error"}
    ]
    done = client.post(f"{url}/acknowledge", headers=headers, json={"outcome": "referral_made", "note": "To MASH"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "acknowledged" and body["outcome"] == "referral_made"
    assert body["outcome_label"] == "Referral made" and body["note"] == "To MASH"
    assert body["acknowledged_by"] == "Maya Manager" and body["acknowledged_at"] is not None
    assert body["working_hours_to_acknowledge"] == 0.0
    again = client.post(f"{url}/acknowledge", headers=headers, json={"outcome": "referral_made"})
    assert again.status_code == 409 and "already been acknowledged by Maya Manager" in again.text
    # Someone it does not concern is told it does not exist.
    assert client.get(url, headers=api_headers(client, "other")).status_code == 404
    refused = client.post(f"{url}/acknowledge", headers=api_headers(client, "other"), json={"outcome": "referral_made"})
    assert refused.status_code == 404


def test_the_api_lists_escalations_for_the_qa_lead_only(client, db, people, audit):
    raise_by_api(client, audit)
    lead = api_headers(client, "lead")
    listed = client.get("/api/v1/escalations?status=open", headers=lead)
    assert listed.status_code == 200 and listed.json()["total"] == 1
    assert listed.json()["items"][0]["child_id"] == "CHILD0042"
    assert client.get("/api/v1/escalations?status=closed", headers=lead).json()["total"] == 0
    assert client.get("/api/v1/escalations?status=nonsense", headers=lead).status_code == 422
    assert client.get("/api/v1/escalations", headers=api_headers(client, "manager")).status_code == 403
    first, second = events(db, "escalation.list")  # each list read is recorded, with its filter
    assert first.after == {"count": 1, "filter": {"status": "open", "page": 1}}
    assert second.after == {"count": 0, "filter": {"status": "closed", "page": 1}}
