"""Text the service cannot store (NUL, control characters, broken Unicode) is refused, naming the field: never a 500,
on SQLite and PostgreSQL alike, in pages, forms and the API."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.accounts.models import LoginAttempt, User
from app.accounts.roles import Role
from app.web.input_guard import MESSAGE, unstorable
from tests.factories import api_headers, csrf_token, login, make_user, page_text


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "\x1b[31m", "form\x0cfeed", "broken \ud800 half"])
def test_what_is_refused(text):
    assert unstorable(text)


@pytest.mark.parametrize("text", ["", "Asha Patel", "tab\tline\nfeed\r", "Zoë O’Neill – £5 ✓", "DEMO6900650"])
def test_what_is_kept(text):
    assert not unstorable(text)


@pytest.fixture
def lead(client, db):
    return make_user(db, username="lead", roles=(Role.QA_LEAD,))


def test_a_nul_in_the_sign_in_form_is_refused_before_anything_is_read(client, db, lead):
    client.get("/login")
    response = client.post(
        "/login",
        data={"username": "lead\x00", "password": "x", "csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert "username" in page_text(response.text) and "cannot be stored" in page_text(response.text)
    assert db.execute(select(func.count()).select_from(LoginAttempt)).scalar_one() == 0


def test_a_nul_in_the_token_request_is_a_422_naming_the_field(client, db, lead):
    response = client.post("/api/v1/tokens", json={"username": "lead\u0000", "password": "whatever"})
    assert response.status_code == 422
    assert response.json()["detail"] == [{"loc": ["body", "username"], "msg": MESSAGE, "type": "value_error"}]


def test_searches_with_control_characters_are_refused_in_pages_and_the_api(client, db, lead):
    login(client, "lead")
    page = client.get("/cases", params={"q": "DEMO\x00"})
    assert page.status_code == 422 and "q: " in page_text(page.text)
    api = client.get("/api/v1/cases", params={"q": "\x07"}, headers=api_headers(client, "lead"))
    assert api.status_code == 422 and api.json()["detail"][0]["loc"] == ["body", "q"]
    assert client.get("/cases", params={"q": "DEMO\tX"}).status_code == 200  # a tab is harmless


def test_a_name_with_a_control_character_or_broken_unicode_is_not_stored(client, db, lead):
    headers = api_headers(client, "lead")
    for bad in ("Ringing\\u0007 Bell", "Half \\ud800 Surrogate"):  # as JSON escapes, which is how they arrive
        body = (
            '{"username": "newperson", "full_name": "' + bad + '", "password": "a-long-password", "roles": ["auditor"]}'
        )
        response = client.post("/api/v1/users", content=body, headers={**headers, "Content-Type": "application/json"})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "full_name"]
    assert db.execute(select(User).where(User.username == "newperson")).first() is None


def test_a_nested_json_field_is_named_with_its_path(client, db, lead):
    response = client.patch(
        "/api/v1/teams/1",
        json={"version": 1, "nested": {"list": ["ok", "bad\x00"]}},
        headers=api_headers(client, "lead"),
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "nested.list[1]"]
