"""Signing in and out through the real pages."""

from __future__ import annotations

from app.accounts.roles import Role
from app.web.auth import SESSION_COOKIE
from tests.factories import PASSWORD, csrf_token, login, make_user, page_text, post_form


def test_sign_in_with_correct_password_reaches_home(client, db):
    make_user(db, username="asha", roles=(Role.AUDITOR,), full_name="Asha Patel")
    response = login(client, "asha")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = client.get("/")
    assert home.status_code == 200
    assert "Welcome, Asha Patel" in page_text(home.text)


def test_wrong_password_is_refused_with_a_message(client, db):
    make_user(db, username="asha")
    response = login(client, "asha", "not-the-password")
    assert response.status_code == 400
    assert "Enter a correct username and password" in page_text(response.text)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(client, db):
    make_user(db, username="asha")
    login(client, "asha")
    raw_session = client.cookies.get(SESSION_COOKIE)
    response = post_form(client, "/logout")
    assert response.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303
    # The old cookie no longer works even if replayed.
    client.cookies.set(SESSION_COOKIE, raw_session)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_without_csrf_token_is_refused(client, db):
    make_user(db, username="asha")
    client.get("/login")
    response = client.post("/login", data={"username": "asha", "password": PASSWORD})
    assert response.status_code == 403
    assert "could not be sent" in page_text(response.text)
    assert csrf_token(client)
