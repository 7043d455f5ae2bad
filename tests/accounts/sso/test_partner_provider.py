"""The partner agencies' provider (PARTNER_OIDC_*) over HTTP, against two real OpenID providers (tests/oidc): the
council's and a separate partner one, each its own process, issuer, keys, client and accounts.

A partner signs in through their agency's provider as a partner of the agency their groups map to; that provider
can neither complete a sign-in the council's started (nor the other way round), nor give anyone a staff role, nor
take over a council account by naming its email; with SSO_ONLY, partners use their provider, not a password.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.accounts.roles import Role
from app.accounts.sso import oidc
from app.web.auth import SESSION_COOKIE
from tests.accounts.sso.oidc_support import (
    Sso,
    _clock_at_the_providers_time,  # noqa: F401 - an autouse fixture
    app_for,
    configure,  # noqa: F401 - a fixture
    mapping_file,  # noqa: F401 - a fixture
    mapping_write,
    provider_callback,
    provider_config,
    query,
    refusals,
    signed_in_as,
    sso,  # noqa: F401 - a fixture: the council's provider
    sso_sign_in,
    start,
    trail,
)
from tests.factories import login, make_user, page_text
from tests.oidc.fixtures import CLIENT_ID, REDIRECT_URI, require_node
from tests.oidc.peer import Provider, start_provider

REFUSED = "We could not sign you in"
PARTNER_CLIENT_ID = "caseaudit-partners"
PARTNER_SECRET = "partners-secret"
PARTNER_BUTTON = "Sign in with your police or health account"
PARTNER_MAPPING = """\
groups:
  - group: police-partners
    roles: [partner]
    agency: police
"""
PAT = {"sub": "pat", "email": "pat.parker@police.example", "name": "Pat Parker", "groups": ["police-partners"]}
PARTNER_ACCOUNTS: list[dict[str, Any]] = [
    PAT,
    # The partner provider's own "amy", with the email of the council's QA lead amy (tests/oidc/fixtures.py).
    {"sub": "amy", "email": "amy@example.org", "name": "Amy Archer", "groups": ["police-partners"]},
    {"sub": "rory", "email": "rory@police.example", "name": "Rory Reed", "groups": ["police-partners", "qa-leads"]},
]


def _partner_config(accounts: list[dict[str, Any]] = PARTNER_ACCOUNTS) -> dict[str, Any]:
    return provider_config(client_id=PARTNER_CLIENT_ID, client_secret=PARTNER_SECRET, accounts=accounts)


@pytest.fixture(scope="module")
def partner() -> Iterator[Provider]:
    """The partner agencies' provider: a second oidc-provider, its own issuer, client and accounts."""
    require_node()
    with start_provider(_partner_config()) as running:
        yield running


