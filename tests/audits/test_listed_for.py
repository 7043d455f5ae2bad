"""Which audits a list shows each person (`permissions.listed_condition`), the page and the API alike."""

from __future__ import annotations

from app.accounts.roles import Role
from app.audits.partners.models import SectionPartner
from tests.factories import (
    api_headers,
    login,
    make_audit,
    make_case,
    make_team,
    make_user,
    page_text,
    publish_templates,
)


def test_lists_show_managers_completed_audits_of_their_cases_and_partners_their_assigned_ones(client, db):
    publish_templates(db)
    ours, theirs = make_team(db, name="Ours"), make_team(db, name="Theirs", service_area="Elsewhere")
    auditor = make_user(db, username="asha", roles=(Role.AUDITOR,))
    make_user(db, username="tm", roles=(Role.TEAM_MANAGER,), team=ours)
    head = make_user(db, username="hos", roles=(Role.HEAD_OF_SERVICE,))
    head.service_area_id = ours.service_area_id
    partner = make_user(db, username="police", roles=(Role.PARTNER,), agency="police")
    audits = {
        name: make_audit(db, case=make_case(db, child_id=child, team=team), auditor=auditor, template_key=key)
        for name, child, team, key in (
            ("done", "LIST0001", ours, "dip_sample"),
            ("open", "LIST0002", ours, "dip_sample"),
            ("other", "LIST0003", theirs, "dip_sample"),
            ("multi", "LIST0004", theirs, "multi_agency"),
        )
    }
    for name in ("done", "other"):
        audits[name].status = "completed"
    db.add_all([head, *audits.values()])
    db.add(SectionPartner(audit_id=audits["multi"].id, section_key="police", partner_id=partner.id))
    db.flush()
    everything = {"LIST0001", "LIST0002", "LIST0003", "LIST0004"}
    expected = {"tm": {"LIST0001"}, "hos": {"LIST0001"}, "police": {"LIST0004"}, "asha": everything}
    for username, children in expected.items():
        listed = client.get("/api/v1/audits", headers=api_headers(client, username)).json()["items"]
        assert {a["child_id"] for a in listed} == children, username
        login(client, username)
        text = page_text(client.get("/audits").text)
        assert {c for c in everything if c in text} == children, username


def test_a_partner_with_nothing_assigned_is_told_so_not_that_nothing_is_allocated(client, db):
    make_user(db, username="police", roles=(Role.PARTNER,), agency="police")
    login(client, "police")
    text = page_text(client.get("/audits").text)
    assert "There are no audits for you to read yet." in text and "You have no audits allocated" not in text
