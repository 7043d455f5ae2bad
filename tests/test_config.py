"""app.config: settings from the environment, secret keys and their safe defaults."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings, get_settings

SETTING_NAMES = (
    "ENVIRONMENT",
    "DATABASE_URL",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "TIMEZONE",
    "COOKIE_SECURE",
    "DUE_DATE_HORIZON_YEARS",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No settings leak in from the developer's shell or a `.env` in the working directory."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_production_without_secret_key_refuses_to_start(tmp_path):
    key_file = tmp_path / "secret_key"
    with pytest.raises(ValidationError, match="SECRET_KEY must be set when ENVIRONMENT=production"):
        Settings(environment="production", secret_key_file=key_file)
    assert not key_file.exists(), "production must never fall back to a generated key file"


def test_production_reads_secret_key_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-production-secret")
    settings = get_settings()
    assert settings.environment == "production"
    assert settings.secret_key == "a-long-production-secret"


def test_development_generates_a_private_key_file_and_reuses_it(tmp_path):
    key_file = tmp_path / "nested" / "secret_key"
    first = Settings(environment="development", secret_key_file=key_file)
    assert key_file.exists()
    assert first.secret_key == key_file.read_text().strip()
    assert len(first.secret_key) >= 40
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = Settings(environment="development", secret_key_file=key_file)
    assert second.secret_key == first.secret_key


def test_development_keys_differ_between_key_files(tmp_path):
    one = Settings(secret_key_file=tmp_path / "a")
    two = Settings(secret_key_file=tmp_path / "b")
    assert one.secret_key != two.secret_key


def test_an_explicit_secret_key_wins_over_the_key_file(tmp_path):
    key_file = tmp_path / "secret_key"
    settings = Settings(secret_key="given", secret_key_file=key_file)
    assert settings.secret_key == "given"
    assert not key_file.exists()


@pytest.mark.parametrize("zone", ["Europe/Atlantis", "../../etc/passwd", "GMT+99"])
def test_unknown_timezone_is_rejected_as_a_setting_error(zone):
    # A ValidationError naming the setting, not a bare KeyError from zoneinfo.
    with pytest.raises(ValidationError, match="is not a known time zone name"):
        Settings(secret_key="x", timezone=zone)


def test_unknown_timezone_from_the_environment_is_rejected(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ValidationError, match="Mars/Olympus_Mons"):
        get_settings()


def test_known_timezone_is_usable(tmp_path):
    settings = Settings(secret_key="x", timezone="America/New_York")
    assert settings.tz.key == "America/New_York"
    assert Settings(secret_key="x").tz.key == "Europe/London"


@pytest.mark.parametrize(
    ("environment", "cookie_secure", "expected"),
    [
        ("production", None, True),
        ("development", None, False),
        ("test", None, False),
        ("production", False, False),
        ("development", True, True),
    ],
)
def test_secure_cookies_default_on_in_production_only(environment, cookie_secure, expected):
    settings = Settings(environment=environment, secret_key="x", cookie_secure=cookie_secure)
    assert settings.secure_cookies is expected


def test_cookie_secure_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("COOKIE_SECURE", "false")
    assert get_settings().secure_cookies is False


def test_unknown_environment_is_rejected():
    with pytest.raises(ValidationError):
        Settings(environment="staging", secret_key="x")


def test_is_sqlite_follows_the_database_url():
    assert Settings(secret_key="x", database_url="sqlite:////tmp/x.db").is_sqlite
    assert not Settings(secret_key="x", database_url="postgresql+psycopg://u@h/db").is_sqlite


def test_the_due_date_horizon_is_read_from_the_environment_and_today_from_the_clock(monkeypatch, set_clock):
    set_clock(datetime(2026, 12, 6, 12, tzinfo=UTC))
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DUE_DATE_HORIZON_YEARS", "5")
    rules = get_settings().due_date_rules()
    assert (rules.today, rules.horizon_years) == (date(2026, 12, 6), 5)
    assert rules.problem(date(2031, 12, 7)) == "The due date must be between 6 Dec 2026 and 6 Dec 2031"
    monkeypatch.delenv("DUE_DATE_HORIZON_YEARS")
    assert Settings(secret_key="x").due_date_horizon_years == 3


@pytest.mark.parametrize("years", ["0", "51", "three"])
def test_a_due_date_horizon_out_of_range_is_refused(monkeypatch, years):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DUE_DATE_HORIZON_YEARS", years)
    with pytest.raises(ValidationError, match="due_date_horizon_years"):
        get_settings()


def test_a_default_recommendation_due_date_must_fit_the_horizon():
    with pytest.raises(ValidationError, match="must be at most 365 days"):
        Settings(secret_key="x", due_date_horizon_years=1, due_days_normal=400)
    assert Settings(secret_key="x", due_date_horizon_years=1, due_days_normal=365).due_days_normal == 365


def test_get_settings_is_cached_until_cleared(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "first")
    assert get_settings() is get_settings()
    monkeypatch.setenv("SECRET_KEY", "second")
    assert get_settings().secret_key == "first"
    get_settings.cache_clear()
    assert get_settings().secret_key == "second"


def test_the_readme_documents_every_setting():
    """A council's operator reads the README's configuration table: every setting must be in it, by its name."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in readme]
    assert not missing, f"settings missing from the README's configuration table: {', '.join(missing)}"
