"""Single sign-on routes: start a sign-in at the provider, come back from it, and hear its back-channel logouts.

Every refusal (a wrong or missing state, a provider error, an unknown issuer, a replayed code, a bad, expired or
tampered ID token, a provider that cannot be reached) is a page saying why, with a link back to sign in, and an
audit-trail event (app.accounts.sso.provisioning.sso_refusal_record); none is a 500.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import col, select

from app.accounts.auth import SESSION
from app.accounts.models import AuthToken, User
from app.accounts.sso import oidc
from app.accounts.sso.mapping import MappingError, load_mapping
from app.accounts.sso.oidc import OidcClient, OidcRefused
from app.accounts.sso.provisioning import Identity, SsoResult, sso_refusal_record, sso_sign_in
from app.accounts.views import _safe_next, signed_in_response
from app.audit_trail.service import audit_record
from app.clock import now
from app.db import SessionDep
from app.web.forms import see_other
from app.web.templating import render

log = logging.getLogger("caseaudit.sso")
router = APIRouter(tags=["single sign-on"])

_PROVIDER_MESSAGES = {
    "access_denied": "You cancelled the sign-in, or your account is not allowed to use this service.",
    "login_required": "You need to sign in at the sign-in service first.",
}


def _refused(request: Request, session: SessionDep, client: OidcClient | None, refusal: OidcRefused) -> Response:
    sso_refusal_record(
        session, issuer=client.issuer if client else "unknown", reason=refusal.reason, detail=refusal.detail[:500]
    )
    return _refusal_page(request, refusal.message, refusal.status)


def _refusal_page(request: Request, message: str, status: int) -> Response:
    response = render(request, "accounts/sso_refused.html", {"message": message}, status_code=status)
    response.delete_cookie(oidc.FLOW_COOKIE, path="/auth/oidc")  # a sign-in attempt is good for one callback
    return response


@router.get("/auth/oidc/login")
def oidc_login(
    request: Request, session: SessionDep, provider: str = oidc.COUNCIL, next: str | None = None
) -> Response:
    settings = request.app.state.settings
    client = oidc.configured_providers(settings).get(provider)
    if client is None:
        return _refused(
            request,
            session,
            None,
            OidcRefused("provider_unknown", "That sign-in service is not set up here.", f"provider {provider[:40]!r}"),
        )
    try:
        url, flow = oidc.authorization_start(client, settings, next_url=_safe_next(next))
    except OidcRefused as refusal:
        return _refused(request, session, client, refusal)
    response = see_other(url)
    response.set_cookie(
        oidc.FLOW_COOKIE,
        flow.as_cookie(settings),
        max_age=oidc.FLOW_LIFETIME_SECONDS,
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back to the callback
        secure=settings.secure_cookies,
        path="/auth/oidc",
    )
    return response


def _identity(client: OidcClient, claims: dict[str, Any]) -> Identity:
    """The person the ID token names. An email the provider says it has not verified (`email_verified: false`) is
    not used: accounts are matched by email, and an unverified one could name someone else's account."""

    def text(name: str) -> str | None:
        value = claims.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    raw_groups = claims.get(client.groups_claim)
    if isinstance(raw_groups, str):
        raw_groups = [raw_groups]
    groups = tuple(g for g in raw_groups if isinstance(g, str)) if isinstance(raw_groups, list) else ()
    return Identity(
        issuer=client.issuer,
        subject=str(claims["sub"]),
        email=text("email") if claims.get("email_verified") is not False else None,
        name=text("name"),
        username=text(client.username_claim),
        groups=groups,
    )


