"""Password hashing: production parameters by default, the settings' parameters once configured, re-hash on change."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.accounts import passwords
from app.config import Settings


def _settings(**overrides: object) -> Settings:
    return Settings(environment="test", secret_key="x" * 32, **overrides)


@pytest.fixture
def restore_test_cost():
    yield
    passwords.passwords_configure(_settings())  # the suite's cheap parameters (from the environment)


def test_production_parameters_are_argon2id_at_rfc_9106_strength(restore_test_cost, monkeypatch):
    for name in ("PASSWORD_TIME_COST", "PASSWORD_MEMORY_KIB", "PASSWORD_PARALLELISM"):
        monkeypatch.delenv(name, raising=False)
    production = _settings()
    assert (production.password_time_cost, production.password_memory_kib, production.password_parallelism) == (
        3,
        65536,
        4,
    )
    passwords.passwords_configure(production)
    hashed = passwords.password_hash("correct horse battery")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.password_verify("correct horse battery", hashed) == (True, None)
    assert passwords.password_verify("wrong horse battery", hashed)[0] is False


def test_a_hash_made_with_other_parameters_is_upgraded_at_the_next_check(restore_test_cost):
    passwords.passwords_configure(_settings(password_time_cost=1, password_memory_kib=8, password_parallelism=1))
    cheap = passwords.password_hash("correct horse battery")
    assert "m=8,t=1,p=1" in cheap
    passwords.passwords_configure(_settings(password_time_cost=2, password_memory_kib=1024, password_parallelism=1))
    ok, upgraded = passwords.password_verify("correct horse battery", cheap)
    assert ok and upgraded is not None and "m=1024,t=2,p=1" in upgraded


def test_no_stored_hash_still_fails_after_doing_the_work():
    assert passwords.password_verify("anything at all", None) == (False, None)


def test_memory_below_argon2s_minimum_is_refused_naming_the_setting():
    with pytest.raises(ValidationError, match="PASSWORD_MEMORY_KIB"):
        _settings(password_memory_kib=8, password_parallelism=4)
