"""OpenID Connect sign-in: the authorization code flow with PKCE, as a relying party (Authlib and joserfc).

The protocol only: which providers are configured, the provider's discovery document and keys (fetched, checked and
cached for a few minutes per process), the authorization URL (S256 PKCE, state and nonce), the token exchange, the
ID token's validation (signature against the JWKS; iss, aud, azp, exp, iat and nonce, with the configured leeway
for clock skew), back-channel logout tokens and RP-initiated logout. Who the signed-in person is in the app is
app.accounts.sso.provisioning's business.

The app stays stateless across replicas: what the callback must check (state, nonce, PKCE verifier, where to go
next, which provider) travels in a short-lived cookie signed with the app's secret key, never in process memory.
Every failure is an `OidcRefused` with a reason for the trail and a sentence for the person signing in; nothing
here raises anything else for bad input or an unreachable provider.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from app import clock
from app.config import Settings

COUNCIL = "council"
PARTNER = "partner"
CALLBACK_PATH = "/auth/oidc/callback"
SIGNED_OUT_PATH = "/login?signed_out=1"
# The sign-in in progress (state, nonce, PKCE verifier, next page, provider) and, once signed in, which provider
# and provider session it was (for sign-out). Both signed with the app's secret key.
FLOW_COOKIE = "caseaudit_oidc_flow"
SSO_COOKIE = "caseaudit_sso"
FLOW_LIFETIME_SECONDS = 10 * 60
DISCOVERY_TTL_SECONDS = 5 * 60
KEYS_REFETCH_AFTER_SECONDS = 30  # a signature that fails against keys older than this reads them again, once
HTTP_TIMEOUT_SECONDS = 10.0
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# An ID token hint longer than this is not kept in the cookie (browsers cap a cookie at about 4 KB).
_MAX_HINT = 2500
_ASYMMETRIC = ("RS", "PS", "ES", "Ed")


class OidcRefused(Exception):
    """A sign-in (or logout notice) refused: `reason` for the trail, `message` for the person, `status` to answer."""

    def __init__(self, reason: str, message: str, detail: str = "", status: int = 400) -> None:
        super().__init__(f"{reason}: {detail or message}")
        self.reason = reason
        self.message = message
        self.detail = detail or message
        self.status = status


def _unavailable(issuer: str, detail: str) -> OidcRefused:
    return OidcRefused(
        "provider_unavailable",
        "The sign-in service could not be reached. Try again in a few minutes, or contact your IT service desk "
        "if it keeps happening.",
        f"{issuer}: {detail}",
        status=502,
    )


# --- Configured providers ----------------------------------------------------------------------


@dataclass(frozen=True)
class OidcClient:
    """One configured provider, as the app is registered with it."""

    name: str  # COUNCIL or PARTNER
    issuer: str
    client_id: str
    client_secret: str
    button_text: str
    mapping_file: Path | None
    scopes: str
    username_claim: str
    groups_claim: str
    leeway: int


def configured_providers(settings: Settings) -> dict[str, OidcClient]:
    """The council's provider and the partners' one, each only when configured."""
    found: dict[str, OidcClient] = {}
    for name, prefix, button in (
        (COUNCIL, "oidc", settings.oidc_button_text),
        (PARTNER, "partner_oidc", settings.partner_oidc_button_text),
    ):
        issuer = getattr(settings, f"{prefix}_issuer")
        client_id = getattr(settings, f"{prefix}_client_id")
        secret = getattr(settings, f"{prefix}_client_secret")
        if issuer and client_id and secret:
            found[name] = OidcClient(
                name=name,
                issuer=issuer.rstrip("/"),
                client_id=client_id,
                client_secret=secret,
                button_text=button,
                mapping_file=getattr(settings, f"{prefix}_mapping_file"),
                scopes=settings.oidc_scopes,
                username_claim=settings.oidc_username_claim,
                groups_claim=settings.oidc_groups_claim,
                leeway=settings.oidc_leeway_seconds,
            )
    return found


def redirect_uri(settings: Settings) -> str:
    """The callback address registered with the provider: BASE_URL, so it holds behind a proxy."""
    return settings.base_url.rstrip("/") + CALLBACK_PATH


# --- Discovery and keys (cached per process for a few minutes) ---------------------------------


@dataclass
class _Cached:
    fetched: float
    value: Any


_cache: dict[str, _Cached] = {}
_cache_lock = threading.Lock()


def discovery_cache_clear() -> None:
    """Forget every provider's discovery document and keys (tests; a provider that rotated everything)."""
    with _cache_lock:
        _cache.clear()