@router.get("/auth/oidc/callback")
def oidc_callback(request: Request, session: SessionDep) -> Response:
    settings = request.app.state.settings
    params = request.query_params
    flow = oidc.FlowState.from_cookie(settings, request.cookies.get(oidc.FLOW_COOKIE))
    client = oidc.configured_providers(settings).get(flow.provider) if flow else None
    try:
        if flow is None or client is None:
            raise OidcRefused(
                "flow_missing",
                "Your sign-in took too long, or was started in another browser. Start again from the sign-in page.",
                "no valid sign-in cookie at the callback",
            )
        if not hmac.compare_digest(params.get("state", ""), flow.state):
            raise OidcRefused(
                "state_mismatch",
                "This sign-in does not belong to this browser's sign-in attempt. Start again from the sign-in page.",
                "the callback's state is not the one this browser's sign-in sent",
            )
        issuer = params.get("iss")
        if issuer is not None and issuer.rstrip("/") != client.issuer:  # RFC 9207: no mix-up of providers
            raise OidcRefused(
                "unknown_issuer",
                "You were signed in by a service this app does not trust, so you have not been signed in here.",
                f"the callback names the issuer {issuer[:200]!r}, not {client.issuer}",
                status=403,
            )
        if "error" in params:
            error = params["error"][:60]
            raise OidcRefused(
                "provider_refused",
                _PROVIDER_MESSAGES.get(error, "The sign-in service did not sign you in."),
                f"{error}: {params.get('error_description', '')[:200]}",
                status=403,
            )
        code = params.get("code")
        if not code:
            raise OidcRefused("no_code", "The sign-in service sent you back without signing you in.", "no code")
        tokens = oidc.code_exchange(client, settings, code=code, verifier=flow.verifier)
        claims = oidc.id_token_validate(client, tokens["id_token"], nonce=flow.nonce)
    except OidcRefused as refusal:
        return _refused(request, session, client, refusal)
    assert client is not None and flow is not None
    partner_provider = client.name == oidc.PARTNER  # gives partners only, and never reaches a staff account
    try:
        mapping = load_mapping(client.mapping_file, partner_provider=partner_provider) if client.mapping_file else None
    except MappingError as exc:
        log.error("the single sign-on mapping file does not load: %s", "; ".join(exc.problems))
        mapping = None
    if mapping is None:
        return _refused(
            request,
            session,
            client,
            OidcRefused(
                "mapping_invalid",
                "Single sign-on is not set up correctly, so nobody can sign in this way yet. "
                "Contact your IT service desk.",
                f"the group mapping file {client.mapping_file} does not load",
                status=403,
            ),
        )
    outcome = sso_sign_in(
        session,
        identity=_identity(client, claims),
        mapping=mapping,
        create_users=settings.oidc_create_users,
        partner_provider=partner_provider,
    )
    if outcome.result is not SsoResult.OK or outcome.user is None:
        return _refusal_page(request, outcome.reason, 403)  # sso_sign_in has put it in the trail
    response = signed_in_response(request, session, outcome.user, flow.next_url)
    response.delete_cookie(oidc.FLOW_COOKIE, path="/auth/oidc")
    response.set_cookie(
        oidc.SSO_COOKIE,
        oidc.SsoSession.signed_in(client, claims, tokens["id_token"]).as_cookie(settings),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=settings.session_lifetime_minutes * 60,
        path="/",
    )
    return response


@router.post("/auth/oidc/backchannel-logout")
def oidc_backchannel_logout(
    request: Request, session: SessionDep, logout_token: Annotated[str, Form()] = ""
) -> Response:
    """OpenID Connect Back-Channel Logout: the provider says a person signed out there; end their sessions here.

    Answers 200 once done (even when they had no session here), 400 for a logout token that does not verify."""
    settings = request.app.state.settings
    token = logout_token
    headers = {"Cache-Control": "no-store"}
    providers = oidc.configured_providers(settings)
    try:
        if not token:
            raise OidcRefused("token_invalid", "no logout_token", "a back-channel logout without a logout_token")
        client, claims = oidc.logout_token_validate(providers, token)
    except OidcRefused as refusal:
        sso_refusal_record(session, issuer="back-channel logout", reason=refusal.reason, detail=refusal.detail[:500])
        return JSONResponse(
            {"error": "invalid_request", "error_description": refusal.detail[:200]}, status_code=400, headers=headers
        )
    subject = claims.get("sub")
    user = None
    if isinstance(subject, str):
        user = session.exec(
            select(User).where(col(User.sso_issuer) == client.issuer, col(User.sso_subject) == subject)
        ).first()
    if user is not None:
        # Sessions are not stored per provider session (sid), so every browser session of the person ends.
        tokens = session.exec(
            select(AuthToken).where(
                col(AuthToken.user_id) == user.id, col(AuthToken.kind) == SESSION, col(AuthToken.revoked_at).is_(None)
            )
        )
        ended = 0
        for row in tokens:
            row.revoked_at = now()
            session.add(row)
            ended += 1
        audit_record(
            session,
            actor=user,
            action="auth.logout",
            summary=f"Signed out by the single sign-on provider (back-channel logout; {ended} session(s) ended)",
            entity_type="user",
            entity_id=user.id,
        )
    return Response(status_code=200, headers=headers)
