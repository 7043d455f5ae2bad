"""Issue 21 in the browser: single sign-on through a real OpenID provider's own pages, in Chromium.

A QA lead clicks "Sign in with your council account", signs in on the provider's login page (oidc-provider's
development pages: the login is the account id, any password), consents, lands on the home page with the menu
their mapped roles give (QA lead), signs out of the app and is sent on to the provider's sign-out, which sends
them back to the sign-in page. Every app page is checked with axe; the sign-out also runs under the app's real
Content-Security-Policy, whose form-action must allow the redirect on to the provider.

This module has a live server of its own (it overrides the `live_server` fixture): the app needs its single
sign-on settings at start, pointing at a provider that must know the server's address first; the shared live
server's settings are fixed when it starts. Its database is empty but for the schema: the QA lead's account is
created at her first sign-in from the group mapping.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import uvicorn
from playwright.sync_api import Page, expect

from app import clock
from app.cli import alembic_upgrade
from app.main import create_app
from tests.accounts.sso.oidc_support import MAPPING
from tests.browser.conftest import LiveServer, NewContext, _wait_until_healthy
from tests.browser.helpers import check_accessibility, service_nav, success_banner
from tests.conftest import fresh_database_url, make_test_settings
from tests.oidc.fixtures import ACCOUNTS, CLIENT_ID, CLIENT_SECRET, require_node
from tests.oidc.peer import Provider, start_provider

pytestmark = pytest.mark.browser

BUTTON = "Sign in with your council account"


@pytest.fixture(scope="module")
def sso_server(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Provider]]:
    require_node()
    directory = tmp_path_factory.mktemp("sso-browser")
    url = fresh_database_url(pytestconfig, directory, "sso_browser")
    alembic_upgrade(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [base_url + "/auth/oidc/callback"],
        "post_logout_redirect_uris": [base_url + "/login?signed_out=1"],
    }
    provider = start_provider({"clients": [client], "accounts": ACCOUNTS})
    mapping = directory / "mapping.yaml"
    mapping.write_text(MAPPING)
    settings = make_test_settings(
        url,
        base_url=base_url,
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_mapping_file=mapping,
        oidc_create_users=True,
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="sso-live-server", daemon=True)
    thread.start()
    try:
        _wait_until_healthy(base_url, thread)
        yield LiveServer(base_url, settings), provider
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        app.state.engine.dispose()
        provider.stop()


@pytest.fixture(scope="module")
def live_server(sso_server: tuple[LiveServer, Provider]) -> LiveServer:
    """This module's live server (new_context and page open their pages on it)."""
    return sso_server[0]


@pytest.fixture(autouse=True)
def _clock_at_the_providers_time(_clock_back_to_test_now: None) -> None:
    # The provider signs with the machine's clock; the app (in this process) checks exp and iat with app.clock.
    clock.clock_set(datetime.now(UTC))


def _sign_in_at_the_provider(page: Page, login: str) -> None:
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    page.get_by_role("button", name=BUTTON).click()
    expect(page.get_by_role("button", name="Sign-in")).to_be_visible()  # the provider's own page
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    consent = page.get_by_role("button", name="Continue")
    if consent.count():
        consent.click()


def test_sign_in_with_the_council_account_and_out_again(new_context: NewContext, sso_server) -> None:
    _live, provider = sso_server
    page = new_context().new_page()
    page.goto("/login")
    expect(page.get_by_role("button", name=BUTTON)).to_be_visible()
    check_accessibility(page)

    _sign_in_at_the_provider(page, "amy")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_text("Welcome, Amy Archer")).to_be_visible()
    # The QA lead's menu: the mapping gave her qa_lead (and auditor).
    for entry in ("Users", "Templates", "Audit trail"):
        expect(service_nav(page).get_by_role("link", name=entry)).to_be_visible()
    check_accessibility(page)

    service_nav(page).get_by_role("link", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign out")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    # RP-initiated logout: the provider asks to confirm, then sends the browser back to the app.
    expect(page).to_have_url(re.compile("^" + re.escape(provider.issuer)))
    page.get_by_role("button", name=re.compile("Yes, sign me out", re.I)).click()
    expect(page).to_have_url(re.compile(r"/login\?signed_out=1$"))
    expect(success_banner(page)).to_contain_text("You have signed out")
    check_accessibility(page)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_sign_out_reaches_the_provider_under_the_real_csp(new_context: NewContext, sso_server) -> None:
    """Chromium enforces form-action on a form's redirects: the sign-out page must allow the provider's origin."""
    _live, provider = sso_server
    context = new_context(bypass_csp=False)
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )
    _sign_in_at_the_provider(page, "amy")
    expect(page.get_by_text("Welcome, Amy Archer")).to_be_visible()
    page.goto("/logout")
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile("^" + re.escape(provider.issuer)))
    assert blocked == []
