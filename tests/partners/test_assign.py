"""Assigning a multi-agency audit's agency sections to partner representatives: the service's refusals, the API and
the QA lead's page."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.audits.partners import service
from app.audits.partners.models import SectionPartner
from app.audits.workflow.states import COMPLETED
from app.errors import Conflict, ValidationFailed
from tests.factories import api_headers, login, make_user, page_text, post_form

TODAY = date(2026, 11, 26)


def _assigned(db, audit) -> dict[str, int]:
    rows = db.execute(select(SectionPartner).where(SectionPartner.audit_id == audit.id)).scalars()
    return {row.section_key: row.partner_id for row in rows}


def _assign(db, world, section_key: str, partner):
    return service.assign_partner(
        db, audit=world["audit"], section_key=section_key, partner=partner, actor=world["lead"], today=TODAY
    )


def test_a_partner_of_the_sections_agency_with_a_current_agreement_is_assigned_with_a_trail_event(db, world):
    row = _assign(db, world, "police", world["police"])
    assert (row.section_key, row.partner_id, row.assigned_by_id) == ("police", world["police"].id, world["lead"].id)
    _assign(db, world, "police", world["police2"])  # another replaces them
    assert _assigned(db, world["audit"]) == {"police": world["police2"].id}
    actions = (
        db.execute(
            select(AuditEvent.action).where(
                AuditEvent.entity_type == "audit", AuditEvent.entity_id == str(world["audit"].id)
            )
        )
        .scalars()
        .all()
    )
    assert actions.count("audit.partner_assign") == 2
    assert service.unassign_partner(db, audit=world["audit"], section_key="police", actor=world["lead"]) is True
    assert _assigned(db, world["audit"]) == {}
    assert service.unassign_partner(db, audit=world["audit"], section_key="police", actor=world["lead"]) is False


@pytest.mark.parametrize(
    ("who", "section", "message"),
    [
        ("health", "police", "Hal Nurse represents Health, not Police"),
        ("lapsed", "police", "Old Agreement's partner agreement ended on 2026-11-25"),
        ("unsigned", "police", "No Agreement has no partner agreement on record"),
        ("auditor", "police", "Ann Auditor is not a partner agency representative"),
        ("police", "social_care", "Children's social care is not an agency section"),
        ("police", "panel_conclusion", "Panel conclusion is not an agency section"),
        ("police", "no_such_section", "'no_such_section' is not a section of the audit's template"),
    ],
)
def test_assignment_refusals_name_the_section_and_why(db, world, who, section, message):
    with pytest.raises(ValidationFailed) as refused:
        _assign(db, world, section, world[who])
    assert list(refused.value.errors) == [section]
    assert message in refused.value.errors[section]
    assert _assigned(db, world["audit"]) == {}


def test_a_deactivated_partner_is_refused(db, world):
    world["police"].active = False
    db.add(world["police"])
    db.flush()
    with pytest.raises(ValidationFailed, match="deactivated"):
        _assign(db, world, "police", world["police"])


def test_an_audit_without_agency_sections_has_no_assignments(db, world):
    assert service.section_assignments(db, audit=world["dip"]) == []
    with pytest.raises(ValidationFailed) as refused:
        service.assignments_set(db, audit=world["dip"], wanted={}, actor=world["lead"], today=TODAY)
    assert "not a multi-agency audit" in refused.value.errors["audit_id"]


def test_a_completed_audit_keeps_its_assignments(db, world):
    _assign(db, world, "police", world["police"])
    world["audit"].status = COMPLETED
    db.add(world["audit"])
    db.flush()
    with pytest.raises(Conflict):
        _assign(db, world, "police", world["police2"])
    assert _assign(db, world, "police", world["police"]).partner_id == world["police"].id  # unchanged is fine


def test_eligible_partners_are_those_of_the_agency_with_a_current_agreement(db, world):
    names = [u.full_name for u in service.eligible_partners(db, agency="police", today=TODAY)]
    assert names == ["Jo Doe", "Pat Roe"]
    assert [u.full_name for u in service.eligible_partners(db, agency="education", today=TODAY)] == []


# --- The API ------------------------------------------------------------------------------------------------------


def test_the_api_reads_and_sets_assignments(client, db, world):
    headers = api_headers(client, "lead")
    url = f"/api/v1/audits/{world['audit'].id}/partners"
    got = client.get(url, headers=headers)
    assert got.status_code == 200
    assert [(s["section_key"], s["agency"], s["partner"]) for s in got.json()["sections"]] == [
        ("police", "police", None),
        ("health", "health", None),
        ("education", "education", None),
    ]
    put = client.put(url, headers=headers, json={"police": world["police"].id, "health": world["health"].id})
    assert put.status_code == 200, put.text
    sections = {s["section_key"]: s["partner"] for s in put.json()["sections"]}
    assert sections["police"] == {"id": world["police"].id, "name": "Pat Roe"}
    assert sections["health"]["name"] == "Hal Nurse" and sections["education"] is None
    cleared = client.put(url, headers=headers, json={"health": None})
    assert {s["section_key"]: s["partner"] for s in cleared.json()["sections"]}["health"] is None


def test_the_api_refuses_every_bad_assignment_by_section_and_changes_nothing(client, db, world):
    headers = api_headers(client, "lead")
    url = f"/api/v1/audits/{world['audit'].id}/partners"
    response = client.put(
        url,
        headers=headers,
        json={"police": world["police"].id, "health": world["police2"].id, "social_care": world["police"].id},
    )
    assert response.status_code == 422
    fields = {d["loc"][-1]: d["msg"] for d in response.json()["detail"]}
    assert set(fields) == {"health", "social_care"}
    assert _assigned(db, world["audit"]) == {}
    for bad in ({"police": "x"}, {"police": 0}, [1, 2], {"police": 2**40}):
        assert client.put(url, headers=headers, json=bad).status_code == 422
    unknown = client.put(url, headers=headers, json={"police": 999_999})
    assert unknown.status_code == 422 and "Choose a partner representative" in unknown.text


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PARTNER, Role.HEAD_OF_SERVICE])
def test_only_the_qa_lead_assigns(client, db, world, role):
    until = date(2027, 1, 1) if role is Role.PARTNER else None
    make_user(db, username="someone", roles=(role,), partner_agreement_until=until)
    headers = api_headers(client, "someone")
    url = f"/api/v1/audits/{world['audit'].id}/partners"
    assert client.get(url, headers=headers).status_code == 403
    assert client.put(url, headers=headers, json={"police": world["police"].id}).status_code == 403
    assert _assigned(db, world["audit"]) == {}


def test_a_template_without_agency_sections_has_none_to_assign(client, world):
    headers = api_headers(client, "lead")
    url = f"/api/v1/audits/{world['dip'].id}/partners"
    assert client.get(url, headers=headers).json()["sections"] == []
    refused = client.put(url, headers=headers, json={"compliance": world["police"].id})
    assert refused.status_code == 422 and "not a multi-agency audit" in refused.text


# --- The page -----------------------------------------------------------------------------------------------------


def test_the_page_offers_eligible_partners_and_saves_them(client, db, world):
    login(client, "lead")
    url = f"/audits/{world['audit'].id}/partners"
    page = client.get(url)
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Pat Roe" in text and "Jo Doe" in text and "Old Agreement" not in text and "No Agreement" not in text
    saved = post_form(client, url, {"section-police": str(world["police"].id), "section-health": ""})
    assert saved.status_code == 303 and saved.headers["location"] == f"{url}?saved=1"
    assert _assigned(db, world["audit"]) == {"police": world["police"].id}
    refused = post_form(client, url, {"section-police": str(world["lapsed"].id)})
    assert refused.status_code == 400 and "partner agreement ended" in page_text(refused.text)
    garbage = post_form(client, url, {"section-police": "abc", "section-health": "1" * 30})
    assert garbage.status_code == 400 and "Choose the Police representative from the list" in page_text(garbage.text)
    assert _assigned(db, world["audit"]) == {"police": world["police"].id}
