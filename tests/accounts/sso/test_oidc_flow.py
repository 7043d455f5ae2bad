"""Single sign-on over HTTP against a real OpenID provider (tests/oidc): the sign-in, each refusal, sign-out.

Every refusal is a "We could not sign you in" page with a 4xx (502 for a provider that cannot be reached), never
a 500, and an auth.sso_refused event in the trail with the reason.
"""

from __future__ import annotations

import socket
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app import clock
from app.accounts.models import AuthToken, User
from app.accounts.roles import Role
from app.accounts.sso import oidc
from app.web.auth import SESSION_COOKIE
from tests.accounts.sso.oidc_support import (
    POST_LOGOUT,
    _clock_at_the_providers_time,  # noqa: F401 - an autouse fixture
    app,  # noqa: F401 - a fixture: the app set up for the module's provider
    configure,  # noqa: F401 - a fixture
    mapping_file,  # noqa: F401 - a fixture
    provider_callback,
    provider_config,
    query,
    refusals,
    signed_in_as,
    sso,  # noqa: F401 - a fixture
    sso_sign_in,
    start,
)
from tests.factories import csrf_token, login, make_user, page_text, post_form
from tests.oidc.fixtures import CLIENT_ID, REDIRECT_URI
from tests.oidc.peer import start_provider

REFUSED = "We could not sign you in"


# --- The sign-in ---------------------------------------------------------------------------------


def test_sign_in_lands_signed_in_with_the_mapped_roles(client, db, sso) -> None:
    authorization = start(client, next_url="/account")
    params = query(authorization)
    assert authorization.startswith(sso.provider.issuer + "/auth?")
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["state"] and params["nonce"] and params["redirect_uri"] == REDIRECT_URI
    assert params["scope"] == "openid email profile groups"
    assert "code_verifier" not in authorization  # only its challenge leaves the app

    response = client.get(provider_callback(authorization, "amy"), follow_redirects=False)
    assert response.status_code == 303, refusals(db)
    assert response.headers["location"] == "/account"
    assert client.cookies.get(SESSION_COOKIE)
    assert client.cookies.get(oidc.FLOW_COOKIE) is None  # good for one callback only
    user = db.exec(select(User).where(col(User.sso_subject) == "amy")).one()
    assert user.email == "amy@example.org" and user.full_name == "Amy Archer"
    assert user.roles == {Role.QA_LEAD.value, Role.AUDITOR.value}
    assert "Amy Archer" in signed_in_as(client)
    assert client.get("/users").status_code == 200  # the QA lead's page: the mapped role works


def test_a_person_in_no_mapped_group_is_refused(client, db) -> None:
    response = sso_sign_in(client, "cal")  # cal is in no group
    assert response.status_code == 403 and REFUSED in page_text(response.text)
    assert "not in any group" in page_text(response.text)
    assert client.cookies.get(SESSION_COOKIE) is None


# --- Refusals --------------------------------------------------------------------------------------


def test_a_wrong_state_is_refused(client, db) -> None:
    callback = provider_callback(start(client))
    response = client.get(callback.replace("state=", "state=x"), follow_redirects=False)
    assert response.status_code == 400 and REFUSED in page_text(response.text)
    assert "/login" in response.text
    assert refusals(db)[-1]["reason"] == "state_mismatch"
    assert client.cookies.get(SESSION_COOKIE) is None


def test_a_callback_without_the_sign_in_cookie_is_refused(client, db) -> None:
    callback = provider_callback(start(client))
    client.cookies.delete(oidc.FLOW_COOKIE, path="/auth/oidc")
    response = client.get(callback, follow_redirects=False)
    assert response.status_code == 400 and REFUSED in page_text(response.text)
    assert refusals(db)[-1]["reason"] == "flow_missing"


def test_an_altered_sign_in_cookie_is_refused(client, db) -> None:
    callback = provider_callback(start(client))
    value = client.cookies.get(oidc.FLOW_COOKIE)
    assert value
    payload, signature = value.split(".")
    client.cookies.set(oidc.FLOW_COOKIE, payload[:-2] + "AA." + signature, domain="testserver.local", path="/auth/oidc")
    response = client.get(callback, follow_redirects=False)
    assert response.status_code == 400
    assert refusals(db)[-1]["reason"] == "flow_missing"


def test_a_wrong_nonce_is_refused(client, db) -> None:
    """The cookie re-signed (as only the app could) with another nonce: the ID token's nonce no longer matches."""
    settings = client.app.state.settings
    callback = provider_callback(start(client))
    flow = oidc.FlowState.from_cookie(settings, client.cookies.get(oidc.FLOW_COOKIE))
    assert flow is not None
    forged = oidc.FlowState(flow.provider, flow.state, "another-nonce", flow.verifier, flow.next_url)
    client.cookies.set(oidc.FLOW_COOKIE, forged.as_cookie(settings), domain="testserver.local", path="/auth/oidc")
    response = client.get(callback, follow_redirects=False)
    assert response.status_code == 400 and REFUSED in page_text(response.text)
    assert "does not belong to this browser" in page_text(response.text)
    assert refusals(db)[-1]["reason"] == "nonce_mismatch"
    assert client.cookies.get(SESSION_COOKIE) is None


