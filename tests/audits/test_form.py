"""Every question type on a section page: the GOV.UK component, what a posted form saves, and its errors."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from app.audit_templates.selectors import template_latest
from app.audit_templates.service import templates_publish
from app.audits.form import parse_number
from app.audits.models import AuditAnswer
from app.audits.service import audit_start
from app.working_days import calendar_for
from tests.audits.test_pages import page_text
from tests.factories import csrf_token, login, post_form

EVERY_TYPE_DIR = Path(__file__).parent / "every_type"
ALL_SHOWN = ["seen", "quality", "plan_type", "agencies", "visited_on", "workers", "notes"]


@pytest.fixture
def audit(db, people, case):
    templates_publish(db, directory=EVERY_TYPE_DIR)
    template = template_latest(db, key="every_type")
    return audit_start(
        db,
        case=case,
        template=template,
        auditor=people.auditor,
        actor=people.lead,
        today=date(2026, 11, 26),
        calendar=calendar_for("england_and_wales"),
    )


def _stored(db, audit) -> dict:
    rows = db.execute(select(AuditAnswer).where(AuditAnswer.audit_id == audit.id)).scalars()
    return {row.question_key: row.value for row in rows if row.value is not None}


def test_each_type_has_its_govuk_component(client, audit):
    login(client, "auditor")
    html = client.get(f"/audits/{audit.id}/sections/all").text
    assert re.search(r'class="govuk-radios govuk-radios--inline"', html)  # yes / no / N/A
    assert 'name="quality" type="radio" value="requires_improvement"' in html
    assert 'name="plan_type" type="radio" value="cp_plan"' in html
    assert 'name="agencies" type="checkbox" value="health"' in html
    assert 'name="visited_on-day"' in html and 'name="visited_on-month"' in html and 'name="visited_on-year"' in html
    assert re.search(
        r'<input class="govuk-input govuk-input--width-5" id="workers" name="workers" type="text"[^>]*inputmode="decimal"',
        html,
    )
    assert re.search(
        r'<textarea class="govuk-textarea govuk-js-character-count" id="notes" name="notes" rows="4"', html
    )
    assert "You can enter up to 10,000 characters" in page_text(html)  # GOV.UK's character count
    assert "Notes (optional)" in page_text(html)
    # The judgement fields every judgement section adds.
    assert 'name="all__grade"' in html and 'name="all__strengths"' in html and 'name="all__development"' in html


def test_a_posted_form_saves_each_type_as_the_api_describes_it(client, db, audit):
    login(client, "auditor")
    response = post_form(
        client,
        f"/audits/{audit.id}/sections/all",
        {
            "_shown": ALL_SHOWN,
            "_version": "1",
            "seen": "yes",
            "quality": "good",
            "plan_type": "cp_plan",
            "agencies": ["police", "school"],
            "visited_on-day": "3",
            "visited_on-month": "11",
            "visited_on-year": "2026",
            "workers": "2",
            "notes": "  Seen at school  ",
        },
    )
    # Choosing police brought up a question on this page: back to it before moving on.
    assert response.status_code == 303 and response.headers["location"].endswith("/sections/all#police_notes")
    assert _stored(db, audit) == {
        "seen": "yes",
        "quality": "good",
        "plan_type": "cp_plan",
        "agencies": ["police", "school"],
        "visited_on": "2026-11-03",
        "workers": 2,
        "notes": "Seen at school",
    }
    html = client.get(f"/audits/{audit.id}/sections/all").text
    assert 'id="visited_on-day" name="visited_on-day" type="text" value="3"' in html
    assert re.search(r'name="agencies" type="checkbox" value="police" checked', html)
    check = page_text(client.get(f"/audits/{audit.id}/check").text)
    assert "Date of the last visit 3 November 2026" in check and "Which agencies? Police, School" in check


def test_clearing_answers_removes_them(client, db, audit):
    login(client, "auditor")
    post_form(
        client,
        f"/audits/{audit.id}/sections/all",
        {"_shown": ALL_SHOWN, "_version": "1", "agencies": ["health"], "workers": "3"},
    )
    post_form(client, f"/audits/{audit.id}/sections/all", {"_shown": ALL_SHOWN, "_version": "2", "workers": ""})
    assert _stored(db, audit) == {}


@pytest.mark.parametrize(
    ("fields", "message", "anchor"),
    [
        (
            {"visited_on-day": "31", "visited_on-month": "2", "visited_on-year": "2026"},
            '"Date of the last visit" must be a real date',
            "visited_on-day",
        ),
        (
            {"visited_on-day": "3", "visited_on-month": "", "visited_on-year": ""},
            '"Date of the last visit" must include a day, month and year',
            "visited_on-day",
        ),
        ({"workers": "two"}, 'Enter a number for "How many social workers?"', "workers"),
        ({"workers": "1e999"}, 'Enter a number for "How many social workers?"', "workers"),
        ({"agencies": ["police", "spies"]}, 'Select only options listed for "Which agencies?"', "agencies"),
        ({"quality": "superb"}, "Select Outstanding, Good, Requires improvement to be good or Inadequate", "quality"),
    ],
)
def test_invalid_answers_are_named_and_kept_as_typed(client, db, audit, fields, message, anchor):
    login(client, "auditor")
    response = post_form(client, f"/audits/{audit.id}/sections/all", {"_shown": ALL_SHOWN, "_version": "1", **fields})
    assert response.status_code == 400
    assert message in page_text(response.text)
    assert f'href="#{anchor}"' in response.text
    for value in fields.values():
        if isinstance(value, str) and value and value != "superb":
            assert f'value="{value}"' in response.text  # what the auditor typed is still in the box
    assert _stored(db, audit) == {}


def test_an_unfinished_date_waits_while_autosaving(client, db, audit):
    login(client, "auditor")
    response = client.post(
        f"/audits/{audit.id}/sections/all/autosave",
        data={"_shown": ALL_SHOWN, "_version": "1", "visited_on-day": "3", "seen": "no"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_token(client)},
    )
    assert response.status_code == 200
    assert "Enter the whole date" in page_text(response.text)
    assert _stored(db, audit) == {"seen": "no"}


@pytest.mark.parametrize(
    ("text", "number"),
    [("3", 3), (" 1,200 ", 1200), ("2.5", 2.5), ("", None), ("nan", "nan"), ("1" * 30, "1" * 30), ("abc", "abc")],
)
def test_parse_number(text, number):
    assert parse_number(text) == number
