"""The multi-agency panel meeting: recorded by the QA lead (fields named when wrong), its actions raised as
recommendations owned by each agency's representative, read by the audit's readers, every view logged."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlalchemy import func, select

from app.audit_trail.models import AuditEvent
from app.audits.partners import service
from app.audits.partners.models import PanelMeeting
from app.audits.partners.schemas import PanelIn
from app.errors import Conflict, ValidationFailed
from app.flows.panel import panel_record
from app.recommendations.models import Recommendation
from tests.factories import api_headers, login, page_text, post_form

TODAY = date(2026, 11, 26)


@pytest.fixture
def assigned(db, world):
    for key, who in (("police", "police"), ("health", "health")):
        service.assign_partner(
            db, audit=world["audit"], section_key=key, partner=world[who], actor=world["lead"], today=TODAY
        )
    return world


def _body(world, **changes):
    body = {
        "held_on": "2026-11-20",
        "attendees": [
            {"agency": "social_care", "name": "Quinn Lead"},
            {"agency": "police", "name": "DS Pat Roe"},
            {"agency": "health", "name": "Hal Nurse"},
        ],
        "conclusion": "The agencies shared information well; health were not invited to the strategy discussion.",
        "grade": "requires_improvement",
        "dissent": "Health thought the grade should be Good.",
        "actions": [
            {
                "text": "Invite health to every strategy discussion",
                "owner_id": world["police"].id,
                "due_date": "2027-01-31",
            },
            {
                "text": "Record the child's voice at every visit",
                "owner_id": world["worker"].id,
                "due_date": "2027-02-28",
            },
        ],
    }
    body.update(changes)
    return body


def _record(db, world, **changes):
    return panel_record(
        db,
        audit=world["audit"],
        data=PanelIn.model_validate(_body(world, **changes)),
        actor=world["lead"],
        settings=_settings(),
        today=TODAY,
    )


def _settings():
    from app.config import get_settings

    return get_settings()


def test_recording_the_panel_raises_its_actions_owned_by_each_agencys_representative(db, assigned):
    world = assigned
    panel = _record(db, world)
    assert (panel.held_on, panel.grade, len(panel.attendees)) == (date(2026, 11, 20), "requires_improvement", 3)
    items = {
        r.id: r
        for r in db.execute(select(Recommendation).where(Recommendation.audit_id == world["audit"].id)).scalars()
    }
    assert [(a["agency"], a["owner_id"]) for a in panel.actions] == [
        ("police", world["police"].id),
        ("social_care", world["worker"].id),
    ]
    police_item = items[panel.actions[0]["recommendation_id"]]
    assert (police_item.owner_id, police_item.section_key, police_item.due_date) == (
        world["police"].id,
        "police",
        date(2027, 1, 31),
    )
    assert police_item.status == "open" and police_item.case_id == world["case"].id
    assert items[panel.actions[1]["recommendation_id"]].section_key == "social_care"
    events = db.execute(select(AuditEvent.action).where(AuditEvent.entity_id == str(world["audit"].id))).scalars().all()
    assert "audit.panel_record" in events
    # Correcting the record keeps the actions raised and adds only new ones.
    read = panel.version
    again = _record(db, world, version=read, actions=[], grade="good")
    assert again.grade == "good" and len(again.actions) == 2 and again.version == read + 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"held_on": None}, "held_on", "Enter the date the panel met"),
        ({"held_on": "2026-11-27"}, "held_on", "must be today or in the past"),
        ({"attendees": []}, "attendees", "Add at least one attendee"),
        ({"attendees": [{"agency": "fire", "name": "A"}]}, "attendees.0.agency", "Choose attendee 1's agency"),
        ({"attendees": [{"agency": "police", "name": " "}]}, "attendees.0.name", "Enter attendee 1's name"),
        ({"conclusion": "  "}, "conclusion", "Enter the panel's agreed conclusion"),
        ({"conclusion": "x" * 10_001}, "conclusion", "10,000 characters or fewer"),
        ({"grade": None}, "grade", "Choose the grade the panel agreed"),
        ({"grade": "brilliant"}, "grade", "Choose the grade from the list"),
        ({"dissent": "x" * 10_001}, "dissent", "10,000 characters or fewer"),
    ],
)
def test_panel_problems_name_their_field(db, assigned, changes, field, message):
    with pytest.raises(ValidationFailed) as refused:
        _record(db, assigned, **changes)
    assert message in refused.value.errors[field]
    assert db.execute(select(func.count()).select_from(PanelMeeting)).scalar_one() == 0


@pytest.mark.parametrize(
    ("action", "field", "message"),
    [
        (
            {"text": "", "owner_id": "police", "due_date": "2027-01-31"},
            "actions.0.text",
            "Enter what action 1 asks for",
        ),
        (
            {"text": "Do it", "owner_id": None, "due_date": "2027-01-31"},
            "actions.0.owner_id",
            "Choose who owns action 1",
        ),
        # A partner not assigned a section of this audit cannot own its actions.
        ({"text": "Do it", "owner_id": "police2", "due_date": "2027-01-31"}, "actions.0.owner_id", "assigned"),
        (
            {"text": "Do it", "owner_id": "police", "due_date": None},
            "actions.0.due_date",
            "Enter the date action 1 is due",
        ),
        ({"text": "Do it", "owner_id": "police", "due_date": "2020-01-01"}, "actions.0.due_date", ""),
        (
            {"text": "Do it", "owner_id": "police", "due_date": "2027-01-31", "priority": "asap"},
            "actions.0.priority",
            "",
        ),
    ],
)
def test_action_problems_name_their_field(db, assigned, action, field, message):
    action = {**action, "owner_id": assigned[action["owner_id"]].id if action["owner_id"] else None}
    with pytest.raises(ValidationFailed) as refused:
        _record(db, assigned, actions=[action])
    assert message in refused.value.errors[field]
    assert db.execute(select(func.count()).select_from(Recommendation)).scalar_one() == 0


def test_a_stale_version_changes_nothing(db, assigned):
    panel = _record(db, assigned, actions=[])
    with pytest.raises(Conflict):
        _record(db, assigned, version=panel.version - 1 if panel.version > 1 else 99, grade="good")
    with pytest.raises(Conflict):
        _record(db, assigned, version=None, grade="good")


def test_an_audit_that_is_not_multi_agency_has_no_panel(db, world):
    with pytest.raises(ValidationFailed) as refused:
        panel_record(
            db, audit=world["dip"], data=PanelIn.model_validate(_body(world)), actor=world["lead"], settings=_settings()
        )
    assert "not a multi-agency audit" in refused.value.errors["audit_id"]


# --- The API and the page -----------------------------------------------------------------------------------------


def test_the_api_records_and_the_partner_reads_it_each_view_logged(client, db, assigned):
    world = assigned
    url = f"/api/v1/audits/{world['audit'].id}/panel"
    lead = api_headers(client, "lead")
    assert client.get(url, headers=lead).json() == {**client.get(url, headers=lead).json(), "recorded": False}
    bad = client.put(url, headers=lead, json={"held_on": "2026-12-25", "attendees": []})
    assert bad.status_code == 422
    assert {d["loc"][-1] for d in bad.json()["detail"]} == {"held_on", "attendees", "conclusion", "grade"}
    put = client.put(url, headers=lead, json=_body(world))
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["recorded"] is True and body["grade_label"] == "Requires improvement to be good"
    assert [(a["agency"], a["owner"]["name"]) for a in body["actions"]] == [
        ("police", "Pat Roe"),
        ("social_care", "Wes Worker"),
    ]
    partner = api_headers(client, "pc.roe")
    seen = client.get(url, headers=partner)
    assert seen.status_code == 200 and seen.json()["conclusion"].startswith("The agencies shared")
    assert client.put(url, headers=partner, json=_body(world)).status_code == 403
    views = db.execute(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "audit.panel_view", AuditEvent.actor_id == world["police"].id)
    ).scalar_one()
    assert views == 1
    stale = client.put(url, headers=lead, json=_body(world, version=body["version"] - 1, actions=[]))
    assert stale.status_code == 409
    # A partner not on this audit, and a bad id, get nothing.
    assert client.get(url, headers=api_headers(client, "pc.doe")).status_code == 404
    assert client.get(f"/api/v1/audits/{world['dip'].id}/panel", headers=lead).json()["recorded"] is False
    for junk in ({"held_on": 5}, {"attendees": "x"}, {"actions": [{"text": 1}]}, {"nope": 1}):
        assert client.put(url, headers=lead, json=junk).status_code == 422


def test_the_page_records_the_panel_and_names_what_is_wrong(client, db, assigned):
    world = assigned
    login(client, "lead")
    url = f"/audits/{world['audit'].id}/panel"
    page = client.get(url)
    assert page.status_code == 200 and "has not met on this audit yet" in page_text(page.text)
    refused = post_form(
        client,
        url,
        {
            "held_on-day": "31",
            "held_on-month": "2",
            "held_on-year": "2026",
            "attendees-0-agency": "police",
            "actions-0-text": "Do it",
        },
    )
    assert refused.status_code == 400
    text = html.unescape(page_text(refused.text))
    for message in (
        "The date the panel met must be a real date",
        "Enter attendee 1's name",
        "Enter the panel's agreed conclusion",
        "Choose the grade the panel agreed",
        "Choose who owns action 1",
    ):
        assert message in text
    assert db.execute(select(func.count()).select_from(PanelMeeting)).scalar_one() == 0
    form = {
        "held_on-day": "20",
        "held_on-month": "11",
        "held_on-year": "2026",
        "attendees-0-agency": "social_care",
        "attendees-0-name": "Quinn Lead",
        "attendees-1-agency": "police",
        "attendees-1-name": "DS Pat Roe",
        "conclusion": "Good information sharing.",
        "grade": "good",
        "actions-0-text": "Share the police log with social care",
        "actions-0-owner_id": str(world["police"].id),
        "actions-0-priority": "high",
        "actions-0-due_date-day": "31",
        "actions-0-due_date-month": "1",
        "actions-0-due_date-year": "2027",
    }
    saved = post_form(client, url, form)
    assert saved.status_code == 303, page_text(saved.text)
    shown = page_text(client.get(saved.headers["location"]).text)
    assert "Good information sharing." in shown and "Share the police log with social care" in shown
    item = db.execute(select(Recommendation).where(Recommendation.audit_id == world["audit"].id)).scalar_one()
    assert (item.owner_id, item.priority) == (world["police"].id, "high")
    stale = post_form(client, url, {**form, "version": "0"})
    assert stale.status_code == 409
    login(client, "pc.roe")
    as_partner = client.get(url)
    assert as_partner.status_code == 200 and "Good information sharing." in page_text(as_partner.text)
    assert "Save the panel record" not in as_partner.text
