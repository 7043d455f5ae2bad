"""Numbers too big for the database in addresses and query strings: a clear 404 or 422, never a 500."""

from __future__ import annotations

from datetime import date

import pytest

from app.accounts.roles import Role
from tests.factories import csrf_token, login, make_user

BIG = "99999999999999999999"


@pytest.fixture
def lead(client, db):
    make_user(db, username="lead", roles=(Role.QA_LEAD, Role.AUDITOR))
    login(client, "lead")
    return client


@pytest.mark.parametrize(
    "url",
    [
        f"/programme/{BIG}",
        f"/programme/{BIG}/samples/new",
        f"/samples/{BIG}",
        f"/audits/{BIG}",
        f"/audits/{BIG}/check",
        f"/audits/{BIG}/sections/compliance",
        f"/templates/dip_sample/{BIG}",
        f"/cases/{BIG}",
        f"/cases/{BIG}/audits/new",
        f"/imports/{BIG}",
        f"/imports/{BIG}/progress",
        "/programme?year=99999999999",
        "/programme?year=-5",
        f"/audits?page={BIG}",
        f"/cases?page={BIG}",
    ],
)
def test_pages_with_huge_numbers_are_not_found_or_refused(lead, url):
    response = lead.get(url)
    assert response.status_code in (200, 400, 404, 422), (url, response.status_code)


@pytest.mark.parametrize(
    "url",
    [
        f"/programme/{BIG}/copy",
        f"/samples/{BIG}/allocate",
        f"/samples/{BIG}/cases",
        f"/imports/{BIG}/retry",
        f"/imports/{BIG}/confirm",
        f"/audits/{BIG}/submit",
    ],
)
def test_changes_to_huge_numbers_are_not_found_or_refused(lead, url):
    response = lead.post(url, data={"csrf_token": csrf_token(lead)})
    assert response.status_code in (400, 404, 422), (url, response.status_code)


SUPERSCRIPT_ONE = "¹"  # str.isdigit() says yes, int() says no


@pytest.mark.parametrize(
    "url",
    [
        f"/programme?year={SUPERSCRIPT_ONE}",
        "/programme?year=२०२६",  # Devanagari digits
        f"/cases?page={SUPERSCRIPT_ONE}",
        f"/cases?team={SUPERSCRIPT_ONE}",
        f"/audits?page={SUPERSCRIPT_ONE}",
        f"/users?team={SUPERSCRIPT_ONE}",
        f"/moderation?cycle={SUPERSCRIPT_ONE}",
        f"/moderation/agreement?cycle_id={SUPERSCRIPT_ONE}",
        f"/recommendations?page={SUPERSCRIPT_ONE}",
        f"/recommendations?owner={SUPERSCRIPT_ONE}",
    ],
)
def test_digits_from_other_scripts_are_not_numbers(lead, url):
    response = lead.get(url)
    assert response.status_code in (200, 400, 404, 422), (url, response.status_code)


def _a_sample(db):
    """A sample of one case (the allocation route answers 404 for a sample that does not exist)."""
    from app.date_rules import DueDateRules
    from app.sampling.schemas import CycleCreate, SampleSpec
    from app.sampling.service import cycle_create, sample_create
    from tests.factories import make_case, publish_templates

    publish_templates(db)
    make_case(db, child_id="BIGID0001")
    lead = make_user(db, username="sampler", roles=(Role.QA_LEAD,))
    today = date(2026, 11, 26)
    cycle = cycle_create(
        db,
        data=CycleCreate(title="Ids", kind="dip_sample", template_key="dip_sample", due_date=date(2026, 12, 31)),
        actor=lead,
        dates=DueDateRules(today=today, horizon_years=3),
    )
    return sample_create(db, cycle=cycle, spec=SampleSpec(method="random", size=1, seed=1), today=today, actor=lead)


def test_ids_too_big_for_the_database_inside_lists_are_a_422_naming_the_field(client, db):
    from tests.factories import api_headers

    make_user(db, username="qa", roles=(Role.QA_LEAD,))
    headers = api_headers(client, "qa")
    response = client.post(
        "/api/v1/cycles",
        json={
            "title": "Thematic",
            "kind": "thematic",
            "template_key": "dip_sample",
            "due_date": "2027-01-31",
            "filters": {"team_ids": [1, 2**40], "service_area_ids": [2**31]},
        },
        headers=headers,
    )
    assert response.status_code == 422, response.text
    assert response.status_code < 500
    sample = _a_sample(db)
    response = client.post(
        f"/api/v1/samples/{sample.id}/allocate", json={"auditor_ids": [99999999999]}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-2:] == ["auditor_ids", 0]


@pytest.mark.parametrize("margin", ["5e-324", "0.0009", "0", "1"])
def test_a_vanishing_margin_is_refused_naming_it(client, db, margin):
    from tests.factories import api_headers

    make_user(db, username="qa", roles=(Role.QA_LEAD,))
    response = client.get(
        "/api/v1/sample-size", params={"population": 500, "margin": margin}, headers=api_headers(client, "qa")
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "margin"]


def test_the_smallest_margin_allowed_still_gives_an_answer(client, db):
    from tests.factories import api_headers

    make_user(db, username="qa", roles=(Role.QA_LEAD,))
    response = client.get(
        "/api/v1/sample-size", params={"population": 500, "margin": "0.001"}, headers=api_headers(client, "qa")
    )
    assert response.status_code == 200 and response.json() == {"n": 500}