def _get_json(issuer: str, url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT_SECONDS, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise _unavailable(issuer, f"{type(exc).__name__} fetching {url}") from None
    if response.status_code != 200:
        raise _unavailable(issuer, f"HTTP {response.status_code} from {url}")
    try:
        document = response.json()
    except ValueError:
        raise _unavailable(issuer, f"{url} did not answer JSON") from None
    if not isinstance(document, dict):
        raise _unavailable(issuer, f"{url} did not answer a JSON object")
    return document


def _age(key: str) -> float:
    """Seconds since `key` was fetched (infinite when it never was)."""
    with _cache_lock:
        hit = _cache.get(key)
    return time.monotonic() - hit.fetched if hit is not None else float("inf")


def _cached(key: str, fetch: Any, *, refresh: bool = False) -> Any:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and not refresh and now - hit.fetched < DISCOVERY_TTL_SECONDS:
            return hit.value
    value = fetch()
    with _cache_lock:
        _cache[key] = _Cached(now, value)
    return value


def discovery(client: OidcClient) -> dict[str, Any]:
    """The provider's discovery document, checked: its issuer is exactly the configured one (no mix-up)."""

    def fetch() -> dict[str, Any]:
        document = _get_json(client.issuer, client.issuer + "/.well-known/openid-configuration")
        if str(document.get("issuer", "")).rstrip("/") != client.issuer:
            raise OidcRefused(
                "issuer_mismatch",
                "The sign-in service is not set up correctly. Contact your IT service desk.",
                f"the discovery document at {client.issuer} names the issuer {document.get('issuer')!r}",
                status=502,
            )
        for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(endpoint), str):
                raise _unavailable(client.issuer, f"the discovery document has no {endpoint}")
        return document

    result: dict[str, Any] = _cached(f"discovery:{client.issuer}", fetch)
    return result


def _keys(client: OidcClient, document: dict[str, Any], *, refresh: bool = False) -> KeySet:
    def fetch() -> KeySet:
        jwks = _get_json(client.issuer, document["jwks_uri"])
        try:
            return KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise _unavailable(client.issuer, "its JWKS could not be read") from None

    keys: KeySet = _cached(f"jwks:{client.issuer}", fetch, refresh=refresh)
    return keys


def _signing_algorithms(document: dict[str, Any]) -> list[str]:
    """The provider's ID token algorithms, public-key ones only (never `none`, never a shared-secret HMAC)."""
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    return [alg for alg in offered if isinstance(alg, str) and alg.startswith(_ASYMMETRIC)] or ["RS256"]


# --- Signed cookies ------------------------------------------------------------------------------


