"""Numbers too big for the database in addresses and query strings: a clear 404 or 422, never a 500."""

from __future__ import annotations

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
