"""A partner agency representative's account: an agency (required for the partner role) and an agreement date."""

from __future__ import annotations

import html

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.roles import Role
from tests.factories import api_headers, login, make_user, page_text, post_form


def _fields(response) -> dict[str, str]:
    return {d["loc"][-1]: d["msg"] for d in response.json()["detail"]}


def _new(**changes):
    body = {"username": "pat", "full_name": "Pat Roe", "password": "a-long-enough-password", "roles": ["partner"]}
    body.update(changes)
    return body


def test_the_api_creates_and_changes_a_partner_with_agency_and_agreement(client, db):
    make_user(db, username="lead", roles=(Role.QA_LEAD,))
    headers = api_headers(client, "lead")
    created = client.post(
        "/api/v1/users", headers=headers, json=_new(agency="police", partner_agreement_until="2027-03-31")
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["agency"], body["partner_agreement_until"]) == ("police", "2027-03-31")
    changed = client.patch(
        f"/api/v1/users/{body['id']}", headers=headers, json={"version": body["version"], "agency": "health"}
    )
    assert changed.status_code == 200 and changed.json()["agency"] == "health"
    # Taking the partner role away clears the agency and agreement.
    dropped = client.patch(
        f"/api/v1/users/{body['id']}",
        headers=headers,
        json={"version": changed.json()["version"], "roles": ["viewer"]},
    )
    assert dropped.status_code == 200, dropped.text
    assert (dropped.json()["agency"], dropped.json()["partner_agreement_until"]) == (None, None)


def test_the_api_names_a_missing_or_wrong_agency_and_a_bad_date(client, db):
    make_user(db, username="lead", roles=(Role.QA_LEAD,))
    headers = api_headers(client, "lead")
    missing = client.post("/api/v1/users", headers=headers, json=_new())
    assert missing.status_code == 422 and "needs one" in _fields(missing)["agency"]
    wrong = client.post("/api/v1/users", headers=headers, json=_new(agency="fire"))
    assert wrong.status_code == 422 and "agency" in _fields(wrong)
    for bad in ("2027-02-30", "31/03/2027", 20270331):
        response = client.post(
            "/api/v1/users", headers=headers, json=_new(agency="police", partner_agreement_until=bad)
        )
        assert response.status_code == 422 and "partner_agreement_until" in _fields(response), bad
    not_partner = client.post("/api/v1/users", headers=headers, json=_new(roles=["auditor"], agency="police"))
    assert not_partner.status_code == 422 and "Only a partner" in _fields(not_partner)["agency"]
    assert db.execute(select(User).where(User.username == "pat")).first() is None


def test_the_user_form_takes_the_agency_and_agreement_date(client, db):
    make_user(db, username="lead", roles=(Role.QA_LEAD,))
    login(client, "lead")
    form = {
        "username": "pat",
        "full_name": "Pat Roe",
        "password": "a-long-enough-password",
        "roles": "partner",
        "agency": "",
        "partner_agreement_until-day": "31",
        "partner_agreement_until-month": "2",
        "partner_agreement_until-year": "2027",
    }
    refused = post_form(client, "/users/new", form)
    assert refused.status_code == 400
    text = html.unescape(page_text(refused.text))
    assert "Choose the partner's agency" in text or "Partner agreement end date must be a real date" in text
    form.update({"agency": "police", "partner_agreement_until-month": "3"})
    created = post_form(client, "/users/new", form)
    assert created.status_code == 303, page_text(created.text)
    user = db.execute(select(User).where(User.username == "pat")).scalar_one()
    assert (user.agency, user.partner_agreement_until.isoformat()) == ("police", "2027-03-31")
    edit = client.get(f"/users/{user.id}/edit")
    assert 'value="police" selected' in edit.text and 'value="2027"' in edit.text