def _cookie_key(settings: Settings, purpose: str) -> bytes:
    assert settings.secret_key is not None
    return hmac.new(settings.secret_key.encode(), f"caseaudit-oidc:{purpose}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cookie_seal(settings: Settings, purpose: str, data: dict[str, Any], lifetime_seconds: int) -> str:
    """`data` as a cookie value that only this app (its secret key) can have made, valid for `lifetime_seconds`."""
    payload = _b64(json.dumps(data | {"exp": int(clock.now().timestamp()) + lifetime_seconds}).encode())
    signature = _b64(hmac.new(_cookie_key(settings, purpose), payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def cookie_open(settings: Settings, purpose: str, value: str | None) -> dict[str, Any] | None:
    """The data of a cookie made by `cookie_seal` for this purpose; None if absent, altered or expired."""
    if not value or value.count(".") != 1:
        return None
    payload, signature = value.split(".")
    expected = _b64(hmac.new(_cookie_key(settings, purpose), payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature):
        return None
    try:
        data = json.loads(_unb64(payload))
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("exp"), int) or data["exp"] < clock.now().timestamp():
        return None
    return data


# --- The authorization request -------------------------------------------------------------------


@dataclass(frozen=True)
class FlowState:
    """What the callback checks, kept in FLOW_COOKIE between the redirect to the provider and the way back."""

    provider: str
    state: str
    nonce: str
    verifier: str
    next_url: str

    def as_cookie(self, settings: Settings) -> str:
        data = {"p": self.provider, "s": self.state, "n": self.nonce, "v": self.verifier, "next": self.next_url}
        return cookie_seal(settings, "flow", data, FLOW_LIFETIME_SECONDS)

    @classmethod
    def from_cookie(cls, settings: Settings, value: str | None) -> FlowState | None:
        data = cookie_open(settings, "flow", value)
        if data is None or not all(isinstance(data.get(k), str) for k in ("p", "s", "n", "v", "next")):
            return None
        return cls(provider=data["p"], state=data["s"], nonce=data["n"], verifier=data["v"], next_url=data["next"])


def authorization_start(client: OidcClient, settings: Settings, *, next_url: str) -> tuple[str, FlowState]:
    """The provider's authorization URL for a new sign-in, and the state to keep for its callback."""
    document = discovery(client)
    flow = FlowState(
        provider=client.name,
        state=generate_token(32),
        nonce=generate_token(32),
        verifier=generate_token(64),  # RFC 7636: 43 to 128 unreserved characters
        next_url=next_url,
    )
    url = prepare_grant_uri(
        document["authorization_endpoint"],
        client.client_id,
        "code",
        redirect_uri=redirect_uri(settings),
        scope=client.scopes,
        state=flow.state,
        nonce=flow.nonce,
        code_challenge=create_s256_code_challenge(flow.verifier),
        code_challenge_method="S256",
    )
    return url, flow


# --- The callback: token exchange and the ID token ------------------------------------------------


def code_exchange(client: OidcClient, settings: Settings, *, code: str, verifier: str) -> dict[str, Any]:
    """The provider's token response for an authorization code (refused if the code is replayed or expired)."""
    document = discovery(client)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(settings),
        "code_verifier": verifier,
    }
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth: tuple[str, str] | None = None
    if "client_secret_basic" in methods or "client_secret_post" not in methods:
        # RFC 6749 section 2.3.1: the id and secret are form-encoded before they go into the Basic header.
        auth = (quote(client.client_id, safe=""), quote(client.client_secret, safe=""))
    else:
        data |= {"client_id": client.client_id, "client_secret": client.client_secret}
    try:
        response = httpx.post(
            document["token_endpoint"],
            data=data,
            auth=auth,
            timeout=HTTP_TIMEOUT_SECONDS,
            headers={"Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        raise _unavailable(client.issuer, f"{type(exc).__name__} at the token endpoint") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _unavailable(client.issuer, f"HTTP {response.status_code} without JSON from the token endpoint")
    if response.status_code != 200:
        error = str(body.get("error", "unknown"))[:60]
        if error == "invalid_grant":
            raise OidcRefused(
                "code_rejected",
                "This sign-in link has already been used or has expired. Start again from the sign-in page.",
                f"the token endpoint refused the code: {error} {str(body.get('error_description', ''))[:200]}",
            )
        raise OidcRefused(
            "token_request_refused",
            "The sign-in service refused the app's request. Contact your IT service desk.",
            f"HTTP {response.status_code} from the token endpoint: {error}",
            status=502,
        )
    if not isinstance(body.get("id_token"), str):
        raise OidcRefused(
            "no_id_token",
            "The sign-in service did not say who you are. Contact your IT service desk.",
            "the token response had no id_token (is the openid scope asked for?)",
            status=502,
        )
    return body


def _token_header(token: str) -> dict[str, Any]:
    try:
        header = json.loads(_unb64(token.split(".", 1)[0]))
    except (ValueError, IndexError):
        header = None
    if not isinstance(header, dict):
        raise _invalid_token("the token is not a JWS")
    return header


def _unverified_claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    try:
        claims = json.loads(_unb64(parts[1])) if len(parts) == 3 else None
    except ValueError:
        claims = None
    if not isinstance(claims, dict):
        raise _invalid_token("the token is not a JWS")
    return claims


def _invalid_token(detail: str) -> OidcRefused:
    return OidcRefused(
        "token_invalid",
        "The sign-in service's answer could not be verified, so you have not been signed in. Try again.",
        detail,
    )


def _verified(client: OidcClient, token: str) -> jwt.Token:
    """The token, its signature checked with the provider's published keys (fetched again once for a new kid)."""
    document = discovery(client)
    algorithms = _signing_algorithms(document)
    header = _token_header(token)
    if header.get("alg") not in algorithms:
        raise _invalid_token(f"signed with {header.get('alg')!r}, not one of {algorithms}")
    keys = _keys(client, document)
    kid = header.get("kid")
    if kid is not None and not any(key.kid == kid for key in keys):
        keys = _keys(client, document, refresh=True)  # the provider may have rotated its keys
    try:
        try:
            return jwt.decode(token, keys, algorithms=algorithms)
        except BadSignatureError:
            # A provider may replace a key under the same kid: read its keys again, once, unless just read (so
            # a stream of forged tokens cannot make every sign-in fetch them).
            if _age(f"jwks:{client.issuer}") < KEYS_REFETCH_AFTER_SECONDS:
                raise
            return jwt.decode(token, _keys(client, document, refresh=True), algorithms=algorithms)
    except BadSignatureError:
        raise _invalid_token("the signature does not match the provider's keys") from None
    except InvalidKeyIdError:
        raise _invalid_token(f"no key {kid!r} in the provider's JWKS") from None
    except (JoseError, ValueError, TypeError):
        raise _invalid_token("the token could not be decoded") from None


def _issuer_check(client: OidcClient, claims: dict[str, Any]) -> None:
    if str(claims.get("iss", "")).rstrip("/") != client.issuer:
        raise OidcRefused(
            "unknown_issuer",
            "You were signed in by a service this app does not trust, so you have not been signed in here.",
            f"the token's issuer {str(claims.get('iss'))[:200]!r} is not {client.issuer}",
            status=403,
        )


def _now(now: datetime | None) -> int:
    return int((now or clock.now()).timestamp())


def id_token_validate(client: OidcClient, token: str, *, nonce: str, now: datetime | None = None) -> dict[str, Any]:
    """The ID token's claims, once its signature, issuer, audience, times (with leeway) and nonce all check out."""
    _issuer_check(client, _unverified_claims(token))
    verified = _verified(client, token)
    claims = CodeIDToken(
        verified.claims,
        verified.header,
        options={
            "iss": {"essential": True, "value": client.issuer},
            "aud": {"essential": True, "value": client.client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "nonce": {"essential": True},
        },
        params={"nonce": nonce, "client_id": client.client_id},
    )
    try:
        claims.validate(now=_now(now), leeway=client.leeway)
    except ExpiredTokenError:
        raise OidcRefused(
            "token_expired",
            "Your sign-in took too long and has expired. Start again from the sign-in page.",
            f"the ID token expired at {claims.get('exp')} (leeway {client.leeway}s)",
        ) from None
    except ClaimError as exc:
        if exc.claim == "nonce":
            raise OidcRefused(
                "nonce_mismatch",
                "This sign-in does not belong to this browser's sign-in attempt. Start again from the sign-in page.",
                "the ID token's nonce is not the one this sign-in sent",
            ) from None
        if exc.claim == "iss":
            _issuer_check(client, dict(claims))
        kind = "missing" if isinstance(exc, MissingClaimError) else "invalid"
        raise _invalid_token(f"{kind} claim {exc.claim!r}: {exc.description}") from None
    return dict(claims)


# --- Logout ----------------------------------------------------------------------------------------


def logout_token_validate(
    providers: dict[str, OidcClient], token: str, *, now: datetime | None = None
) -> tuple[OidcClient, dict[str, Any]]:
    """A back-channel logout token (OpenID Connect Back-Channel Logout 1.0, section 2.6), checked; its provider."""
    issuer = str(_unverified_claims(token).get("iss", "")).rstrip("/")
    client = next((c for c in providers.values() if c.issuer == issuer), None)
    if client is None:
        raise OidcRefused("unknown_issuer", "Unknown issuer", f"a logout token from {issuer[:200]!r}", status=400)
    verified = _verified(client, token)
    claims = verified.claims
    registry = jwt.JWTClaimsRegistry(
        now=_now(now),
        leeway=client.leeway,
        iss={"essential": True, "value": client.issuer},
        aud={"essential": True, "value": client.client_id},
        iat={"essential": True},
        events={"essential": True},
    )
    try:
        registry.validate(claims)
    except (ClaimError, InvalidClaimError) as exc:
        raise _invalid_token(f"logout token claim {exc.claim!r}: {exc.description}") from None
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise _invalid_token("the logout token has no back-channel logout event")
    if "nonce" in claims:
        raise _invalid_token("a logout token must not carry a nonce")
    if not isinstance(claims.get("sub"), str) and not isinstance(claims.get("sid"), str):
        raise _invalid_token("the logout token names neither sub nor sid")
    return client, claims


@dataclass(frozen=True)
class SsoSession:
    """Which provider signed this browser in, and its session there (SSO_COOKIE): for RP-initiated logout."""

    provider: str
    subject: str
    sid: str | None
    id_token_hint: str | None

    def as_cookie(self, settings: Settings) -> str:
        data = {"p": self.provider, "sub": self.subject, "sid": self.sid, "hint": self.id_token_hint}
        return cookie_seal(settings, "sso", data, settings.session_lifetime_minutes * 60)

    @classmethod
    def from_cookie(cls, settings: Settings, value: str | None) -> SsoSession | None:
        data = cookie_open(settings, "sso", value)
        if data is None or not isinstance(data.get("p"), str) or not isinstance(data.get("sub"), str):
            return None
        sid, hint = data.get("sid"), data.get("hint")
        return cls(
            provider=data["p"],
            subject=data["sub"],
            sid=sid if isinstance(sid, str) else None,
            id_token_hint=hint if isinstance(hint, str) else None,
        )

    @classmethod
    def signed_in(cls, client: OidcClient, claims: dict[str, Any], id_token: str) -> SsoSession:
        sid = claims.get("sid")
        return cls(
            provider=client.name,
            subject=str(claims["sub"]),
            sid=sid if isinstance(sid, str) else None,
            id_token_hint=id_token if len(id_token) <= _MAX_HINT else None,
        )


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL (for a Content-Security-Policy source)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def end_session_url(settings: Settings, sso: SsoSession | None) -> str | None:
    """Where to send the browser after the app's own sign-out so the provider signs it out too (RP-initiated
    logout), or None: not signed in by SSO, the provider is gone from the settings, has no end_session_endpoint,
    or cannot be reached (the app's session is over either way)."""
    if sso is None:
        return None
    client = configured_providers(settings).get(sso.provider)
    if client is None:
        return None
    try:
        endpoint = discovery(client).get("end_session_endpoint")
    except OidcRefused:
        return None
    if not isinstance(endpoint, str) or not endpoint:
        return None
    params = {
        "client_id": client.client_id,
        "post_logout_redirect_uri": settings.base_url.rstrip("/") + SIGNED_OUT_PATH,
    }
    if sso.id_token_hint:
        params["id_token_hint"] = sso.id_token_hint
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)
