"""The pure pieces behind signing in: token digests, the sign-in throttle's arithmetic, CSRF tokens."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest

from app import clock
from app.accounts.auth import login_throttle_minutes, token_digest
from app.accounts.models import LoginAttempt
from app.web.csrf import csrf_token_for, new_nonce, valid_nonce
from tests.conftest import make_test_settings

ADDRESS = "203.0.113.7"


def _attempts(
    db, *, username: str, count: int, minutes_ago: float = 0, succeeded: bool = False, address: str = ADDRESS
) -> None:
    when = clock.now() - timedelta(minutes=minutes_ago)
    for _ in range(count):
        db.add(LoginAttempt(username=username, client_address=address, succeeded=succeeded, created_at=when))
    db.flush()


def _wait(db, settings, username: str = "asha", address: str = ADDRESS) -> int:
    return login_throttle_minutes(db, username=username, address=address, settings=settings)


# --- token_digest -----------------------------------------------------------------------------


def test_token_digest_is_the_sha256_hex_of_the_raw_token():
    raw = "abc123-token"
    digest = token_digest(raw)
    assert digest == hashlib.sha256(raw.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert raw not in digest


def test_token_digest_is_stable_and_distinguishes_tokens():
    assert token_digest("one") == token_digest("one")
    assert token_digest("one") != token_digest("One")
    assert token_digest("one") != token_digest("one ")


# --- login_throttle_minutes -------------------------------------------------------------------


def test_no_attempts_means_no_wait(db, settings):
    assert _wait(db, settings) == 0


def test_four_failures_are_allowed_the_fifth_starts_a_full_window_wait(db, settings):
    _attempts(db, username="asha", count=4)
    assert _wait(db, settings) == 0
    _attempts(db, username="asha", count=1)
    assert _wait(db, settings) == settings.login_throttle_window_minutes == 15


def test_wait_counts_down_from_the_oldest_failure_in_the_window(db, settings):
    _attempts(db, username="asha", count=1, minutes_ago=10)
    _attempts(db, username="asha", count=4, minutes_ago=2)
    # The oldest failure leaves the window in 5 minutes.
    assert _wait(db, settings) == 5


def test_a_wait_of_under_a_minute_is_rounded_up_to_one(db, settings):
    _attempts(db, username="asha", count=5, minutes_ago=14.9)
    assert _wait(db, settings) == 1


def test_failures_older_than_the_window_do_not_count(db, settings):
    _attempts(db, username="asha", count=50, minutes_ago=16)
    assert _wait(db, settings) == 0
    _attempts(db, username="asha", count=4)
    assert _wait(db, settings) == 0


def test_failures_for_one_username_do_not_throttle_another(db, settings):
    _attempts(db, username="asha", count=5)
    assert _wait(db, settings, "asha") > 0
    assert _wait(db, settings, "ben") == 0


def test_a_success_resets_the_username_count(db, settings):
    _attempts(db, username="asha", count=4, minutes_ago=5)
    _attempts(db, username="asha", count=1, minutes_ago=4, succeeded=True)
    _attempts(db, username="asha", count=4, minutes_ago=3)
    assert _wait(db, settings) == 0
    _attempts(db, username="asha", count=1, minutes_ago=1)
    # Five failures since the success; the oldest of them, 3 minutes ago, sets the wait.
    assert _wait(db, settings) == 12


def test_the_address_limit_applies_to_every_username_from_that_address(db, settings):
    for n in range(19):
        _attempts(db, username=f"guess{n}", count=1)
    assert _wait(db, settings, "asha") == 0
    _attempts(db, username="guess19", count=1)
    assert _wait(db, settings, "asha") == 15
    assert _wait(db, settings, "asha", address="198.51.100.1") == 0


def test_a_success_from_an_address_does_not_reset_its_failure_count(db, settings):
    # Otherwise anyone holding one working account could spray guesses at every other
    # account from one address, signing in to their own every 19 guesses.
    for n in range(19):
        _attempts(db, username=f"guess{n}", count=1, minutes_ago=2)
    _attempts(db, username="insider", count=1, minutes_ago=1, succeeded=True)
    _attempts(db, username="guess19", count=1)
    assert _wait(db, settings, "asha") > 0


def test_limits_and_window_come_from_settings(db, database_url):
    strict = make_test_settings(database_url, login_max_failures_per_username=2, login_throttle_window_minutes=60)
    _attempts(db, username="asha", count=2, minutes_ago=30)
    assert _wait(db, strict) == 30


# --- CSRF tokens --------------------------------------------------------------------------------


def test_csrf_token_depends_on_the_nonce_and_on_the_secret():
    a, b = new_nonce(), new_nonce()
    assert a != b
    assert csrf_token_for(a, "secret-one") == csrf_token_for(a, "secret-one")
    assert csrf_token_for(a, "secret-one") != csrf_token_for(b, "secret-one")
    assert csrf_token_for(a, "secret-one") != csrf_token_for(a, "secret-two")
    assert a not in csrf_token_for(a, "secret-one")


def test_new_nonces_are_valid():
    for _ in range(20):
        assert valid_nonce(new_nonce())


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "short",
        "a" * 31,
        "a" * 65,
        "a" * 40 + " ",
        "a" * 40 + "=",
        "../../" + "a" * 40,
        "a" * 40 + "\n",  # `$` alone would let a trailing newline through
        "a" * 20 + ";" + "a" * 20,
        "ä" * 40,
    ],
)
def test_valid_nonce_rejects_junk(value):
    assert not valid_nonce(value)
