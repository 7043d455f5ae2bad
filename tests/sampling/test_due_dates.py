"""The dates a programme allows, as the QA lead meets them: a cycle's due date (page and API), the programme's years,
copying an old cycle, and the due date of audits allocated from a sample (page and API). "Today" is the test clock's
26 November 2026 and the horizon the default 3 years.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from app.audits.models import Audit
from app.sampling.models import Cycle
from tests.factories import api_headers, login, post_form
from tests.sampling.test_pages import _allocation_form, _stored_sample, page_text, world  # noqa: F401

RANGE = "The due date must be between 26 Nov 2026 and 26 Nov 2029"


def _cycles(db) -> int:
    return db.execute(select(func.count()).select_from(Cycle)).scalar_one()


def _audits(db) -> int:
    return db.execute(select(func.count()).select_from(Audit)).scalar_one()


def _new_cycle(client, due: date, **extra: str):
    form = {
        "title": "Impossible cycle",
        "kind": "dip_sample",
        "template_key": "dip_sample",
        "due_date-day": str(due.day),
        "due_date-month": str(due.month),
        "due_date-year": str(due.year),
        **extra,
    }
    return post_form(client, "/programme/new", form)


# --- A cycle's due date -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("due", [date(1900, 1, 1), date(2026, 11, 25), date(2029, 11, 27)], ids=str)
def test_the_cycle_form_refuses_a_due_date_outside_the_range(client, db, world, due):
    login(client, "lead")
    before = _cycles(db)
    response = _new_cycle(client, due)
    assert response.status_code == 400
    text = page_text(response.text)
    assert "There is a problem" in text and RANGE in text
    assert 'href="#due_date-day"' in response.text
    assert 'value="Impossible cycle"' in response.text  # what was typed is kept
    assert _cycles(db) == before


@pytest.mark.parametrize("due", [date(2026, 11, 26), date(2029, 11, 26)], ids=str)
def test_the_cycle_form_takes_today_and_the_horizon(client, db, world, due):
    login(client, "lead")
    assert _new_cycle(client, due).status_code == 303


def test_the_cycle_form_refuses_a_start_date_before_the_programmes_years(client, db, world):
    login(client, "lead")
    response = _new_cycle(
        client, date(2027, 1, 31), **{"start_date-day": "1", "start_date-month": "1", "start_date-year": "1899"}
    )
    assert response.status_code == 400
    assert "The start date must be between 1 Jan 2000 and 26 Nov 2029" in page_text(response.text)
    assert 'href="#start_date-day"' in response.text


@pytest.mark.parametrize("due", ["1900-01-01", "1999-06-30", "2029-11-27"])
def test_the_api_refuses_a_cycle_due_outside_the_range(client, db, world, due):
    headers = api_headers(client, "lead")
    before = _cycles(db)
    response = client.post(
        "/api/v1/cycles",
        headers=headers,
        json={"title": "Old", "kind": "dip_sample", "template_key": "dip_sample", "due_date": due},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [{"loc": ["body", "due_date"], "msg": RANGE, "type": "value_error"}]
    assert _cycles(db) == before


# --- The programme's years --------------------------------------------------------------------------------------


def _year_options(markup: str) -> list[int]:
    select_html = re.search(r'<select[^>]*id="year".*?</select>', markup, flags=re.S)
    assert select_html is not None
    return [int(y) for y in re.findall(r'<option value="(\d+)"', select_html.group(0))]


def test_the_year_list_offers_only_the_programmes_years(client, db, world):
    # A cycle stored before these rules, due in 1900, and one far beyond the horizon: neither year is offered.
    for title, due in (("Legacy 1900", date(1900, 1, 1)), ("Far future", date(2099, 1, 1))):
        db.add(Cycle(title=title, kind="dip_sample", template_key="dip_sample", template_version=1, due_date=due))
    db.flush()
    login(client, "lead")
    years = _year_options(client.get("/programme").text)
    assert 1900 not in years and 2099 not in years
    assert years == [2027, 2026]  # this year and next (the cycles are due in them)
    assert all(2000 <= year <= 2029 for year in years)


@pytest.mark.parametrize("asked", ["1900", "2030", "99999", "banana"])
def test_a_year_outside_the_programme_shows_this_year_and_says_so(client, world, asked):
    login(client, "lead")
    response = client.get(f"/programme?year={asked}")
    assert response.status_code == 200
    text = page_text(response.text)
    assert f"There is no programme for {asked}: choose a year from 2000 to 2029." in text
    assert "Audit programme 2026" in text


def test_a_year_in_the_programme_needs_no_notice(client, world):
    login(client, "lead")
    for asked in ("2000", "2029"):
        text = page_text(client.get(f"/programme?year={asked}").text)
        assert f"Audit programme {asked}" in text and "There is no programme" not in text


# --- Copying a cycle as next month -----------------------------------------------------------------------------


def test_copying_a_cycle_whose_next_month_has_passed_is_refused_on_its_page(client, db, world):
    old = Cycle(
        title="Dip sample, August 2026",
        kind="dip_sample",
        template_key="dip_sample",
        template_version=1,
        due_date=date(2026, 8, 31),
    )
    db.add(old)
    db.flush()
    login(client, "lead")
    before = _cycles(db)
    response = post_form(client, f"/programme/{old.id}/copy")
    assert response.status_code == 400
    text = page_text(response.text)
    assert (
        "A month on, the copy would be due on 30 Sep 2026, but the due date must be between 26 Nov 2026 and "
        "26 Nov 2029. Create a new cycle instead"
    ) in text
    assert 'href="#copy"' in response.text and 'id="copy"' in response.text
    assert _cycles(db) == before


# --- Allocating a sample's audits --------------------------------------------------------------------------------


@pytest.mark.parametrize("year", ["1999", "2030"])
def test_the_allocation_page_refuses_audits_due_outside_the_range(client, db, world, year):
    login(client, "lead")
    sample = _stored_sample(db, world)
    form = _allocation_form(client.get(f"/samples/{sample.id}").text)
    response = post_form(
        client,
        f"/samples/{sample.id}/allocate",
        {**form, "due_date-day": "1", "due_date-month": "3", "due_date-year": year},
    )
    assert response.status_code == 400
    assert RANGE in page_text(response.text) and 'href="#due_date-day"' in response.text
    assert _audits(db) == 0


def test_the_api_refuses_audits_due_in_1999(client, db, world):
    sample = _stored_sample(db, world)
    response = client.post(
        f"/api/v1/samples/{sample.id}/allocate", headers=api_headers(client, "lead"), json={"due_date": "1999-03-01"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [{"loc": ["body", "due_date"], "msg": RANGE, "type": "value_error"}]
    assert _audits(db) == 0


def test_audits_cannot_take_a_cycle_due_date_that_has_passed(client, db, world, set_clock):
    sample = _stored_sample(db, world)
    set_clock(datetime.combine(date(2027, 1, 15), time(12), tzinfo=UTC))  # the cycle was due on 26 December 2026
    headers = api_headers(client, "lead")
    response = client.post(f"/api/v1/samples/{sample.id}/allocate", headers=headers, json={})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == (
        "The due date must be between 15 Jan 2027 and 15 Jan 2030 (the cycle is due on 26 Dec 2026): "
        "give the audits a due date"
    )
    allocated = client.post(f"/api/v1/samples/{sample.id}/allocate", headers=headers, json={"due_date": "2027-02-15"})
    assert allocated.status_code == 200, allocated.text
    assert {a["due_date"] for a in allocated.json()["audits"]} == {"2027-02-15"}
