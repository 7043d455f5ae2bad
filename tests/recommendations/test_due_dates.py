"""A recommendation's due date, as people meet it (pages and API): raised, then changed, always from today (and never
before the recommendation was raised) to 3 years ahead. "Today" is the test clock's 26 November 2026."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.recommendations.models import Recommendation, RecommendationEvent
from tests.factories import api_headers, login, post_form
from tests.factories import page_text as _page_text
from tests.recommendations.conftest import make_item

URL = "/api/v1/recommendations"
RANGE = "The due date must be between 26 Nov 2026 and 26 Nov 2029"


def page_text(markup: str) -> str:
    return html.unescape(_page_text(markup))


def _date(day: date) -> dict[str, str]:
    return {"due_date-day": str(day.day), "due_date-month": str(day.month), "due_date-year": str(day.year)}


def _count(db) -> int:
    return db.execute(select(func.count()).select_from(Recommendation)).scalar_one()


@pytest.fixture
def item(db, world):
    """Raised on 1 November 2026, due on Christmas Eve."""
    return make_item(db, world, due_date=date(2026, 12, 24), raised_at=datetime(2026, 11, 1, 12, tzinfo=UTC))


# --- Changing the due date -------------------------------------------------------------------------------------


def test_the_api_refuses_a_due_date_moved_to_before_the_recommendation_was_raised(client, db, world, item):
    response = client.patch(
        f"{URL}/{item.id}",
        headers=api_headers(client, "manager"),
        json={"version": 1, "due_date": "2019-12-20", "due_date_reason": "Typo in the year"},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [{"loc": ["body", "due_date"], "msg": RANGE, "type": "value_error"}]
    db.refresh(item)
    assert (item.due_date, item.version) == (date(2026, 12, 24), 1)


@pytest.mark.parametrize("due", ["2026-11-25", "2029-11-27", "9999-12-31"])
def test_the_api_refuses_a_due_date_changed_outside_the_range(client, db, world, item, due):
    response = client.patch(
        f"{URL}/{item.id}",
        headers=api_headers(client, "hos"),
        json={"version": 1, "due_date": due, "due_date_reason": "Extension", "status": "in_progress"},
    )
    assert response.status_code == 422 and response.json()["detail"][0]["msg"] == RANGE
    db.refresh(item)
    assert (item.due_date, item.status) == (date(2026, 12, 24), "open")  # neither change was saved


def test_a_due_date_is_never_before_the_day_the_recommendation_was_raised(client, db, world):
    # Raised "tomorrow" (a replica whose clock ran ahead): today is not yet a date it can be due.
    item = make_item(db, world, raised_at=datetime(2026, 11, 27, 9, tzinfo=UTC))
    headers = api_headers(client, "manager")
    body = {"version": 1, "due_date_reason": "Earlier"}
    refused = client.patch(f"{URL}/{item.id}", headers=headers, json={**body, "due_date": "2026-11-26"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"] == "The due date must be between 27 Nov 2026 and 26 Nov 2029"
    assert client.patch(f"{URL}/{item.id}", headers=headers, json={**body, "due_date": "2026-11-27"}).status_code == 200


def test_the_page_refuses_a_due_date_moved_to_before_the_recommendation_was_raised(client, db, world, item):
    login(client, "manager")
    response = post_form(
        client,
        f"/recommendations/{item.id}/due-date",
        {"version": "1", "due_reason": "Typo in the year", **_date(date(2019, 12, 20))},
    )
    assert response.status_code == 400
    text = page_text(response.text)
    assert "There is a problem" in text and RANGE in text
    assert 'href="#due_date-day"' in response.text
    db.refresh(item)
    assert item.due_date == date(2026, 12, 24)
    assert db.execute(select(RecommendationEvent).where(RecommendationEvent.action == "due_date")).first() is None


def test_the_page_extends_within_the_range(client, db, world, item):
    login(client, "manager")
    response = post_form(
        client,
        f"/recommendations/{item.id}/due-date",
        {"version": "1", "due_reason": "Court date moved", **_date(date(2029, 11, 26))},
    )
    assert response.status_code == 303
    db.refresh(item)
    assert item.due_date == date(2029, 11, 26)


# --- Raising ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("due", ["2026-11-25", "2029-11-27"])
def test_the_api_refuses_raising_one_due_outside_the_range(client, db, world, due):
    response = client.post(
        f"/api/v1/audits/{world.audit.id}/recommendations",
        headers=api_headers(client, "auditor"),
        json={"text": "Update the chronology", "priority": "normal", "due_date": due},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [{"loc": ["body", "due_date"], "msg": RANGE, "type": "value_error"}]
    assert _count(db) == 0


def test_the_page_refuses_raising_one_due_beyond_the_horizon(client, db, world):
    login(client, "auditor")
    response = post_form(
        client,
        f"/audits/{world.audit.id}/recommendations",
        {
            "text": "Update the chronology",
            "owner_id": str(world.owner.id),
            "priority": "high",
            **_date(date(2099, 1, 1)),
        },
    )
    assert response.status_code == 400
    assert RANGE in page_text(response.text) and 'href="#due_date-day"' in response.text
    assert _count(db) == 0
