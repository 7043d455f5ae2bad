"""Throttling of password guessing, through the sign-in page and the API token endpoint.

Limits (app/config.py): 5 failures per username and 20 per client address within 15 minutes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app import clock
from app.accounts.models import AuthToken, LoginAttempt
from app.audit_trail.models import AuditEvent
from app.db import get_session
from app.main import create_app
from app.web.auth import SESSION_COOKIE
from tests.factories import PASSWORD, login, make_user, page_text

WRONG = "not-the-password"
TESTCLIENT_ADDRESS = "testclient"  # the client address Starlette's TestClient reports


def _token(client, username: str, password: str = PASSWORD):
    return client.post("/api/v1/tokens", json={"username": username, "password": password})


def _fail(client, username: str, times: int = 1) -> None:
    for _ in range(times):
        response = _token(client, username, WRONG)
        assert response.status_code == 401, response.text


def _assert_api_throttled(response, *, retry_after: int | None = None) -> None:
    assert response.status_code == 429, response.text
    assert "access_token" not in response.json()
    assert "Too many failed attempts" in response.json()["detail"]
    seconds = int(response.headers["retry-after"])
    assert 0 < seconds <= 15 * 60
    if retry_after is not None:
        assert seconds == retry_after


def _assert_page_throttled(response) -> None:
    assert response.status_code == 429, response.text
    assert "Too many failed sign-in attempts" in page_text(response.text)
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def _attempts(
    db, *, username: str, count: int, minutes_ago: float, address: str = TESTCLIENT_ADDRESS, succeeded: bool = False
) -> None:
    when = clock.now() - timedelta(minutes=minutes_ago)
    for _ in range(count):
        db.add(LoginAttempt(username=username, client_address=address, succeeded=succeeded, created_at=when))
    db.flush()


@pytest.fixture
def other_address_client(app):
    """A second browser, at another address, sharing the test's database session (the override is on the app)."""
    with TestClient(app, base_url="http://testserver", client=("198.51.100.23", 50000)) as other:
        yield other


# --- Per username -------------------------------------------------------------------------------


def test_sixth_page_sign_in_is_refused_even_with_the_right_password(client, db):
    make_user(db, username="asha")
    for _ in range(5):
        response = login(client, "asha", WRONG)
        assert response.status_code == 400
        assert "Enter a correct username and password" in page_text(response.text)
    response = login(client, "asha")
    _assert_page_throttled(response)
    assert "Wait 15 minutes" in page_text(response.text)
    assert client.get("/", follow_redirects=False).status_code == 303
    # The refusal is on the audit trail.
    assert (
        db.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.login_throttled")
        ).scalar_one()
        == 1
    )


def test_sixth_api_token_request_is_429_with_retry_after(client, db):
    make_user(db, username="asha")
    _fail(client, "asha", 5)
    _assert_api_throttled(_token(client, "asha"), retry_after=15 * 60)
    assert db.execute(select(func.count()).select_from(AuthToken)).scalar_one() == 0


def test_page_and_api_share_one_count(client, db):
    make_user(db, username="asha")
    _fail(client, "asha", 3)
    for _ in range(2):
        assert login(client, "asha", WRONG).status_code == 400
    _assert_page_throttled(login(client, "asha"))
    _assert_api_throttled(_token(client, "asha"))


def test_throttle_matches_usernames_however_they_are_typed(client, db):
    make_user(db, username="asha")
    for typed in ("asha", "ASHA", " Asha", "asha ", "aSHa"):
        _fail(client, typed)
    _assert_api_throttled(_token(client, "asha"))


def test_unknown_usernames_are_throttled_too(client, db):
    _fail(client, "nobody", 5)
    _assert_api_throttled(_token(client, "nobody", WRONG))


def test_throttle_on_a_username_holds_at_another_address(client, db, other_address_client):
    make_user(db, username="asha")
    _fail(client, "asha", 5)
    _assert_api_throttled(_token(other_address_client, "asha"))
    _assert_page_throttled(login(other_address_client, "asha"))


def test_a_successful_sign_in_resets_the_username_count(client, db):
    make_user(db, username="asha")
    _fail(client, "asha", 4)
    assert login(client, "asha").status_code == 303
    client.cookies.clear()
    _fail(client, "asha", 4)  # eight failures in the window, but only four since the success
    assert _token(client, "asha").status_code == 200
    _fail(client, "asha", 5)
    _assert_api_throttled(_token(client, "asha"))


# --- Per address --------------------------------------------------------------------------------


