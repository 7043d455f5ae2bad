"""An audit's due date, as the QA lead sets it: starting an audit from a case page and changing (extending) its due
date, each refused outside today to 3 years ahead ("today" is the test clock's 26 November 2026).
"""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlalchemy import select

from app.audits.models import Audit, AuditDueChange
from tests.factories import login, make_audit, post_form
from tests.factories import page_text as _page_text

RANGE = "The due date must be between 26 Nov 2026 and 26 Nov 2029"


def page_text(markup: str) -> str:
    return html.unescape(_page_text(markup))


def _date(day: date, name: str = "due_date") -> dict[str, str]:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}


@pytest.mark.parametrize("due", [date(1999, 6, 30), date(2026, 11, 25), date(2031, 1, 1)], ids=str)
def test_starting_an_audit_due_outside_the_range_is_refused(client, db, templates, people, case, due):
    login(client, "lead")
    response = post_form(
        client,
        f"/cases/{case.id}/audits/new",
        {"template_key": "dip_sample", "auditor_id": str(people.auditor.id), **_date(due)},
    )
    assert response.status_code == 400
    assert RANGE in page_text(response.text) and 'href="#due_date-day"' in response.text
    assert f'value="{due.year}"' in response.text  # what was typed is kept
    assert db.execute(select(Audit)).first() is None


def test_starting_an_audit_due_at_the_horizon_is_allowed(client, db, templates, people, case):
    login(client, "lead")
    response = post_form(
        client,
        f"/cases/{case.id}/audits/new",
        {"template_key": "dip_sample", "auditor_id": str(people.auditor.id), **_date(date(2029, 11, 26))},
    )
    assert response.status_code == 303
    assert db.execute(select(Audit.due_date)).scalar_one() == date(2029, 11, 26)


@pytest.fixture
def audit(db, templates, people, case):
    return make_audit(db, case=case, auditor=people.auditor, actor=people.lead)


@pytest.mark.parametrize("due", [date(1999, 1, 1), date(2026, 11, 1), date(2030, 1, 1)], ids=str)
def test_changing_an_audits_due_date_outside_the_range_is_refused(client, db, audit, due):
    login(client, "lead")
    response = post_form(
        client,
        f"/audits/{audit.id}/due-date",
        {"version": str(audit.version), "reason": "Moved by the QA lead", **_date(due)},
    )
    assert response.status_code == 400
    assert RANGE in page_text(response.text) and 'href="#due_date-day"' in response.text
    db.refresh(audit)
    assert audit.due_date is None and db.execute(select(AuditDueChange)).first() is None


def test_extending_an_audit_within_the_range_is_kept_in_its_history(client, db, audit):
    login(client, "lead")
    response = post_form(
        client,
        f"/audits/{audit.id}/due-date",
        {"version": str(audit.version), "reason": "Court hearing", **_date(date(2027, 2, 1))},
    )
    assert response.status_code == 303
    db.refresh(audit)
    assert audit.due_date == date(2027, 2, 1)
