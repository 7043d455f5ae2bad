"""`caseaudit retention check` and `caseaudit retention run [--dry-run]`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import LoginAttempt
from app.retention.models import RetentionRun
from app.retention.schedule import DEFAULT_SCHEDULE
from tests.test_cli import cli_db, engine, failed, ok, plain, upgraded  # noqa: F401  (the CLI's fixtures)

OLD = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)  # nearly three years before the tests' today (2026-11-26)


def _bad_schedule(tmp_path: Path) -> Path:
    data = yaml.safe_load(DEFAULT_SCHEDULE.read_text(encoding="utf-8"))
    data["rules"]["sign_in_attempts"]["keep"] = "a while"
    path = tmp_path / "retention.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_check_prints_the_schedule_and_names_a_mistake(upgraded, tmp_path, monkeypatch) -> None:
    out = plain(ok("retention", "check"))
    assert (
        "default_schedule.yaml: valid" in out and "closed_cases: keep 6 years after case_closed, then anonymise" in out
    )
    monkeypatch.setenv("RETENTION_SCHEDULE", str(_bad_schedule(tmp_path)))
    from app.config import get_settings

    get_settings.cache_clear()
    out = plain(failed("retention", "check"))
    assert "rules.sign_in_attempts.keep: 'a while' is not a period like '6 years'" in out


def test_a_dry_run_prints_what_is_due_and_the_run_applies_it(upgraded, engine) -> None:
    with Session(engine) as session:
        session.add(LoginAttempt(username="someone", client_address="127.0.0.1", succeeded=False, created_at=OLD))
        session.commit()

    out = plain(ok("retention", "run", "--dry-run"))
    assert out.startswith("Dry run: nothing will change.")
    assert "sign_in_attempts: 1 due (on or before 2025-11-26), 0 kept by a legal hold; 1 would be deleted (ids" in out
    with Session(engine) as session:
        assert session.execute(select(LoginAttempt)).all() and not session.execute(select(RetentionRun)).all()

    out = plain(ok("retention", "run"))
    assert "sign_in_attempts: 1 due (on or before 2025-11-26), 0 kept by a legal hold; 1 were deleted" in out
    assert "Removed, anonymised or redacted: 1; kept by legal holds: 0." in out
    with Session(engine) as session:
        assert not session.execute(select(LoginAttempt).where(LoginAttempt.username == "someone")).all()
        (run,) = session.execute(select(RetentionRun)).scalars()
        assert run.status == "done" and run.summary["sign_in_attempts"]["done"] == 1