@pytest.fixture(scope="module")
def app(
    database_url: str, sso: Sso, mapping_file: Path, partner: Provider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    """The app with both providers (creating users at first sign-in)."""
    yield from app_for(
        database_url,
        sso,
        mapping_file,
        partner_oidc_issuer=partner.issuer,
        partner_oidc_client_id=PARTNER_CLIENT_ID,
        partner_oidc_client_secret=PARTNER_SECRET,
        partner_oidc_button_text=PARTNER_BUTTON,
        partner_oidc_mapping_file=mapping_write(tmp_path_factory, PARTNER_MAPPING),
    )


def _account(db: Session, issuer: str, subject: str) -> User | None:
    db.expire_all()
    return db.exec(select(User).where(col(User.sso_issuer) == issuer, col(User.sso_subject) == subject)).first()


def _refused(response: Any, status: int, reason: str, issuer: str, db: Session, client: TestClient) -> None:
    """A refusal page (never a 500), its auth.sso_refused event, and nobody signed in."""
    assert response.status_code == status and REFUSED in page_text(response.text), response.text
    assert "/login" in response.text
    assert refusals(db)[-1]["reason"] == reason and refusals(db)[-1]["issuer"] == issuer
    assert client.cookies.get(SESSION_COOKIE) is None


# --- 1. Two providers, two buttons ------------------------------------------------------------------


def test_the_login_page_offers_both_providers_and_the_partner_one_goes_to_the_partner_issuer(client, sso, partner):
    page = client.get("/login?next=/audits")
    text = page_text(page.text)
    assert "Sign in with your council account" in text and PARTNER_BUTTON in text
    assert 'href="/auth/oidc/login?provider=partner&amp;next=%2Faudits"' in page.text
    assert 'href="/auth/oidc/login?provider=council&amp;next=%2Faudits"' in page.text

    authorization = start(client, provider="partner")
    assert oidc.origin_of(authorization) == partner.issuer != sso.provider.issuer
    assert authorization.startswith(partner.discovery()["authorization_endpoint"] + "?")
    params = query(authorization)
    assert params["client_id"] == PARTNER_CLIENT_ID and params["redirect_uri"] == REDIRECT_URI
    flow = oidc.FlowState.from_cookie(client.app.state.settings, client.cookies.get(oidc.FLOW_COOKIE))
    assert flow is not None and flow.provider == oidc.PARTNER  # the callback will hold it to the partner issuer

    council = start(client, provider="council")
    assert oidc.origin_of(council) == sso.provider.issuer and query(council)["client_id"] == CLIENT_ID


# --- 2. A partner signs in -----------------------------------------------------------------------------


def test_a_partner_signs_in_as_a_partner_of_the_mapped_agency_and_stays_the_same_person(client, db, configure):
    """Created at the first sign-in; at the next, matched by issuer and subject: a changed email is the same person.
    The partner provider is restarted on its port (the same issuer) with the account's new email."""
    with start_provider(_partner_config([PAT])) as first:
        configure(partner_oidc_issuer=first.issuer)
        response = sso_sign_in(client, "pat", provider="partner")
    assert response.status_code == 303, refusals(db)
    assert "Pat Parker" in signed_in_as(client)
    user = _account(db, first.issuer, "pat")
    assert user is not None and user.username == "pat.parker" and user.email == PAT["email"]
    assert user.roles == {Role.PARTNER.value} and user.agency == "police"
    [provisioned] = [e for e in trail(db, "account.sso_provisioned") if e.entity_id == str(user.id)]
    assert provisioned.after is not None and provisioned.after["issuer"] == first.issuer
    assert provisioned.after["roles"] == ["partner"] and provisioned.after["agency"] == "police"
    assert trail(db, "auth.sso_sign_in")[-1].after == {"issuer": first.issuer, "provisioned": True}
    assert trail(db, "auth.sso_sign_in")[-1].actor_id == user.id

    client.cookies.clear()
    moved = PAT | {"email": "pat.parker@police.example.gov.uk"}
    port = first.issuer.rsplit(":", 1)[1]
    with start_provider(_partner_config([moved]), port=int(port)) as again:
        assert again.issuer == first.issuer
        oidc.discovery_cache_clear()  # the restarted provider signs with a new key under the same key id
        response = sso_sign_in(client, "pat", provider="partner")
    assert response.status_code == 303, refusals(db)
    assert "Pat Parker" in signed_in_as(client)
    same = _account(db, first.issuer, "pat")
    assert same is not None and same.id == user.id and same.email == moved["email"]
    assert same.roles == {Role.PARTNER.value} and same.agency == "police"
    assert db.exec(select(User).where(col(User.full_name) == "Pat Parker")).all() == [same]  # not a second person
    assert trail(db, "auth.sso_sign_in")[-1].after == {"issuer": first.issuer, "email": "changed"}


def test_a_partners_existing_account_is_linked_at_their_first_sign_in(client, db, configure, partner):
    """Only pre-provisioned accounts (creation off): a partner's local account is found by its email, and keeps the
    partner issuer and subject from then on."""
    local = make_user(db, username="pat.local", roles=(Role.PARTNER,), agency="health")
    local.email = PAT["email"].upper()
    db.add(local)
    db.flush()
    configure(oidc_create_users=False)
    response = sso_sign_in(client, "pat", provider="partner")
    assert response.status_code == 303, refusals(db)
    linked = _account(db, partner.issuer, "pat")
    assert linked is not None and linked.id == local.id
    assert linked.roles == {Role.PARTNER.value} and linked.agency == "police"  # the agency follows the groups
    assert trail(db, "auth.sso_sign_in")[-1].after == {"issuer": partner.issuer, "linked": True}


# --- 3. The partner provider stays in its lane ------------------------------------------------------------------


def _at_the_council(authorization: str, sso: Sso) -> str:
    """A sign-in the app started for the partner provider, its request sent to the council's provider instead."""
    params = query(authorization) | {"client_id": CLIENT_ID}
    return sso.provider.discovery()["authorization_endpoint"] + "?" + urlencode(params)


def test_a_council_sign_in_cannot_complete_one_started_for_the_partner_provider(client, db, sso, partner):
    # The council's provider sends the browser back with the partner sign-in's state, and says who it is (RFC 9207).
    callback = provider_callback(_at_the_council(start(client, provider="partner"), sso), "amy")
    assert query(callback)["iss"] == sso.provider.issuer
    response = client.get(callback, follow_redirects=False)
    _refused(response, 403, "unknown_issuer", partner.issuer, db, client)
    assert "does not trust" in page_text(response.text)

    # Without the iss parameter, the council's code is no use at the partner provider's token endpoint.
    callback = provider_callback(_at_the_council(start(client, provider="partner"), sso), "amy")
    bare = callback.replace("&iss=", "&x=").replace("?iss=", "?x=")
    _refused(client.get(bare, follow_redirects=False), 400, "code_rejected", partner.issuer, db, client)
    assert _account(db, partner.issuer, "amy") is None and _account(db, sso.provider.issuer, "amy") is None


def test_a_token_the_council_issued_is_refused_for_a_partner_sign_in(client, db, sso, partner, monkeypatch):
    """The partner side answers with a genuine ID token from the council's provider, made for this very sign-in
    (its nonce): the token's issuer is held to the provider the sign-in was started for."""
    settings = client.app.state.settings
    authorization = start(client, provider="partner")
    flow = oidc.FlowState.from_cookie(settings, client.cookies.get(oidc.FLOW_COOKIE))
    assert flow is not None
    code = query(provider_callback(_at_the_council(authorization, sso), "amy"))["code"]
    council = oidc.configured_providers(settings)[oidc.COUNCIL]
    tokens = oidc.code_exchange(council, settings, code=code, verifier=flow.verifier)
    assert oidc.id_token_validate(council, tokens["id_token"], nonce=flow.nonce)["sub"] == "amy"  # genuine

    monkeypatch.setattr(oidc, "code_exchange", lambda *args, **kwargs: tokens)
    callback = f"/auth/oidc/callback?{urlencode({'code': 'any', 'state': flow.state})}"
    response = client.get(callback, follow_redirects=False)
    _refused(response, 403, "unknown_issuer", partner.issuer, db, client)
    assert _account(db, partner.issuer, "amy") is None and _account(db, sso.provider.issuer, "amy") is None


def test_the_partner_provider_cannot_make_anyone_a_qa_lead(client, db, configure, partner, tmp_path, caplog):
    """A partner mapping file that gives a staff role is refused whole (its line named in the log): whatever groups
    a partner agency puts its people in, nobody gets in as a QA lead, or anything but a partner, through it."""
    staff_rule = "  - group: qa-leads\n    roles: [qa_lead, auditor]\n"
    path = tmp_path / "partners.yaml"
    path.write_text(PARTNER_MAPPING + staff_rule)
    configure(partner_oidc_mapping_file=path)
    with caplog.at_level(logging.ERROR, logger="caseaudit.sso"):
        response = sso_sign_in(client, "rory", provider="partner")  # in police-partners and qa-leads
    _refused(response, 403, "mapping_invalid", partner.issuer, db, client)
    problem = f"{path}:6: group 'qa-leads': the partner agencies' provider may only give the partner role, not qa_lead"
    assert problem in caplog.text
    assert _account(db, partner.issuer, "rory") is None
    assert not [u for u in db.exec(select(User)).unique() if u.sso_issuer == partner.issuer]


def test_a_council_account_is_out_of_the_partner_providers_reach(client, db, sso, partner):
    """The partner provider's "amy" has the email of the council's QA lead amy: she is a person of its own, a
    partner, and the council account keeps its roles and its link to the council's provider."""
    assert sso_sign_in(client, "amy").status_code == 303
    council_amy = _account(db, sso.provider.issuer, "amy")
    assert council_amy is not None and council_amy.roles == {Role.QA_LEAD.value, Role.AUDITOR.value}
    client.cookies.clear()

    assert sso_sign_in(client, "amy", provider="partner").status_code == 303, refusals(db)
    partner_amy = _account(db, partner.issuer, "amy")
    assert partner_amy is not None and partner_amy.id != council_amy.id
    assert partner_amy.roles == {Role.PARTNER.value} and partner_amy.agency == "police"
    assert client.get("/users").status_code == 403  # signed in as the partner: no QA lead's page
    db.refresh(council_amy)
    assert council_amy.roles == {Role.QA_LEAD.value, Role.AUDITOR.value} and council_amy.agency is None
    assert council_amy.sso_issuer == sso.provider.issuer


def test_the_partner_provider_cannot_claim_a_staff_account_by_its_email(client, db, partner):
    """A council QA lead's account not yet linked to single sign-on is matched by email at the council's provider
    only: a partner agency's provider names whatever email it likes, so it is never matched to a staff account."""
    staff = make_user(db, username="amy.archer", roles=(Role.QA_LEAD, Role.AUDITOR))
    staff.email = "amy@example.org"
    db.add(staff)
    db.flush()
    assert sso_sign_in(client, "amy", provider="partner").status_code == 303, refusals(db)
    partner_amy = _account(db, partner.issuer, "amy")
    assert partner_amy is not None and partner_amy.id != staff.id and partner_amy.roles == {Role.PARTNER.value}
    db.refresh(staff)
    assert staff.sso_issuer is None and staff.sso_subject is None
    assert staff.roles == {Role.QA_LEAD.value, Role.AUDITOR.value} and staff.agency is None


# --- 4. SSO-only: partners use their provider ---------------------------------------------------------------------


def test_sso_only_with_a_partner_provider_refuses_partner_passwords_but_not_break_glass(client, db, configure):
    make_user(db, username="police.partner", roles=(Role.PARTNER,), agency="police")
    make_user(db, username="break.glass", roles=(Role.QA_LEAD,))
    configure(sso_only=True, break_glass_usernames="break.glass")
    page = client.get("/login")
    text = page_text(page.text)
    assert "Sign in with your council account" in text and PARTNER_BUTTON in text
    assert 'name="password"' not in page.text
    assert "Break-glass sign-in" in text and "partner agencies and break-glass" not in text

    refused = login(client, "police.partner")
    assert refused.status_code == 403 and "Passwords are switched off" in page_text(refused.text)
    assert client.cookies.get(SESSION_COOKIE) is None
    failed = trail(db, "auth.login_failed")[-1]
    assert failed.actor_label == "police.partner" and "single sign-on only" in failed.summary

    assert login(client, "break.glass").status_code == 303
    client.cookies.clear()
    assert sso_sign_in(client, "pat", provider="partner").status_code == 303, refusals(db)  # their way in
    assert "Pat Parker" in signed_in_as(client)
