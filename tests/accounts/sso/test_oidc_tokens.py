"""The ID token's validation (app.accounts.sso.oidc.id_token_validate) with real tokens from a real provider, then
tampered with: each bad token is an OidcRefused with its reason, never another exception."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.accounts.sso import oidc
from app.accounts.sso.oidc import OidcClient, OidcRefused
from tests.accounts.sso.oidc_support import provider_config
from tests.conftest import make_test_settings
from tests.oidc.fixtures import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, require_node
from tests.oidc.peer import Provider, sign_in, start_provider


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    require_node()
    with start_provider(provider_config()) as running:
        yield running


def _client(issuer: str, **changes: Any) -> OidcClient:
    settings = make_test_settings(
        "sqlite://",
        base_url="http://testserver",
        oidc_issuer=issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_mapping_file="unused.yaml",
    )
    return replace(oidc.configured_providers(settings)["council"], **changes)


def _fresh_token(provider: Provider) -> tuple[str, str]:
    """A real ID token for amy from the provider (through the app's own flow functions), and its nonce."""
    client = _client(provider.issuer)
    settings = make_test_settings("sqlite://", base_url="http://testserver")
    url, flow = oidc.authorization_start(client, settings, next_url="/")
    with httpx.Client(timeout=10) as browser:
        callback = sign_in(browser, url, "amy", REDIRECT_URI)
    code = httpx.QueryParams(httpx.URL(callback).query)["code"]
    tokens = oidc.code_exchange(client, settings, code=code, verifier=flow.verifier)
    return tokens["id_token"], flow.nonce


@pytest.fixture
def token(provider: Provider) -> tuple[str, str]:
    oidc.discovery_cache_clear()
    return _fresh_token(provider)


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _at(token: str, offset: int) -> datetime:
    """An instant `offset` seconds after the token's expiry (by the app's clock, not the machine's)."""
    return datetime.fromtimestamp(_claims(token)["exp"] + offset, UTC)


def _refused(provider: Provider, token: str, nonce: str, **kwargs: Any) -> OidcRefused:
    client = kwargs.pop("client", None) or _client(provider.issuer)
    if "now" not in kwargs and token.count(".") == 2 and token.split(".")[1]:
        try:
            kwargs["now"] = _at(token, -60)  # the app's clock, not the machine's: a minute before expiry
        except ValueError:
            pass
    with pytest.raises(OidcRefused) as refused:
        oidc.id_token_validate(client, token, nonce=nonce, **kwargs)
    assert refused.value.status < 500 or refused.value.reason == "provider_unavailable"
    return refused.value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_genuine_token_validates(provider, token) -> None:
    id_token, nonce = token
    claims = oidc.id_token_validate(_client(provider.issuer), id_token, nonce=nonce, now=_at(id_token, -3000))
    assert claims["sub"] == "amy" and claims["groups"] == ["qa-leads"] and claims["aud"] == CLIENT_ID


def test_a_flipped_signature_byte_is_refused(provider, token) -> None:
    id_token, nonce = token
    header, payload, signature = id_token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[10] ^= 0x01
    assert _refused(provider, f"{header}.{payload}.{_b64(bytes(raw))}", nonce).reason == "token_invalid"


def test_altered_claims_are_refused(provider, token) -> None:
    id_token, nonce = token
    header, _payload, signature = id_token.split(".")
    claims = _claims(id_token) | {"groups": ["qa-leads", "everyone"]}
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    assert _refused(provider, forged, nonce).reason == "token_invalid"


def test_an_unsigned_token_is_refused(provider, token) -> None:
    id_token, nonce = token
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = id_token.split(".")[1]
    assert _refused(provider, f"{header}.{payload}.", nonce).reason == "token_invalid"


def test_garbage_is_refused(provider) -> None:
    for junk in ("", "a.b", "a.b.c", "...", "eyJ.eyJ.x"):
        assert _refused(provider, junk, "n").reason in {"token_invalid", "unknown_issuer"}


def test_an_expired_token_is_refused_after_the_leeway(provider, token) -> None:
    id_token, nonce = token
    client = _client(provider.issuer, leeway=120)
    # Clock skew: within the leeway after exp the token still validates...
    oidc.id_token_validate(client, id_token, nonce=nonce, now=_at(id_token, 119))
    # ...past it, it is refused.
    assert _refused(provider, id_token, nonce, client=client, now=_at(id_token, 121)).reason == "token_expired"


def test_a_token_from_the_future_is_refused_beyond_the_leeway(provider, token) -> None:
    id_token, nonce = token
    issued = datetime.fromtimestamp(_claims(id_token)["iat"], UTC)
    client = _client(provider.issuer, leeway=60)
    oidc.id_token_validate(client, id_token, nonce=nonce, now=issued - timedelta(seconds=59))
    refused = _refused(provider, id_token, nonce, client=client, now=issued - timedelta(seconds=61))
    assert refused.reason == "token_invalid" and "iat" in refused.detail


def test_a_wrong_nonce_is_refused(provider, token) -> None:
    id_token, _nonce = token
    assert _refused(provider, id_token, secrets.token_urlsafe(16)).reason == "nonce_mismatch"


def test_another_audience_is_refused(provider, token) -> None:
    id_token, nonce = token
    refused = _refused(provider, id_token, nonce, client=_client(provider.issuer, client_id="someone-else"))
    assert refused.reason == "token_invalid" and "aud" in refused.detail


def test_a_token_from_an_untrusted_issuer_is_refused(provider, token) -> None:
    """A real token from another provider, checked against this app's provider."""
    with start_provider(provider_config()) as stranger:
        foreign, nonce = _fresh_token(stranger)
    assert _refused(provider, foreign, nonce).reason == "unknown_issuer"
    # Its claims made to name the trusted issuer: the stranger's signature does not match the trusted keys.
    header, _payload, signature = foreign.split(".")
    claims = _claims(foreign) | {"iss": provider.issuer}
    assert _refused(provider, f"{header}.{_b64(json.dumps(claims).encode())}.{signature}", nonce).reason == (
        "token_invalid"
    )


def test_a_provider_that_is_down_is_refused_not_raised() -> None:
    require_node()
    with start_provider(provider_config()) as short_lived:
        id_token, nonce = _fresh_token(short_lived)
        client = _client(short_lived.issuer)
    oidc.discovery_cache_clear()  # nothing cached: the keys must be fetched from a provider that has stopped
    with pytest.raises(OidcRefused) as refused:
        oidc.id_token_validate(client, id_token, nonce=nonce, now=_at(id_token, -60))
    assert refused.value.reason == "provider_unavailable" and refused.value.status == 502


def test_a_key_replaced_under_the_same_key_id_is_read_again_once_the_cached_keys_are_not_fresh(monkeypatch) -> None:
    """The provider restarts on its port (the same issuer) signing with a new key under the same kid. Keys read
    moments ago are not read again for a signature that fails (a stream of forged tokens must not make every sign-in
    fetch them): refused. Once they are older than KEYS_REFETCH_AFTER_SECONDS, the keys are read again and the same
    token validates; no cache is cleared by hand."""
    require_node()
    oidc.discovery_cache_clear()
    with start_provider(provider_config()) as before:
        id_token, nonce = _fresh_token(before)
        client = _client(before.issuer)
        oidc.id_token_validate(client, id_token, nonce=nonce, now=_at(id_token, -60))  # its keys are now cached
        port = int(before.issuer.rsplit(":", 1)[1])
    with start_provider(provider_config(), port=port) as after:
        assert after.issuer == before.issuer
        new_token, new_nonce = _fresh_token(after)
        assert _refused(after, new_token, new_nonce).reason == "token_invalid"
        monkeypatch.setattr(oidc, "KEYS_REFETCH_AFTER_SECONDS", 0)
        claims = oidc.id_token_validate(client, new_token, nonce=new_nonce, now=_at(new_token, -60))
        assert claims["sub"] == "amy"
        # The old key is gone: a token it signed is refused, not accepted from the old cache.
        assert _refused(after, id_token, nonce).reason == "token_invalid"


def test_signed_cookies_refuse_tampering_and_age() -> None:
    settings = make_test_settings("sqlite://")
    value = oidc.cookie_seal(settings, "flow", {"a": 1}, 60)
    assert oidc.cookie_open(settings, "flow", value) == {
        "a": 1,
        "exp": _claims("x." + value.split(".")[0] + ".x")["exp"],
    }
    assert oidc.cookie_open(settings, "sso", value) is None  # a cookie for one purpose is no use for another
    assert oidc.cookie_open(settings, "flow", value[:-1] + ("A" if value[-1] != "A" else "B")) is None
    assert oidc.cookie_open(settings, "flow", None) is None
    assert oidc.cookie_open(settings, "flow", "garbage") is None


def test_an_email_the_provider_has_not_verified_is_not_used_to_find_an_account():
    """Accounts are matched by email: one the provider says is unverified could name someone else's account."""
    from app.accounts.sso.views import _identity

    class Client:
        issuer, groups_claim, username_claim = "https://idp.example", "groups", "email"

    claims = {"sub": "s1", "email": "amy@example.org", "groups": ["qa-leads"]}
    assert _identity(Client(), claims).email == "amy@example.org"
    assert _identity(Client(), {**claims, "email_verified": True}).email == "amy@example.org"
    assert _identity(Client(), {**claims, "email_verified": False}).email is None