def test_a_replayed_code_is_refused(client, db) -> None:
    callback = provider_callback(start(client))
    flow_cookie = client.cookies.get(oidc.FLOW_COOKIE)
    assert client.get(callback, follow_redirects=False).status_code == 303
    # The same callback again, with the same sign-in cookie (an attacker who copied both).
    replay = TestClient(client.app, base_url="http://testserver")
    replay.cookies.set(oidc.FLOW_COOKIE, flow_cookie, domain="testserver.local", path="/auth/oidc")
    response = replay.get(callback, follow_redirects=False)
    assert response.status_code == 400 and REFUSED in page_text(response.text)
    assert "already been used" in page_text(response.text)
    assert refusals(db)[-1]["reason"] == "code_rejected"
    assert replay.cookies.get(SESSION_COOKIE) is None


def test_an_error_from_the_provider_is_refused(client, db) -> None:
    state = query(start(client))["state"]
    response = client.get(
        "/auth/oidc/callback", params={"error": "access_denied", "state": state}, follow_redirects=False
    )
    assert response.status_code == 403 and "cancelled" in page_text(response.text)
    assert refusals(db)[-1]["reason"] == "provider_refused"


def test_a_sign_in_at_another_provider_is_refused(client, db, sso) -> None:
    """A provider the app does not trust sends the browser back with this sign-in's state (a mix-up attack)."""
    authorization = start(client)
    with start_provider(provider_config()) as stranger:
        at_stranger = authorization.replace(sso.provider.issuer, stranger.issuer)
        callback = provider_callback(at_stranger)
        assert query(callback)["iss"] == stranger.issuer
        response = client.get(callback, follow_redirects=False)
        assert response.status_code == 403 and "does not trust" in page_text(response.text)
        assert refusals(db)[-1]["reason"] == "unknown_issuer"
        # Without the iss parameter the stranger's code fails at the trusted provider's token endpoint.
        second = provider_callback(start(client).replace(sso.provider.issuer, stranger.issuer))
        bare = second.replace("&iss=", "&x=").replace("?iss=", "?x=")
        response = client.get(bare, follow_redirects=False)
        assert response.status_code == 400 and refusals(db)[-1]["reason"] == "code_rejected"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_provider_that_is_down_gives_a_page_not_a_500(client, db, configure) -> None:
    configure(oidc_issuer=f"http://127.0.0.1:{_closed_port()}")
    response = client.get("/auth/oidc/login", params={"provider": "council"}, follow_redirects=False)
    assert response.status_code == 502 and REFUSED in page_text(response.text)
    assert "could not be reached" in page_text(response.text)
    assert refusals(db)[-1]["reason"] == "provider_unavailable"


def test_a_provider_that_goes_down_before_the_callback_gives_a_page(client, db, configure) -> None:
    callback = provider_callback(start(client))
    configure(oidc_issuer=f"http://127.0.0.1:{_closed_port()}")
    response = client.get(callback, follow_redirects=False)
    assert response.status_code in (400, 403, 502) and REFUSED in page_text(response.text)


def test_an_unknown_provider_name_is_refused(client, db) -> None:
    response = client.get("/auth/oidc/login", params={"provider": "partner"}, follow_redirects=False)
    assert response.status_code == 400 and refusals(db)[-1]["reason"] == "provider_unknown"


def test_an_expired_sign_in_cookie_is_refused(client, db) -> None:
    callback = provider_callback(start(client))
    clock.clock_set(clock.now() + timedelta(seconds=oidc.FLOW_LIFETIME_SECONDS + 1))
    response = client.get(callback, follow_redirects=False)
    assert response.status_code == 400 and refusals(db)[-1]["reason"] == "flow_missing"


# --- The sign-in page and SSO-only mode ----------------------------------------------------------------


def test_the_login_page_offers_the_configured_button(client, configure) -> None:
    configure(oidc_button_text="Sign in with your Anyshire account")
    text = page_text(client.get("/login?next=/cases").text)
    assert "Sign in with your Anyshire account" in text and "Password" in text
    assert 'href="/auth/oidc/login?provider=council&amp;next=%2Fcases"' in client.get("/login?next=/cases").text


def test_sso_only_refuses_passwords_except_break_glass(client, db, configure) -> None:
    make_user(db, username="staff.member")
    make_user(db, username="break.glass", roles=(Role.QA_LEAD,))
    configure(sso_only=True, break_glass_usernames="Break.Glass, other")
    page = client.get("/login")
    text = page_text(page.text)
    assert "Sign in with your council account" in text
    assert 'name="password"' not in page.text  # only the button, and a discreet link to the password form
    assert "Sign in with a password (partner agencies and break-glass accounts)" in text
    assert 'href="/login?local=1&amp;next=%2F"' in page.text
    assert 'name="password"' in client.get("/login?local=1").text

    refused = login(client, "staff.member")
    assert refused.status_code == 403 and "Passwords are switched off" in page_text(refused.text)
    assert client.cookies.get(SESSION_COOKIE) is None
    assert login(client, "break.glass").status_code == 303


def test_sso_only_keeps_partner_passwords_while_partners_have_no_provider(client, db, configure, sso) -> None:
    make_user(db, username="police.partner", roles=(Role.PARTNER,), agency="police")
    configure(sso_only=True)
    assert login(client, "police.partner").status_code == 303
    client.cookies.clear()
    configure(
        sso_only=True,
        partner_oidc_issuer=sso.provider.issuer,
        partner_oidc_client_id=CLIENT_ID,
        partner_oidc_client_secret="x",
        partner_oidc_mapping_file=client.app.state.settings.oidc_mapping_file,
    )
    assert login(client, "police.partner").status_code == 403
    text = page_text(client.get("/login").text)
    assert "Sign in with your council account" in text and "Sign in with your partner agency account" in text


# --- Signing out --------------------------------------------------------------------------------------


def test_sign_out_goes_on_to_the_providers_end_session(client, db, sso) -> None:
    with httpx.Client(timeout=10) as browser:
        assert sso_sign_in(client, "ben", browser).status_code == 303
        raw = client.cookies.get(SESSION_COOKIE)
        page = client.get("/logout")
        assert f"form-action 'self' {sso.provider.issuer}" in page.headers["content-security-policy"]
        response = post_form(client, "/logout", {"csrf_token": csrf_token(client)})
        assert response.status_code == 303
        target = response.headers["location"]
        assert target.startswith(sso.provider.discovery()["end_session_endpoint"] + "?")
        params = query(target)
        assert params["post_logout_redirect_uri"] == POST_LOGOUT and params["client_id"] == CLIENT_ID
        assert params["id_token_hint"].count(".") == 2
        assert client.get("/", follow_redirects=False).status_code == 303  # the app's session is over
        token = db.exec(select(AuthToken).where(col(AuthToken.user_id) == _user("ben", db).id)).all()
        assert raw and all(t.revoked_at is not None for t in token)

        # The provider accepts the request and, once confirmed, sends the browser back to the app.
        confirm_page = browser.get(target)
        assert confirm_page.status_code == 200, confirm_page.text
        xsrf = confirm_page.text.split('name="xsrf" value="', 1)[1].split('"', 1)[0]
        done = browser.post(
            sso.provider.url("/session/end/confirm"), data={"xsrf": xsrf, "logout": "yes"}, follow_redirects=False
        )
        assert done.headers["location"] == POST_LOGOUT


def test_a_password_sign_in_signs_out_locally(client, db) -> None:
    make_user(db, username="local.person")
    assert login(client, "local.person").status_code == 303
    response = post_form(client, "/logout")
    assert response.headers["location"] == "/login?signed_out=1"


def _user(subject: str, db) -> User:
    db.expire_all()
    return db.exec(select(User).where(col(User.sso_subject) == subject)).one()


def test_back_channel_logout_ends_the_persons_sessions(client, db, sso) -> None:
    with httpx.Client(timeout=10) as browser:
        assert sso_sign_in(client, "ben", browser).status_code == 303
        assert signed_in_as(client)
        sso.receiver.tokens.clear()
        # Signed out at the provider (another app, say): it posts a logout token to the app.
        page = browser.get(sso.provider.discovery()["end_session_endpoint"])
        xsrf = page.text.split('name="xsrf" value="', 1)[1].split('"', 1)[0]
        browser.post(sso.provider.url("/session/end/confirm"), data={"xsrf": xsrf, "logout": "yes"})
    assert len(sso.receiver.tokens) == 1
    anonymous = TestClient(client.app, base_url="http://testserver")  # no cookies: the provider is not a browser
    response = anonymous.post("/auth/oidc/backchannel-logout", data={"logout_token": sso.receiver.tokens[0]})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert client.get("/", follow_redirects=False).status_code == 303  # signed out here too


def test_a_bad_logout_token_is_refused(client, db, sso) -> None:
    with httpx.Client(timeout=10) as browser:
        assert sso_sign_in(client, "ben", browser).status_code == 303
        sso.receiver.tokens.clear()
        page = browser.get(sso.provider.discovery()["end_session_endpoint"])
        xsrf = page.text.split('name="xsrf" value="', 1)[1].split('"', 1)[0]
        browser.post(sso.provider.url("/session/end/confirm"), data={"xsrf": xsrf, "logout": "yes"})
    header, payload, signature = sso.receiver.tokens[0].split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    anonymous = TestClient(client.app, base_url="http://testserver")
    for bad in (tampered, "not-a-token", ""):
        response = anonymous.post("/auth/oidc/backchannel-logout", data={"logout_token": bad})
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert refusals(db)[-1]["reason"] == "token_invalid"
    assert signed_in_as(client)  # still signed in: nothing verified said otherwise
