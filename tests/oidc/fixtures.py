"""The OpenID provider fixture: one real provider per test session (per xdist worker), on 127.0.0.1.

Import the fixture into a test module (`from tests.oidc.fixtures import oidc_provider  # noqa: F401`).
Where Node.js or the npm packages are missing the tests that use it are skipped with a message,
except in CI (CI=true), where they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.oidc.peer import Provider, start_provider, unavailable_reason

CLIENT_ID = "caseaudit"
CLIENT_SECRET = "caseaudit-secret"
REDIRECT_URI = "http://testserver/auth/oidc/callback"
POST_LOGOUT_REDIRECT_URI = "http://testserver/"

ACCOUNTS: list[dict[str, Any]] = [
    {"sub": "amy", "email": "amy@example.org", "name": "Amy Archer", "groups": ["qa-leads"]},
    {"sub": "ben", "email": "ben@example.org", "name": "Ben Brook", "groups": ["auditors", "team-hillside"]},
    {"sub": "cal", "email": "cal@example.org", "name": "Cal Carter", "groups": []},
]

DEFAULT_CONFIG: dict[str, Any] = {
    "clients": [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [REDIRECT_URI],
            "post_logout_redirect_uris": [POST_LOGOUT_REDIRECT_URI],
            "token_endpoint_auth_method": "client_secret_basic",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        }
    ],
    "accounts": ACCOUNTS,
}


def require_node() -> None:
    """Skip (or fail, in CI) when the provider cannot run here."""
    reason = unavailable_reason()
    if reason:
        if IN_CI:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Provider]:
    require_node()
    provider = start_provider(DEFAULT_CONFIG)
    try:
        yield provider
    finally:
        provider.stop()
