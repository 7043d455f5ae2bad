"""The test OpenID provider is real and standards-shaped, proved with httpx alone (no app).

Authlib is not installed yet, so the ID token's signature is not verified here: its payload is
base64url-decoded and its claims checked (the app's client will verify signatures against the JWKS).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.oidc.fixtures import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEFAULT_CONFIG,
    POST_LOGOUT_REDIRECT_URI,
    REDIRECT_URI,
    oidc_provider,  # noqa: F401 - a fixture
    require_node,
)
from tests.oidc.peer import Provider, sign_in, start_provider


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and payload of a compact JWS, unverified."""
    header, payload, _signature = token.split(".")
    pad = lambda part: part + "=" * (-len(part) % 4)  # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(header))), json.loads(base64.urlsafe_b64decode(pad(payload)))


def test_discovery_document_names_the_issuer_and_endpoints(oidc_provider: Provider) -> None:
    document = oidc_provider.discovery()
    issuer = oidc_provider.issuer
    assert issuer.startswith("http://127.0.0.1:")
    assert document["issuer"] == issuer
    for endpoint, path in {
        "authorization_endpoint": "/auth",
        "token_endpoint": "/token",
        "jwks_uri": "/jwks",
        "end_session_endpoint": "/session/end",
        "userinfo_endpoint": "/me",
    }.items():
        assert document[endpoint] == issuer + path
    assert "S256" in document["code_challenge_methods_supported"]
    assert {"openid", "email", "profile", "groups"} <= set(document["scopes_supported"])
    assert {"email", "name", "groups"} <= set(document["claims_supported"])
    assert document["backchannel_logout_supported"] is True
    assert "client_secret_basic" in document["token_endpoint_auth_methods_supported"]


def test_jwks_publishes_a_signing_key(oidc_provider: Provider) -> None:
    jwks = httpx.get(oidc_provider.discovery()["jwks_uri"], timeout=10).json()
    signing = [key for key in jwks["keys"] if key.get("use", "sig") == "sig"]
    assert signing, jwks
    assert signing[0]["kty"] == "RSA" and signing[0]["alg"] == "RS256"
    assert "d" not in signing[0]  # public half only


def authorization_url(provider: Provider, **params: str) -> str:
    return provider.discovery()["authorization_endpoint"] + "?" + urlencode(params)


def code_request(provider: Provider, verifier: str, state: str, nonce: str, **extra: str) -> str:
    """An authorization code request with PKCE (S256), as the app's client will send it."""
    return authorization_url(
        provider,
        client_id=CLIENT_ID,
        response_type="code",
        scope="openid email profile groups",
        redirect_uri=REDIRECT_URI,
        state=state,
        nonce=nonce,
        code_challenge=b64url(hashlib.sha256(verifier.encode()).digest()),
        code_challenge_method="S256",
        **extra,
    )


def exchange(provider: Provider, callback: str, verifier: str) -> dict[str, Any]:
    """The tokens for the code in `callback`."""
    code = parse_qs(urlsplit(callback).query)["code"][0]
    response = httpx.post(
        provider.discovery()["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def test_authorization_code_with_pkce_round_trip(oidc_provider: Provider) -> None:
    document = oidc_provider.discovery()
    verifier = secrets.token_urlsafe(48)
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    url = code_request(oidc_provider, verifier, state, nonce)
    with httpx.Client(timeout=10) as browser:
        callback = sign_in(browser, url, login="amy", redirect_uri=REDIRECT_URI)
    query = parse_qs(urlsplit(callback).query)
    assert query["state"] == [state]
    assert query["iss"] == [oidc_provider.issuer]  # RFC 9207
    code = query["code"][0]

    # The code is bound to the PKCE challenge: without the verifier, or with another, it is refused.
    token_endpoint, auth = document["token_endpoint"], (CLIENT_ID, CLIENT_SECRET)
    token_request = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    for wrong in ({}, {"code_verifier": secrets.token_urlsafe(48)}):
        response = httpx.post(token_endpoint, data=token_request | wrong, auth=auth, timeout=10)
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant", response.text
    # The client must authenticate (client_secret_basic).
    response = httpx.post(token_endpoint, data=token_request | {"code_verifier": verifier}, auth=(CLIENT_ID, "wrong"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client", response.text

    response = httpx.post(token_endpoint, data=token_request | {"code_verifier": verifier}, auth=auth, timeout=10)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"].lower() == "bearer" and tokens["access_token"]

    header, claims = jwt_parts(tokens["id_token"])
    assert header["alg"] == "RS256" and header["kid"] == "test-signing-key"
    assert claims["iss"] == oidc_provider.issuer
    assert claims["aud"] == CLIENT_ID
    assert claims["nonce"] == nonce
    assert claims["sub"] == "amy"
    assert claims["email"] == "amy@example.org"
    assert claims["name"] == "Amy Archer"
    assert claims["groups"] == ["qa-leads"]

    # The userinfo endpoint agrees.
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    userinfo = httpx.get(document["userinfo_endpoint"], headers=bearer, timeout=10).json()
    assert userinfo["groups"] == ["qa-leads"] and userinfo["email"] == "amy@example.org", userinfo

    # A code is good once; using it again revokes the tokens it gave (RFC 6749 section 4.1.2).
    response = httpx.post(token_endpoint, data=token_request | {"code_verifier": verifier}, auth=auth, timeout=10)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant", response.text
    assert httpx.get(document["userinfo_endpoint"], headers=bearer, timeout=10).status_code == 401


@pytest.mark.parametrize(("login", "groups"), [("ben", ["auditors", "team-hillside"]), ("cal", [])])
def test_each_account_signs_in_with_its_groups(oidc_provider: Provider, login: str, groups: list[str]) -> None:
    verifier = secrets.token_urlsafe(48)
    with httpx.Client(timeout=10) as browser:
        callback = sign_in(browser, code_request(oidc_provider, verifier, "s", "n"), login, REDIRECT_URI)
    _header, claims = jwt_parts(exchange(oidc_provider, callback, verifier)["id_token"])
    assert claims["sub"] == login and claims["email"] == f"{login}@example.org" and claims["groups"] == groups


def test_an_unknown_login_does_not_sign_in(oidc_provider: Provider) -> None:
    with httpx.Client(timeout=10) as browser, pytest.raises(AssertionError):
        sign_in(browser, code_request(oidc_provider, secrets.token_urlsafe(48), "s", "n"), "nobody", REDIRECT_URI)


def test_pkce_is_required(oidc_provider: Provider) -> None:
    url = authorization_url(
        oidc_provider, client_id=CLIENT_ID, response_type="code", scope="openid", redirect_uri=REDIRECT_URI, state="s"
    )
    response = httpx.get(url, follow_redirects=False, timeout=10)
    assert response.is_redirect
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == ["invalid_request"] and "PKCE" in query["error_description"][0]


def test_rp_initiated_logout_ends_the_providers_session(oidc_provider: Provider) -> None:
    document = oidc_provider.discovery()
    verifier = secrets.token_urlsafe(48)
    with httpx.Client(timeout=10) as browser:
        id_token = exchange(
            oidc_provider,
            sign_in(browser, code_request(oidc_provider, verifier, "s", "n"), "amy", REDIRECT_URI),
            verifier,
        )["id_token"]
        # Signed in at the provider: prompt=none now succeeds silently.
        silent = code_request(oidc_provider, verifier, "s2", "n2", prompt="none")
        assert "code=" in sign_in(browser, silent, "amy", REDIRECT_URI)

        logout = (
            document["end_session_endpoint"]
            + "?"
            + urlencode(
                {"id_token_hint": id_token, "post_logout_redirect_uri": POST_LOGOUT_REDIRECT_URI, "state": "bye"}
            )
        )
        page = browser.get(logout)
        assert page.status_code == 200 and 'name="xsrf"' in page.text, page.text
        xsrf = page.text.split('name="xsrf" value="', 1)[1].split('"', 1)[0]
        confirm = browser.post(
            document["end_session_endpoint"] + "/confirm", data={"xsrf": xsrf, "logout": "yes"}, follow_redirects=False
        )
        assert confirm.is_redirect
        assert confirm.headers["location"] == POST_LOGOUT_REDIRECT_URI + "?state=bye"

        # Signed out: prompt=none is refused with login_required.
        after = sign_in(browser, silent, "amy", REDIRECT_URI)
        assert parse_qs(urlsplit(after).query)["error"] == ["login_required"]


def test_backchannel_logout_posts_a_logout_token() -> None:
    """A provider of its own (a config of the test's choosing), with a client that takes back-channel logouts."""
    require_node()
    received: list[str] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(parse_qs(self.rfile.read(length).decode())["logout_token"][0])
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    receiver = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    client = DEFAULT_CONFIG["clients"][0] | {
        "backchannel_logout_uri": f"http://127.0.0.1:{receiver.server_address[1]}/auth/oidc/backchannel-logout",
        "backchannel_logout_session_required": True,
    }
    try:
        with start_provider(DEFAULT_CONFIG | {"clients": [client]}) as provider:
            document = provider.discovery()
            verifier = secrets.token_urlsafe(48)
            with httpx.Client(timeout=10) as browser:
                callback = sign_in(browser, code_request(provider, verifier, "s", "n"), "ben", REDIRECT_URI)
                _header, id_claims = jwt_parts(exchange(provider, callback, verifier)["id_token"])
                page = browser.get(document["end_session_endpoint"])
                xsrf = page.text.split('name="xsrf" value="', 1)[1].split('"', 1)[0]
                browser.post(document["end_session_endpoint"] + "/confirm", data={"xsrf": xsrf, "logout": "yes"})
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert provider.process.returncode is not None  # stopped on leaving the with-block
    assert len(received) == 1
    _header, claims = jwt_parts(received[0])
    assert claims["iss"] == provider.issuer and claims["aud"] == CLIENT_ID
    assert claims["sub"] == "ben" and claims["sid"] == id_claims["sid"]
    assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]


def test_a_bad_config_fails_the_start_with_the_providers_stderr() -> None:
    require_node()
    with pytest.raises(RuntimeError, match="invalid client"):
        start_provider({"clients": [{"client_id": "bad", "client_secret": "x", "redirect_uris": ["not a uri"]}]})
