"""Impossible answers are refused, as an auditor meets them: a number outside the question's min and max (the full
template's social workers in 12 months, 0 to 50) and free text over 10,000 characters, by the API and the section page.
"""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from app.audits.models import AuditAnswer
from tests.factories import api_headers, login, make_audit, post_form
from tests.factories import page_text as _page_text

WORKERS = "social_workers_12m"
WORKERS_RANGE = '"How many social workers has the child had in the last 12 months?" must be between 0 and 50'
STRENGTHS = "management_oversight__strengths"
TOO_LONG = '"Strengths: H. Management oversight and supervision" must be 10,000 characters or fewer'
SECTION = "management_oversight"


def page_text(markup: str) -> str:
    return html.unescape(_page_text(markup))


def stored(db, audit) -> dict:
    rows = db.execute(select(AuditAnswer).where(AuditAnswer.audit_id == audit.id)).scalars()
    return {row.question_key: row.value for row in rows if row.value is not None}


@pytest.fixture
def audit(db, templates, people, case):
    """A full case file audit, on the version whose number question has its bounds."""
    audit = make_audit(db, case=case, auditor=people.auditor, actor=people.lead, template_key="case_file_audit")
    assert audit.template_version == 2
    return audit


@pytest.fixture
def auditor(client, people):
    return api_headers(client, "auditor")


def _put(client, audit, auditor, answers: dict):
    return client.put(f"/api/v1/audits/{audit.id}/answers", headers=auditor, json={"version": 1, "answers": answers})


@pytest.mark.parametrize("impossible", [-3, 99_999_999, 50.5])
def test_the_api_refuses_a_number_outside_the_questions_range(client, db, audit, auditor, impossible):
    response = _put(client, audit, auditor, {"oversight_at_key_decisions": "yes", WORKERS: impossible})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == {WORKERS: WORKERS_RANGE}
    assert body["detail"][0]["loc"] == ["body", "answers", WORKERS]
    assert stored(db, audit) == {}  # nothing saved, not even the good answer beside it


@pytest.mark.parametrize("possible", [0, 4, 50])
def test_the_api_saves_a_number_in_range(client, db, audit, auditor, possible):
    response = _put(client, audit, auditor, {WORKERS: possible})
    assert response.status_code == 200, response.text
    assert stored(db, audit)[WORKERS] == possible


def test_the_api_refuses_text_over_the_limit_and_takes_it_at_the_limit(client, db, audit, auditor):
    response = _put(client, audit, auditor, {STRENGTHS: "x" * 10_001})
    assert response.status_code == 422 and response.json()["errors"] == {STRENGTHS: TOO_LONG}
    assert stored(db, audit) == {}
    assert _put(client, audit, auditor, {STRENGTHS: "x" * 10_000}).status_code == 200


def test_the_template_definition_gives_the_range(client, audit, auditor):
    body = client.get("/api/v1/templates/case_file_audit/2", headers=auditor).json()
    question = next(q for s in body["sections"] for q in s["questions"] if q["key"] == WORKERS)
    assert (question["min"], question["max"]) == (0, 50)


def test_the_section_page_states_the_range_and_the_text_limit(client, audit):
    login(client, "auditor")
    page = client.get(f"/audits/{audit.id}/sections/{SECTION}").text
    assert f'<div id="{WORKERS}-hint" class="govuk-hint">' in page
    assert "Between 0 and 50" in page_text(page)
    assert f'id="{STRENGTHS}-info"' in page and "You can enter up to 10,000 characters" in page_text(page)


@pytest.mark.parametrize(("typed", "shown"), [("-3", "-3"), ("99,999,999", "99999999")])
def test_the_section_page_refuses_a_number_outside_the_range_with_an_error_summary(client, db, audit, typed, shown):
    login(client, "auditor")
    response = post_form(
        client,
        f"/audits/{audit.id}/sections/{SECTION}",
        {WORKERS: typed, "oversight_at_key_decisions": "yes", "_shown": [WORKERS, "oversight_at_key_decisions"]}
        | {"_version": "1"},
    )
    assert response.status_code == 400
    text = page_text(response.text)
    assert "There is a problem" in text and WORKERS_RANGE in text
    assert f'href="#{WORKERS}"' in response.text
    assert f'value="{shown}"' in response.text  # what was typed is kept to correct
    assert WORKERS not in stored(db, audit)


def test_the_section_page_refuses_text_over_the_limit(client, db, audit):
    login(client, "auditor")
    response = post_form(
        client,
        f"/audits/{audit.id}/sections/{SECTION}",
        {STRENGTHS: "x" * 10_001, "_shown": [STRENGTHS], "_version": "1"},
    )
    assert response.status_code == 400
    assert TOO_LONG in page_text(response.text) and f'href="#{STRENGTHS}"' in response.text
    assert STRENGTHS not in stored(db, audit)
