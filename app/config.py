"""Settings read from the environment (and `.env`), shared by the web app and the CLI."""

from __future__ import annotations

import secrets
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app import clock
from app.date_rules import DueDateRules
from app.working_days import Jurisdiction

PROJECT_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_DIR / "var"
DEFAULT_IMPORT_PREVIEW_EXPIRY_HOURS = 24


def _default_database_url() -> str:
    return f"sqlite:///{VAR_DIR / 'caseaudit.db'}"


def _local_secret_key(path: Path) -> str:
    """Return the secret stored for local use, creating it on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


class Settings(BaseSettings):
    """Every setting the service reads; environment variable names are the field names in upper case."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default_factory=_default_database_url)
    secret_key: str | None = None
    secret_key_file: Path = VAR_DIR / "secret_key"
    timezone: str = "Europe/London"
    base_url: str = "http://127.0.0.1:8000"
    service_name: str = "Case file audit"

    # Multi-agency audits: when a partner representative sees the agency sections that are not theirs.
    partner_sees_other_sections: Literal["after_panel", "always", "never"] = "after_panel"

    # Cookies and sessions
    cookie_secure: bool | None = None
    session_lifetime_minutes: int = 8 * 60
    session_idle_minutes: int = 60
    api_token_lifetime_minutes: int = 24 * 60

    # Password hashing (argon2id): the defaults are pwdlib's (RFC 9106's second recommended option). Stored hashes
    # made with other parameters are re-hashed at the next sign-in.
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65536, ge=8)
    password_parallelism: int = Field(default=4, ge=1)

    # Throttling of failed sign-ins (kept in the database, so it holds across replicas)
    login_max_failures_per_username: int = 5
    login_max_failures_per_address: int = 20
    login_throttle_window_minutes: int = 15

    # The largest request body accepted (an uploaded extract, most of all), in MB; bigger ones are refused with 413
    # before they are read
    max_upload_mb: int = Field(default=50, ge=1, le=2000)

    # An import preview nobody confirms expires after this many hours (its uploaded files are then deleted)
    import_preview_expiry_hours: int = Field(default=DEFAULT_IMPORT_PREVIEW_EXPIRY_HOURS, ge=1, le=24 * 90)

    # The audit trail's seal: each event is sealed with an HMAC under this key (default: derived from SECRET_KEY),
    # which the database never holds; signed checkpoints of the chain are appended to files in the directory
    # (somewhere the database's users cannot rewrite), which `caseaudit audit-trail verify` checks
    audit_trail_key: str | None = None
    audit_trail_checkpoint_dir: Path = VAR_DIR / "audit-trail-checkpoints"

    # The case management system's record for a child, e.g. https://mosaic.example/person/{child_id}
    case_system_url_template: str | None = None

    # Whose weekends and public holidays "working days" in timescales skip (app.working_days)
    working_days_jurisdiction: Jurisdiction = "england_and_wales"

    # Moderation agreement: an auditor is flagged for refresher training when even the upper 95% bound of their
    # weighted kappa (or their exact agreement, when kappa is undefined) is below agreement_low_kappa, over at least
    # agreement_min_pairs audits; with fewer, or an interval that straddles the threshold, it cannot yet be told
    agreement_min_pairs: int = Field(default=5, ge=1)
    agreement_low_kappa: float = Field(default=0.4, ge=-1, le=1)

    # Moderation rate: a cycle's random share rises to moderation_raised_rate (when higher) for an auditor with fewer
    # than moderation_new_auditor_audits moderated audits, or whose kappa's upper 95% bound is below
    # agreement_low_kappa
    moderation_new_auditor_audits: int = Field(default=5, ge=0)
    moderation_raised_rate: float = Field(default=0.5, ge=0, le=1)

    # Recommendations: days overdue at which an item escalates past its owner to the team manager, the head of
    # service and the director; and the default days to the due date by priority
    escalate_team_manager_days: int = Field(default=14, ge=1)
    escalate_head_of_service_days: int = Field(default=30, ge=1)
    escalate_director_days: int = Field(default=60, ge=1)
    due_days_urgent: int = Field(default=7, ge=1)
    due_days_high: int = Field(default=28, ge=1)
    due_days_normal: int = Field(default=56, ge=1)

    # Safeguarding escalations: one not acknowledged is chased every this many working hours (09:00 to 17:00, Monday
    # to Friday, in TIMEZONE, public holidays of WORKING_DAYS_JURISDICTION excluded): the recipient again, then the
    # heads of service of the case's area, then the QA leads (`caseaudit escalations chase`)
    escalation_chase_working_hours: int = Field(default=4, ge=1, le=80)

    # Due dates (cycles, audits, recommendations): set or changed, one must be from today to this many years ahead
    # (app/date_rules.py); the programme page offers the years from 2000 to the same horizon
    due_date_horizon_years: int = Field(default=3, ge=1, le=50)

    # Reports: rates from fewer answers than this are "too few to judge" and never ranked; the targets file
    # (default app/reports/targets.yaml)
    report_min_n: int = Field(default=10, ge=1)
    report_targets_file: Path | None = None

    # Outgoing email (recommendation reminders); without SMTP_HOST the reminders are written to the log
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "case-file-audit@localhost"
    smtp_starttls: bool = True

    # Background work (app/jobs): on PostgreSQL, `caseaudit worker` processes run the queue; on SQLite, a thread in
    # the app process does (JOBS_IN_PROCESS; off in tests, which run jobs themselves)
    jobs_in_process: bool = True
    job_stalled_after_seconds: int = Field(default=60, ge=2, le=3600)

    # Issued board packs (app/reports/packs): attached to the email up to this size, otherwise sent as a signed link
    # that works for this many days
    board_pack_attach_max_mb: int = Field(default=5, ge=0, le=25)  # 0: always a link
    board_pack_link_days: int = Field(default=14, ge=1, le=90)

    # The privacy notice and accessibility statement (/privacy, /accessibility): the council's own text, as
    # privacy.html and accessibility.html in this folder; unset (or a file missing), the shipped templates
    notices_dir: Path | None = None

    # The retention schedule (app/retention): the council's YAML file; unset, the shipped default
    # (app/retention/default_schedule.yaml, with the source of each period). The daily job applies it unless off.
    retention_schedule: Path | None = None
    retention_run_daily: bool = True

    # Single sign-on (OpenID Connect, app/accounts/sso): the council's provider and, optionally, a second one for
    # partner agencies. Scopes, claims and clock leeway are shared by both.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid email profile groups"
    oidc_username_claim: str = "email"
    oidc_groups_claim: str = "groups"
    oidc_button_text: str = "Sign in with your council account"
    oidc_mapping_file: Path | None = None
    oidc_create_users: bool = False
    oidc_leeway_seconds: int = Field(default=120, ge=0, le=600)
    partner_oidc_issuer: str | None = None
    partner_oidc_client_id: str | None = None
    partner_oidc_client_secret: str | None = None
    partner_oidc_button_text: str = "Sign in with your partner agency account"
    partner_oidc_mapping_file: Path | None = None
    # Passwords switched off for everyone but these (comma-separated) usernames, once single sign-on is set up
    sso_only: bool = False
    break_glass_usernames: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        # ZoneInfoNotFoundError is a KeyError, which pydantic would not report as a validation error.
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"TIMEZONE {value!r} is not a known time zone name, for example Europe/London") from None
        return value

    @model_validator(mode="after")
    def _password_memory_enough(self) -> Settings:
        if self.password_memory_kib < 8 * self.password_parallelism:
            raise ValueError("PASSWORD_MEMORY_KIB must be at least 8 times PASSWORD_PARALLELISM (argon2's minimum)")
        return self

    @model_validator(mode="after")
    def _escalation_in_order(self) -> Settings:
        if not (self.escalate_team_manager_days <= self.escalate_head_of_service_days <= self.escalate_director_days):
            raise ValueError(
                "ESCALATE_TEAM_MANAGER_DAYS, ESCALATE_HEAD_OF_SERVICE_DAYS and ESCALATE_DIRECTOR_DAYS "
                "must be in that order (each at least the one before)"
            )
        return self

    @model_validator(mode="after")
    def _default_due_within_horizon(self) -> Settings:
        # A recommendation's default due date is a due date like any other: within the horizon.
        last = 365 * self.due_date_horizon_years
        if max(self.due_days_urgent, self.due_days_high, self.due_days_normal) > last:
            raise ValueError(
                f"DUE_DAYS_URGENT, DUE_DAYS_HIGH and DUE_DAYS_NORMAL must be at most {last} days "
                f"(DUE_DATE_HORIZON_YEARS is {self.due_date_horizon_years})"
            )
        return self

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        for prefix in ("oidc", "partner_oidc"):
            if getattr(self, f"{prefix}_issuer"):
                missing = [
                    f"{prefix}_{name}".upper()
                    for name in ("client_id", "client_secret", "mapping_file")
                    if not getattr(self, f"{prefix}_{name}")
                ]
                if missing:
                    raise ValueError(f"{prefix.upper()}_ISSUER is set, so {' and '.join(missing)} must be set too")
        if self.sso_only and not self.oidc_issuer:
            raise ValueError("SSO_ONLY needs single sign-on set up: set OIDC_ISSUER (and its client) too")
        return self

    @model_validator(mode="after")
    def _secret_key_present(self) -> Settings:
        if not self.secret_key:
            if self.environment == "production":
                raise ValueError("SECRET_KEY must be set when ENVIRONMENT=production")
            self.secret_key = _local_secret_key(self.secret_key_file)
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.environment == "production"

    @property
    def break_glass(self) -> frozenset[str]:
        """The usernames that may still sign in with a password when SSO_ONLY is on (lower case)."""
        return frozenset(name.strip().lower() for name in self.break_glass_usernames.split(",") if name.strip())

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self) -> date:
        """Today's date where the service is used (not UTC): due dates and ages are local."""
        return clock.today(self.tz)

    def due_date_rules(self, today: date | None = None) -> DueDateRules:
        """The due-date rules (app/date_rules.py) as they stand today, or on the day given."""
        return DueDateRules(today=today or self.today(), horizon_years=self.due_date_horizon_years, zone=self.tz)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
