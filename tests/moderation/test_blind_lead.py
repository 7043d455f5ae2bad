"""Blind means blind: a QA lead allocated a blind round grades blind like any moderator, on every page and endpoint,
until they have graded; a QA lead who is not the round's moderator still sees everything."""

from __future__ import annotations

import html

import pytest

from app.accounts.roles import Role, TrainingKind
from app.audits import selectors as audit_selectors
from app.moderation import selectors, service
from tests.factories import add_training, api_headers, login, make_team, make_user
from tests.factories import page_text as _page_text
from tests.moderation.conftest import CURRENT, TODAY, new_audit, submit

AUDITOR_OVERALL_LABEL = "Overall grade for the quality of practice with this child"


def page_text(markup: str) -> str:
    return html.unescape(_page_text(markup))


@pytest.fixture
def lead_moderates(db, mw):
    """An audit graded Inadequate overall (sections Outstanding), its blind round reassigned to a QA lead who is also
    a trained moderator."""
    both = make_user(
        db,
        username="leadmod",
        roles=(Role.QA_LEAD, Role.MODERATOR),
        team=make_team(db, name="West"),
        full_name="Lee Both",
    )
    add_training(db, both, TrainingKind.MODERATOR, *CURRENT)
    audit = submit(db, new_audit(db, mw, team=mw.south), mw.auditor, overall="inadequate", section="outstanding")
    round_ = selectors.latest_round(db, audit_id=audit.id)
    if round_.moderator_id != both.id:  # allocation may already have chosen them
        service.moderation_reassign(
            db,
            moderation=round_,
            moderator_id=both.id,
            reason="The lead takes this one",
            version=round_.version,
            actor=mw.lead,
            today=TODAY,
        )
    assert round_.blind and round_.moderator_id == both.id
    return audit, round_, both


def test_the_allocated_qa_lead_is_blind_until_they_have_graded(db, mw, lead_moderates):
    audit, round_, both = lead_moderates
    assert selectors.grades_hidden_from(db, user=both, audit=audit)
    assert not selectors.audit_visible_to(both, audit)
    assert not selectors.grades_hidden_from(db, user=mw.lead, audit=audit)  # the lead not moderating it
    assert selectors.audit_visible_to(mw.lead, audit)
    _, definition = audit_selectors.audit_template(db, audit)
    sections = service.sections_to_grade(definition, audit_selectors.audit_answers(db, audit=audit))
    service.moderation_grade(
        db,
        moderation=round_,
        audit=audit,
        section_grades={s.key: "good" for s in sections},
        overall_grade="requires_improvement",
        version=round_.version,
        actor=both,
    )
    assert not selectors.grades_hidden_from(db, user=both, audit=audit)
    assert selectors.audit_visible_to(both, audit)


@pytest.mark.parametrize("path", ["/print", "/print.pdf"])
def test_the_audits_printout_is_closed_to_the_allocated_qa_lead(client, lead_moderates, path):
    audit, _, _ = lead_moderates
    login(client, "leadmod")
    response = client.get(f"/audits/{audit.id}{path}")
    assert response.status_code == 404
    assert "Outstanding" not in response.text
    login(client, "lead")  # another QA lead sees them
    assert client.get(f"/audits/{audit.id}{path}").status_code == 200


@pytest.mark.parametrize("path", ["", "/check", "/sections/case_information"])
def test_the_audits_own_pages_send_the_allocated_qa_lead_to_the_blind_moderation_page(client, lead_moderates, path):
    """As the API answers them the audit without the auditor's grades, the pages send them to the moderation page,
    which shows the answers without the grades."""
    audit, _, _ = lead_moderates
    login(client, "leadmod")
    response = client.get(f"/audits/{audit.id}{path}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/audits/{audit.id}/moderation"
    text = page_text(client.get(f"/audits/{audit.id}{path}").text)
    assert "The auditor's answers, without their grades" in text and "Auditor's grade" not in text
    login(client, "lead")  # another QA lead sees them
    assert client.get(f"/audits/{audit.id}{path}").status_code == 200


def test_the_moderation_page_shows_the_allocated_qa_lead_no_grades(client, lead_moderates):
    audit, _, _ = lead_moderates
    login(client, "leadmod")
    response = client.get(f"/audits/{audit.id}/moderation")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "Grade this audit" in text and "The auditor's answers, without their grades" in text
    assert AUDITOR_OVERALL_LABEL not in text and "Auditor's grade" not in text
    assert f'href="/audits/{audit.id}"' not in response.text  # no link to the audit's own pages
    assert "Reassign this moderation" in text  # still the QA lead for everything else
    login(client, "lead")
    lead_text = page_text(client.get(f"/audits/{audit.id}/moderation").text)
    assert "The auditor's answers, without their grades" not in lead_text


def test_the_api_gives_the_allocated_qa_lead_no_grades(client, db, lead_moderates):
    audit, _, _ = lead_moderates
    headers = api_headers(client, "leadmod")
    body = client.get(f"/api/v1/audits/{audit.id}", headers=headers).json()
    assert body["auditor_grades"] is None and body["final_grades"] is None
    _, definition = audit_selectors.audit_template(db, audit)
    assert not selectors.grade_keys(definition) & set(body["answers"])
    rounds = client.get(f"/api/v1/audits/{audit.id}/moderation", headers=headers).json()
    assert "outstanding" not in str(rounds)
    saved = client.put(
        f"/api/v1/audits/{audit.id}/answers",
        headers=headers,
        json={"version": audit.version, "answers": {"overall_rationale": "x"}},
    )
    assert saved.status_code == 403 and "outstanding" not in saved.text  # only the auditor answers
    seen = client.get(f"/api/v1/audits/{audit.id}", headers=api_headers(client, "lead")).json()
    assert seen["auditor_grades"]["overall"] == "inadequate"
    # Once graded (here in one API call), the grades are there.
    decided = client.post(
        f"/api/v1/audits/{audit.id}/moderation",
        headers=headers,
        json={"version": audit.version, "overall_grade": "inadequate", "agree": True, "decision": "accept"},
    )
    assert decided.status_code == 200, decided.text
    after = client.get(f"/api/v1/audits/{audit.id}", headers=headers).json()
    assert after["auditor_grades"]["overall"] == "inadequate"
    login(client, "leadmod")
    assert client.get(f"/audits/{audit.id}").status_code == 200
