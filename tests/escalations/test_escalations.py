"""Safeguarding escalation: a Yes is kept as a draft until it has a description and someone to tell, is raised the
moment it is complete (never waiting for submission), once per audit, shows on the home pages until acknowledged,
and every step is in the audit trail."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.audits.models import AuditAnswer
from app.escalations import selectors
from app.escalations.models import Escalation
from tests.factories import (
    api_headers,
    csrf_token,
    login,
    make_audit,
    make_case,
    make_team,
    make_user,
    post_form,
)
from tests.factories import page_text as _page_text

SAFEGUARDING = "immediate_safeguarding_concern"
EXPLANATION = "immediate_safeguarding_concern__explanation"
CONCERN = "Bruising seen on the file photo.\nTold Maya Manager by phone at 14:10."


def page_text(markup: str) -> str:
    return html.unescape(_page_text(markup))


def escalations(db, audit) -> list[Escalation]:
    db.expire_all()
    return selectors.escalations_for_audit(db, audit_id=audit.id)


def reload(db, escalation: Escalation) -> Escalation:
    db.expire_all()
    found = db.get(Escalation, escalation.id)
    assert found is not None
    return found


def stored(db, audit) -> dict:
    rows = db.execute(select(AuditAnswer).where(AuditAnswer.audit_id == audit.id)).scalars()
    return {row.question_key: row.value for row in rows if row.value is not None}


def events(db, action: str) -> list[AuditEvent]:
    return list(db.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).scalars())


def put_answers(client, audit, headers, answers: dict, **extra):
    version = client.get(f"/api/v1/audits/{audit.id}", headers=headers).json()["version"]
    return client.put(
        f"/api/v1/audits/{audit.id}/answers", headers=headers, json={"version": version, "answers": answers, **extra}
    )


def save_section(client, db, audit, answers: dict, *, recipient: str | None = None):
    """ "Save and continue" on the safeguarding section, as a browser without JavaScript sends it."""
    db.refresh(audit)
    data = {**answers, "_shown": list(answers), "_version": str(audit.version)}
    if recipient is not None:
        data["_escalation_recipient_id"] = recipient
    return post_form(client, f"/audits/{audit.id}/sections/safeguarding", data)


def raise_by_api(client, audit, headers=None, **extra):
    headers = headers or api_headers(client, "auditor")
    response = put_answers(client, audit, headers, {SAFEGUARDING: "yes", EXPLANATION: CONCERN}, **extra)
    assert response.status_code == 200, response.text
    return response


# --- Raising: the API ----------------------------------------------------------------------------


DRAFT = "Concern started, not yet sent: nobody has been told yet."


def test_api_yes_without_a_description_is_kept_as_a_draft_and_raised_once_described(client, db, people, audit):
    headers = api_headers(client, "auditor")
    response = put_answers(client, audit, headers, {SAFEGUARDING: "yes", "chronology_up_to_date": "yes"})
    assert response.status_code == 200, response.text
    assert stored(db, audit) == {SAFEGUARDING: "yes", "chronology_up_to_date": "yes"}  # nothing thrown away
    assert escalations(db, audit) == []
    login(client, "auditor")
    page = page_text(client.get(f"/audits/{audit.id}/sections/safeguarding").text)
    assert DRAFT in page and "To send it, describe the concern; it is sent the moment you have." in page
    # Submitting still needs the description.
    version = client.get(f"/api/v1/audits/{audit.id}", headers=headers).json()["version"]
    refused = client.post(f"/api/v1/audits/{audit.id}/submit", headers=headers, json={"version": version})
    assert refused.status_code == 422 and EXPLANATION in refused.json()["errors"]
    described = put_answers(client, audit, headers, {EXPLANATION: CONCERN})
    assert described.status_code == 200
    (escalation,) = escalations(db, audit)
    assert escalation.recipient_id == people.manager.id and escalation.description == CONCERN
    assert DRAFT not in page_text(client.get(f"/audits/{audit.id}/sections/safeguarding").text)


def test_api_yes_without_a_recipient_is_a_draft_until_someone_is_chosen(client, db, people, audit):
    case = make_case(
        db,
        child_id="NOMGR001",
        team=make_team(db, name="No manager", service_area="Safeguarding"),
        manager_name="Nobody We Know",
    )
    audit = make_audit(db, case=case, auditor=people.auditor, actor=people.lead)
    headers = api_headers(client, "auditor")
    response = put_answers(client, audit, headers, {SAFEGUARDING: "yes", EXPLANATION: CONCERN})
    assert response.status_code == 200, response.text
    assert stored(db, audit) == {SAFEGUARDING: "yes", EXPLANATION: CONCERN} and escalations(db, audit) == []
    version = client.get(f"/api/v1/audits/{audit.id}", headers=headers).json()["version"]
    refused = client.post(f"/api/v1/audits/{audit.id}/submit", headers=headers, json={"version": version})
    assert refused.status_code == 422
    assert refused.json()["errors"]["escalation_recipient_id"] == (
        "The safeguarding concern has not been sent: select who must be told"
    )
    # Someone who may not be told (an auditor only) is refused by name, and that save stores nothing.
    wrong = put_answers(
        client,
        audit,
        headers,
        {"chronology_up_to_date": "yes", SAFEGUARDING: "yes"},
        escalation_recipient_id=people.auditor.id,
    )
    assert wrong.status_code == 422 and "escalation_recipient_id" in wrong.json()["errors"]
    assert "chronology_up_to_date" not in stored(db, audit) and escalations(db, audit) == []
    chosen = put_answers(client, audit, headers, {}, escalation_recipient_id=people.hos.id)
    assert chosen.status_code == 200, chosen.text
    (escalation,) = escalations(db, audit)
    assert escalation.recipient_id == people.hos.id and escalation.description == CONCERN


def test_api_yes_raises_an_escalation_to_the_team_manager_at_once(client, db, people, audit):
    response = raise_by_api(client, audit)
    assert response.json()["status"] == "in_progress"  # not submitted: the escalation does not wait
    (escalation,) = escalations(db, audit)
    assert escalation.recipient_id == people.manager.id  # matched despite spacing and case
    assert escalation.raised_by_id == people.auditor.id
    assert escalation.description == CONCERN and escalation.acknowledged_at is None
    (event,) = events(db, "escalation.raise")
    assert event.entity_id == str(escalation.id) and event.actor_id == people.auditor.id
    assert "Maya Manager" in event.summary and "CHILD0042" in event.summary
    assert "Bruising" not in event.summary and "Bruising" not in str(event.after)  # case detail stays out


def test_saving_again_never_duplicates_and_a_new_description_updates_only_the_description(client, db, people, audit):
    headers = api_headers(client, "auditor")
    raise_by_api(client, audit, headers)
    assert put_answers(client, audit, headers, {"chronology_up_to_date": "yes"}).status_code == 200
    raise_by_api(client, audit, headers)  # the same Yes sent again
    changed = put_answers(
        client,
        audit,
        headers,
        {EXPLANATION: "Told Maya Manager at 14:10 and 16:00."},
        escalation_recipient_id=people.hos.id,
    )
    assert changed.status_code == 200
    (escalation,) = escalations(db, audit)
    assert escalation.description == "Told Maya Manager at 14:10 and 16:00."
    assert escalation.recipient_id == people.manager.id  # nothing else changes
    assert len(events(db, "escalation.raise")) == 1 and len(events(db, "escalation.describe")) == 1
    # Clearing the description while the answer is Yes is kept (a draft answer); the escalation keeps what it was told.
    cleared = put_answers(client, audit, headers, {EXPLANATION: ""})
    assert cleared.status_code == 200 and EXPLANATION not in stored(db, audit)
    assert reload(db, escalation).description == "Told Maya Manager at 14:10 and 16:00."


def test_changing_the_answer_from_yes_withdraws_the_open_escalation_with_a_reason(client, db, people, audit):
    headers = api_headers(client, "auditor")
    raise_by_api(client, audit, headers)
    refused = put_answers(client, audit, headers, {SAFEGUARDING: "no", "chronology_up_to_date": "yes"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {
        "withdrawal_reason": "Enter why you are withdrawing the safeguarding concern (the reason for changing the "
        "answer from Yes)"
    }
    assert stored(db, audit)[SAFEGUARDING] == "yes" and "chronology_up_to_date" not in stored(db, audit)
    (escalation,) = escalations(db, audit)
    assert escalation.withdrawn_at is None
    withdrawn = put_answers(
        client, audit, headers, {SAFEGUARDING: "no"}, withdrawal_reason="Misread the file: the bruise was old."
    )
    assert withdrawn.status_code == 200, withdrawn.text
    escalation = reload(db, escalation)
    assert escalation.withdrawn_at is not None and escalation.withdrawn_by_id == people.auditor.id
    assert escalation.withdrawn_reason == "Misread the file: the bruise was old."
    assert escalation.acknowledged_at is None
    (event,) = events(db, "escalation.withdraw")
    assert event.entity_id == str(escalation.id) and "changed from Yes to No" in event.summary
    assert "bruise" not in event.summary and "bruise" not in str(event.after)  # the reason stays on the escalation
    # Back to Yes: a new escalation (the withdrawn one stands as it was).
    raise_by_api(client, audit, headers)
    assert len(escalations(db, audit)) == 2


def test_after_acknowledgement_the_same_yes_is_not_raised_again_but_a_new_yes_is(client, db, people, audit):
    headers = api_headers(client, "auditor")
    raise_by_api(client, audit, headers)
    (first,) = escalations(db, audit)
    login(client, "manager")
    assert post_form(client, f"/escalations/{first.id}/acknowledge", {"outcome": "referral_made"}).status_code == 303
    raise_by_api(client, audit, headers)
    assert len(escalations(db, audit)) == 1
    assert put_answers(client, audit, headers, {SAFEGUARDING: "no"}).status_code == 200
    raise_by_api(client, audit, headers)
    assert len(escalations(db, audit)) == 2


# --- Raising: the form ----------------------------------------------------------------------------


def test_form_yes_without_a_description_is_kept_and_the_page_says_nobody_has_been_told(client, db, people, audit):
    login(client, "auditor")
    response = save_section(client, db, audit, {SAFEGUARDING: "yes", "comments": "Some comment"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/audits/{audit.id}/sections/safeguarding#escalation-part"
    assert stored(db, audit) == {SAFEGUARDING: "yes", "comments": "Some comment"} and escalations(db, audit) == []
    page = client.get(f"/audits/{audit.id}/sections/safeguarding")
    text = page_text(page.text)
    assert DRAFT in text and "describe the concern" in text
    # The description box and "Who must be told" are on the page, the team manager chosen, the answers kept.
    assert f'name="{EXPLANATION}"' in page.text and "Who must be told" in text
    assert re.search(rf'<option value="{people.manager.id}" selected>Maya Manager \(team manager\)</option>', page.text)
    assert re.search(r'value="yes" checked', page.text) and "Some comment" in page.text


def test_form_yes_with_a_description_raises_to_the_team_manager(client, db, people, audit):
    login(client, "auditor")
    response = save_section(
        client, db, audit, {SAFEGUARDING: "yes", EXPLANATION: CONCERN}, recipient=str(people.manager.id)
    )
    assert response.status_code == 303, page_text(response.text)[:600]
    (escalation,) = escalations(db, audit)
    assert escalation.recipient_id == people.manager.id
    section = client.get(f"/audits/{audit.id}/sections/safeguarding")
    text = page_text(section.text)
    assert "Escalated to Maya Manager" in text and "They have not acknowledged it yet" in text
    assert "Who must be told" not in text  # nobody to choose: it is raised


def test_form_without_a_team_manager_makes_the_auditor_choose(client, db, people, audit):
    case = make_case(
        db, child_id="NOMGR002", team=make_team(db, name="No manager", service_area="Safeguarding"), manager_name=None
    )
    audit = make_audit(db, case=case, auditor=people.auditor, actor=people.lead)
    login(client, "auditor")
    response = save_section(client, db, audit, {SAFEGUARDING: "yes", EXPLANATION: CONCERN}, recipient="")
    assert response.status_code == 303  # kept as a draft, back to the section
    page = client.get(response.headers["location"])
    text = page_text(page.text)
    assert DRAFT in text and "To send it, choose who must be told" in text
    assert 'id="escalation_recipient_id"' in page.text
    assert "Choose a person" in text and "team manager is not a user of this service" in text
    # Who may be told: practitioners, heads of service and QA leads who are active; not an auditor only.
    for name in ("Hana Head", "Maya Manager", "Otto Other", "Quinn Lead"):
        assert name in text
    assert "Asha Auditor" not in text.replace("Signed in as Asha Auditor", "")
    assert stored(db, audit) == {SAFEGUARDING: "yes", EXPLANATION: CONCERN} and escalations(db, audit) == []
    response = save_section(
        client, db, audit, {SAFEGUARDING: "yes", EXPLANATION: CONCERN}, recipient=str(people.hos.id)
    )
    assert response.status_code == 303
    (escalation,) = escalations(db, audit)
    assert escalation.recipient_id == people.hos.id


def test_autosave_shows_the_description_and_recipient_then_raises(client, db, people, audit):
    login(client, "auditor")
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf_token(client)}
    first = client.post(
        f"/audits/{audit.id}/sections/safeguarding/autosave",
        headers=headers,
        data={"_version": "1", "_shown": [SAFEGUARDING, "comments"], SAFEGUARDING: "yes"},
    )
    assert first.status_code == 200
    assert "Saved at 12:00" in page_text(first.text) and DRAFT in page_text(first.text)
    assert (
        f'id="question-{EXPLANATION}" class="app-question" data-question="{EXPLANATION}" hx-swap-oob="true"'
        in first.text
    )
    assert 'name="_escalation_recipient_id"' in first.text
    assert stored(db, audit) == {SAFEGUARDING: "yes"} and escalations(db, audit) == []
    second = client.post(
        f"/audits/{audit.id}/sections/safeguarding/autosave",
        headers=headers,
        data={
            "_version": "2",
            "_shown": [SAFEGUARDING, EXPLANATION, "comments"],
            SAFEGUARDING: "yes",
            EXPLANATION: CONCERN,
            "_escalation_recipient_id": str(people.manager.id),
            "_errored": EXPLANATION,
        },
    )
    assert second.status_code == 200, page_text(second.text)
    assert "Escalated to Maya Manager" in page_text(second.text)
    (escalation,) = escalations(db, audit)
    assert escalation.recipient_id == people.manager.id and escalation.description == CONCERN
    assert stored(db, audit)[SAFEGUARDING] == "yes"


# --- Acknowledging, pages and banners ------------------------------------------------------------


@pytest.fixture
def raised(client, db, audit) -> Escalation:
    raise_by_api(client, audit)
    (escalation,) = escalations(db, audit)
    return escalation


def _banner(client) -> str:
    text = page_text(client.get("/").text)
    match = re.search(r"Important (.*?) Case file audit Welcome", text)
    return match.group(1) if match else ""


def test_banner_on_the_recipients_and_qa_leads_home_pages_until_acknowledged(client, db, people, raised):
    for username in ("manager", "lead"):
        login(client, username)
        home = client.get("/")
        banner = _banner(client)
        assert "1 safeguarding escalation waiting to be acknowledged" in banner, username
        assert "Child CHILD0042: raised by Asha Auditor" in banner
        assert f'href="/escalations/{raised.id}"' in home.text
        assert "govuk-notification-banner" in home.text and "govuk-notification-banner--success" not in home.text
    for username in ("other", "hos", "auditor"):
        login(client, username)
        assert _banner(client) == "", username
    login(client, "manager")
    acknowledged = {"outcome": "strategy_discussion", "note": "Visited today."}
    assert post_form(client, f"/escalations/{raised.id}/acknowledge", acknowledged).status_code == 303
    for username in ("manager", "lead"):
        login(client, username)
        assert _banner(client) == ""
        assert "safeguarding escalation" not in page_text(client.get("/").text)


def test_escalation_page_shows_the_concern_and_records_the_view(client, db, people, raised):
    login(client, "manager")
    response = client.get(f"/escalations/{raised.id}")
    assert response.status_code == 200
    text = page_text(response.text)
    for expected in (
        "CHILD0042",
        "Dip sample compliance checklist, audit",
        "Asha Auditor",
        "Maya Manager",
        "Bruising seen on the file photo.",
        "Told Maya Manager by phone at 14:10.",
        "Waiting for acknowledgement",
        "Acknowledge",
    ):
        assert expected in text, expected
    assert "Bruising seen on the file photo.<br>Told" in response.text  # line breaks kept
    (event,) = events(db, "escalation.view")
    assert event.actor_id == people.manager.id and event.entity_id == str(raised.id)


def test_only_the_recipient_or_the_qa_lead_may_see_or_acknowledge(client, db, people, raised):
    for username in ("other", "hos", "auditor"):
        login(client, username)
        assert client.get(f"/escalations/{raised.id}").status_code == 404, username
        refused = post_form(client, f"/escalations/{raised.id}/acknowledge", {"outcome": "referral_made"})
        assert refused.status_code == 404, username
    assert events(db, "escalation.view") == [] and reload(db, raised).acknowledged_at is None
    assert client.get("/escalations/999999").status_code == 404
    login(client, "lead")
    response = post_form(
        client, f"/escalations/{raised.id}/acknowledge", {"outcome": "already_known", "note": "Spoke to Maya."}
    )
    assert response.status_code == 303
    escalation = reload(db, raised)
    assert escalation.acknowledged_by_id == people.lead.id and escalation.acknowledgement_note == "Spoke to Maya."


def test_acknowledging_twice_is_a_friendly_conflict(client, db, people, raised):
    login(client, "manager")
    first = post_form(client, f"/escalations/{raised.id}/acknowledge", {"outcome": "referral_made", "note": "On it."})
    assert first.status_code == 303 and first.headers["location"] == f"/escalations/{raised.id}?acknowledged=1"
    shown = page_text(client.get(first.headers["location"]).text)
    assert "Escalation acknowledged." in shown and "Maya Manager on" in shown and "On it." in shown
    again = post_form(client, f"/escalations/{raised.id}/acknowledge", {"outcome": "referral_made", "note": "Again"})
    assert again.status_code == 409
    assert "already been acknowledged by Maya Manager" in page_text(again.text)
    escalation = reload(db, raised)
    assert escalation.acknowledgement_note == "On it."
    (event,) = events(db, "escalation.acknowledge")
    assert event.actor_id == people.manager.id and "On it" not in str(event.after)


def test_a_note_that_is_too_long_is_refused_naming_the_field(client, db, raised):
    login(client, "manager")
    response = post_form(
        client, f"/escalations/{raised.id}/acknowledge", {"outcome": "referral_made", "note": "x" * 2001}
    )
    assert response.status_code == 400
    text = page_text(response.text)
    assert "There is a problem" in text and "The note must be 2,000 characters or fewer" in text
    assert 'href="#note"' in response.text
    assert reload(db, raised).acknowledged_at is None


def test_acknowledging_without_the_csrf_token_is_refused(client, db, raised):
    login(client, "manager")
    response = client.post(
        f"/escalations/{raised.id}/acknowledge", data={"outcome": "referral_made"}, follow_redirects=False
    )
    assert response.status_code == 403 and "could not be sent" in page_text(response.text)
    assert reload(db, raised).acknowledged_at is None


def test_qa_lead_list_filters_pages_and_says_when_empty(client, db, people, audit):
    login(client, "lead")
    empty = page_text(client.get("/escalations").text)
    assert "No safeguarding escalations have been raised." in empty
    cases = [make_case(db, child_id=f"LIST{n:04d}") for n in range(27)]
    for n, case in enumerate(cases):
        db.add(
            Escalation(
                audit_id=audit.id,
                case_id=case.id,
                raised_by_id=people.auditor.id,
                recipient_id=people.manager.id,
                description="x",
                acknowledged_by_id=people.lead.id if n < 2 else None,
                acknowledged_at=audit.created_at if n < 2 else None,
            )
        )
    db.flush()
    first = page_text(client.get("/escalations").text)
    assert "Showing 1 to 25 of 27 escalations" in first
    second = page_text(client.get("/escalations?page=2").text)
    assert "Showing 26 to 27 of 27 escalations" in second
    acknowledged = page_text(client.get("/escalations?status=acknowledged").text)
    assert "Showing 1 to 2 of 2 escalations" in acknowledged and "LIST0000" in acknowledged
    assert "LIST0005" not in acknowledged
    open_ = page_text(client.get("/escalations?status=open").text)
    assert "of 25 escalations" in open_ and "LIST0000" not in open_
    assert page_text(client.get("/escalations?status=nonsense&page=abc").text).count("Showing 1 to 25 of 27") == 1
    login(client, "manager")
    assert client.get("/escalations").status_code == 403


def test_nav_shows_escalations_to_the_qa_lead_only(client, people):
    login(client, "lead")
    assert 'href="/escalations"' in client.get("/").text
    login(client, "manager")
    assert 'href="/escalations"' not in client.get("/").text


def test_open_escalations_for_and_escalations_for_audit(db, people, raised, audit):
    assert [e.id for e in selectors.open_escalations_for(db, user=people.lead)] == [raised.id]
    assert [e.id for e in selectors.open_escalations_for(db, user=people.manager)] == [raised.id]
    assert selectors.open_escalations_for(db, user=people.other) == []
    assert [e.id for e in selectors.escalations_for_audit(db, audit_id=audit.id)] == [raised.id]


def test_the_default_recipient_is_the_team_manager_by_identity_never_a_namesake(db, people, case):
    assert selectors.default_recipient(db, case=case).id == people.manager.id
    # A practitioner in another area given the same name is neither the default nor a choice.
    elsewhere = make_team(db, name="Front Door 1", service_area="Front Door & MASH")
    namesake = make_user(db, username="manager2", roles=(Role.PRACTITIONER,), team=elsewhere, full_name="Maya Manager")
    assert selectors.default_recipient(db, case=case).id == people.manager.id
    assert namesake.id not in [u.id for u in selectors.recipient_choices(db, case=case)]


def test_without_a_team_manager_only_people_in_the_cases_area_or_a_qa_lead_may_be_told(db, people):
    lonely = make_team(db, name="No manager yet", service_area="Safeguarding")
    case = make_case(db, child_id="NOMGR003", team=lonely, manager_name="Maya Manager")
    assert selectors.default_recipient(db, case=case) is None  # a name in the register is never enough
    elsewhere = make_team(db, name="Children in Care 1", service_area="Children in Care")
    outsider = make_user(db, username="outsider", roles=(Role.PRACTITIONER,), team=elsewhere, full_name="Olive Out")
    other_hos = make_user(db, username="hos2", roles=(Role.HEAD_OF_SERVICE,), full_name="Hugo Elsewhere")
    other_hos.service_area_id = elsewhere.service_area_id
    db.add(other_hos)
    db.flush()
    chosen = {u.username for u in selectors.recipient_choices(db, case=case)}
    assert chosen == {"lead", "hos", "manager", "other"}
    user, problem = selectors.recipient_resolve(db, case=case, recipient_id=outsider.id)
    assert user is None and "from the list" in problem
    no_area = make_case(db, child_id="NOAREA01")
    assert {u.username for u in selectors.recipient_choices(db, case=no_area)} == {"lead"}


def test_an_inactive_team_manager_is_not_the_default(db, people, case):
    people.manager.active = False
    db.add(people.manager)
    db.flush()
    assert selectors.default_recipient(db, case=case) is None
    assert people.manager.id not in [u.id for u in selectors.recipient_choices(db, case=case)]