def test_other_usernames_from_the_address_work_until_the_address_limit(client, db, other_address_client):
    make_user(db, username="asha")
    make_user(db, username="ben")
    _fail(client, "asha", 5)
    _assert_api_throttled(_token(client, "asha"))
    # Ben, at the same address, is not affected by Asha's count...
    assert _token(client, "ben").status_code == 200
    # ...nor by the address count while it stays under 20 failures (5 so far; 19 after this)...
    for n in range(14):
        _fail(client, f"guess{n}")
    assert _token(client, "ben").status_code == 200
    # ...but the 20th failure from the address stops every username there, Ben's success notwithstanding.
    _fail(client, "guess14")
    _assert_api_throttled(_token(client, "ben"))
    _assert_page_throttled(login(client, "ben"))
    # Another address is not affected.
    assert _token(other_address_client, "ben").status_code == 200


def test_twenty_failures_across_usernames_block_the_address(client, db):
    make_user(db, username="asha")
    for n in range(20):
        _fail(client, f"guess{n}")
    _assert_api_throttled(_token(client, "asha"), retry_after=15 * 60)
    _assert_page_throttled(login(client, "asha"))
    _assert_api_throttled(_token(client, "someone-new", WRONG))


# --- Kept in the database, across replicas ------------------------------------------------------


def test_a_new_app_instance_still_refuses(client, db, settings):
    make_user(db, username="asha")
    _fail(client, "asha", 5)
    assert (
        db.execute(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.username == "asha", LoginAttempt.succeeded.is_(False))
        ).scalar_one()
        == 5
    )

    replica = create_app(settings)
    assert replica is not client.app

    def _session():
        yield db
        db.commit()

    replica.dependency_overrides[get_session] = _session
    with TestClient(replica, base_url="http://testserver") as other:
        _assert_api_throttled(_token(other, "asha"))
        _assert_page_throttled(login(other, "asha"))


# --- The window ---------------------------------------------------------------------------------


def test_failures_older_than_the_window_no_longer_count(client, db):
    make_user(db, username="asha")
    _attempts(db, username="asha", count=5, minutes_ago=16)
    for n in range(20):
        _attempts(db, username=f"guess{n}", count=1, minutes_ago=16)
    assert _token(client, "asha").status_code == 200
    assert login(client, "asha").status_code == 303


def test_failures_inside_the_window_still_count_and_retry_after_shrinks(client, db):
    make_user(db, username="asha")
    _attempts(db, username="asha", count=5, minutes_ago=14)
    _assert_api_throttled(_token(client, "asha"), retry_after=60)
    response = login(client, "asha")
    _assert_page_throttled(response)
    assert "Wait 1 minute and" in page_text(response.text)


def test_address_failures_inside_the_window_still_count(client, db):
    make_user(db, username="asha")
    for n in range(20):
        _attempts(db, username=f"guess{n}", count=1, minutes_ago=10)
    _assert_api_throttled(_token(client, "asha"), retry_after=5 * 60)


def test_throttled_attempts_do_not_extend_the_wait(client, db):
    make_user(db, username="asha")
    _attempts(db, username="asha", count=5, minutes_ago=14)
    for _ in range(3):
        _assert_api_throttled(_token(client, "asha", WRONG), retry_after=60)
    assert (
        db.execute(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.username == "asha")).scalar_one()
        == 5
    )


def test_simultaneous_guesses_cannot_beat_the_limit(pytestconfig, tmp_path):
    """60 wrong passwords for one username at once: only the limit (5) are checked, every other one is refused.

    Each guess runs in its own thread, connection and transaction, as concurrent requests do, against a database
    of its own (the attempts and audit events are committed). Password checks are made slow enough (argon2 with
    more memory) that every guess would pass an unguarded count before the first one is written.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sqlmodel import Session

    from app.accounts.auth import SignInResult, sign_in
    from app.accounts.passwords import passwords_configure
    from app.cli import alembic_upgrade
    from app.db import make_engine
    from tests.conftest import fresh_database_url, make_test_settings

    url = fresh_database_url(pytestconfig, tmp_path, "throttle_race")
    alembic_upgrade(url)
    settings = make_test_settings(url)
    slow = make_test_settings(url, password_time_cost=2, password_memory_kib=16384, password_parallelism=1)
    engine = make_engine(url)
    start = threading.Barrier(12)

    def guess(number: int) -> SignInResult:
        with Session(engine) as session:
            if number < 12:  # the first dozen set off together
                start.wait(timeout=30)
            result = sign_in(session, username="asha", password=WRONG, address="203.0.113.9", settings=settings)
            session.commit()
            return result.result

    passwords_configure(slow)
    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            results = list(pool.map(guess, range(60)))
    finally:
        passwords_configure(settings)
        engine.dispose()
    assert results.count(SignInResult.INVALID) == settings.login_max_failures_per_username
    assert results.count(SignInResult.THROTTLED) == 60 - settings.login_max_failures_per_username
