"""What the OpenID Connect tests share: real providers (tests/oidc), an app configured for them, and a sign-in.

Import the fixtures into a test module (`from tests.accounts.sso.oidc_support import app, sso ...  # noqa: F401`).
`app` here replaces the suite's app for that module only: the same test database, with single sign-on set up
for the module's provider. `configure(**settings)` changes the app's settings for one test.

The provider signs its tokens with the machine's clock, so these tests set the app's clock to the machine's time
(`_clock_at_the_providers_time`): the app checks exp and iat with app.clock, and a token "issued" days after the
suite's TEST_NOW would be refused as issued in the future. Tests that move time move app.clock, never the machine's.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import clock
from app.accounts.sso import oidc
from app.audit_trail.models import AuditEvent
from app.main import create_app
from tests.conftest import make_test_settings
from tests.factories import page_text
from tests.oidc.fixtures import ACCOUNTS, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, require_node
from tests.oidc.peer import Provider, sign_in, start_provider

POST_LOGOUT = "http://testserver" + oidc.SIGNED_OUT_PATH
MAPPING = """\
groups:
  - group: qa-leads
    roles: [qa_lead, auditor]
  - group: auditors
    roles: [auditor]
"""


@dataclass
class LogoutReceiver:
    """Where the provider posts back-channel logout tokens (the tests hand them on to the app)."""

    server: HTTPServer
    tokens: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/auth/oidc/backchannel-logout"


def _receiver() -> LogoutReceiver:
    tokens: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            tokens.append(parse_qs(self.rfile.read(length).decode())["logout_token"][0])
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return LogoutReceiver(server, tokens)


def provider_config(
    *,
    backchannel_uri: str | None = None,
    client_id: str = CLIENT_ID,
    client_secret: str = CLIENT_SECRET,
    accounts: list[dict[str, Any]] = ACCOUNTS,
) -> dict[str, Any]:
    """A provider's config (tests/oidc/provider.mjs): the app as its one client, and its accounts."""
    client: dict[str, Any] = {
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": [POST_LOGOUT],
    }
    if backchannel_uri:
        client |= {"backchannel_logout_uri": backchannel_uri, "backchannel_logout_session_required": True}
    return {"clients": [client], "accounts": accounts}


@dataclass
class Sso:
    """The module's provider, and where its back-channel logouts land."""

    provider: Provider
    receiver: LogoutReceiver


@pytest.fixture(scope="module")
def sso() -> Iterator[Sso]:
    require_node()
    receiver = _receiver()
    provider = start_provider(provider_config(backchannel_uri=receiver.url))
    try:
        yield Sso(provider, receiver)
    finally:
        provider.stop()
        receiver.server.shutdown()
        receiver.server.server_close()


def mapping_write(tmp_path_factory: pytest.TempPathFactory, text: str = MAPPING) -> Path:
    """A mapping file with `text`, in a folder of its own."""
    path = tmp_path_factory.mktemp("sso") / "mapping.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def mapping_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mapping_write(tmp_path_factory)


def app_for(database_url: str, sso: Sso, mapping_file: Path, **settings: Any) -> Iterator[FastAPI]:
    """The app with single sign-on through the module's provider (creating users at first sign-in) and any other
    `settings`, for a module-scoped `app` fixture to `yield from`."""
    application = create_app(
        make_test_settings(
            database_url,
            base_url="http://testserver",
            oidc_issuer=sso.provider.issuer,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
            oidc_mapping_file=mapping_file,
            oidc_create_users=True,
            **settings,
        )
    )
    yield application
    application.state.engine.dispose()


@pytest.fixture(scope="module")
def app(database_url: str, sso: Sso, mapping_file: Path) -> Iterator[FastAPI]:
    """The app with single sign-on through the module's provider (creating users at first sign-in)."""
    yield from app_for(database_url, sso, mapping_file)


@pytest.fixture
def configure(app: FastAPI) -> Iterator[Callable[..., None]]:
    """Change the app's settings for this test: configure(sso_only=True, ...)."""
    original = app.state.settings

    def _configure(**overrides: Any) -> None:
        app.state.settings = original.model_copy(update=overrides)

    yield _configure
    app.state.settings = original
    oidc.discovery_cache_clear()


@pytest.fixture(autouse=True)
def _clock_at_the_providers_time(_clock_back_to_test_now: None) -> Iterator[None]:
    clock.clock_set(datetime.now(UTC))
    oidc.discovery_cache_clear()
    yield


def start(client: TestClient, *, provider: str = "council", next_url: str = "/") -> str:
    """Start a sign-in at the app; the provider's authorization URL it redirects to."""
    response = client.get("/auth/oidc/login", params={"provider": provider, "next": next_url}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def provider_callback(authorization_url: str, login: str = "amy", browser: httpx.Client | None = None) -> str:
    """Sign in at the provider (its own pages); the callback URL it sends the browser back to (not followed)."""
    if browser is not None:
        return sign_in(browser, authorization_url, login, REDIRECT_URI)
    with httpx.Client(timeout=10) as fresh:
        return sign_in(fresh, authorization_url, login, REDIRECT_URI)


def sso_sign_in(
    client: TestClient, login: str = "amy", browser: httpx.Client | None = None, *, provider: str = "council"
) -> httpx.Response:
    """The whole sign-in (through the council's provider, or `provider`): the app's response to the callback."""
    return client.get(provider_callback(start(client, provider=provider), login, browser), follow_redirects=False)


def signed_in_as(client: TestClient) -> str:
    """The home page's text, asserting the browser is signed in (not sent to the sign-in page)."""
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 200, home.headers.get("location")
    return page_text(home.text)


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def trail(db: Session, action: str) -> list[AuditEvent]:
    """The trail's events of one kind, oldest first."""
    db.expire_all()
    return list(db.exec(select(AuditEvent).where(col(AuditEvent.action) == action).order_by(col(AuditEvent.id))))


def refusals(db: Session) -> list[dict[str, Any]]:
    """The reasons of the single sign-on refusals in the trail, oldest first."""
    return [event.after or {} for event in trail(db, "auth.sso_refused")]


def new_state() -> str:
    return secrets.token_urlsafe(16)


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    import base64

    header, payload, signature = token.split(".")
    pad = lambda part: part + "=" * (-len(part) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )
