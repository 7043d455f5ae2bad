"""`caseaudit audit-trail verify` reports the redactions, on a database of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, null, select, text, update
from sqlmodel import Session
from typer.testing import CliRunner

from app import clock
from app.audit_trail.models import AuditEvent
from app.audit_trail.service import audit_record, audit_redact, audit_trail_configure, commit_and_link
from app.cli import cli
from app.config import get_settings
from app.db import make_engine
from tests.conftest import fresh_database_url


@pytest.fixture
def cli_engine(pytestconfig, tmp_path, monkeypatch) -> Iterator[Engine]:
    url = fresh_database_url(pytestconfig, tmp_path, "trail_cli")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret")
    monkeypatch.setenv("ENVIRONMENT", "test")
    get_settings.cache_clear()
    assert _run("db", "upgrade").exit_code == 0
    audit_trail_configure(get_settings())  # seal what the test records with the key the command checks
    engine = make_engine(url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def _run(*args: str):
    return CliRunner().invoke(cli, list(args), env={"COLUMNS": "200", "TERMINAL_WIDTH": "200"})


def _plain(output: str) -> str:
    return " ".join(output.translate(str.maketrans("", "", "│╭╮╰╯─")).split())


def _record_and_redact(engine) -> None:
    with Session(engine) as session:
        events = [
            audit_record(session, actor=None, action="case.view", summary=f"Viewed the case of child DEMO{i:07}")
            for i in range(1_100)
        ]
        commit_and_link(session)
        clock.clock_set(datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
        audit_redact(session, events=events[:1_050], rule="closed_cases", actor=None)
        commit_and_link(session)
        clock.clock_set(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
        audit_redact(session, events=events[1_050:1_056], rule="trail_details", actor=None)
        commit_and_link(session)


def test_verify_prints_how_many_events_were_redacted_when_and_under_which_rule(cli_engine):
    _record_and_redact(cli_engine)
    result = _run("audit-trail", "verify")
    assert result.exit_code == 0, result.output
    assert _plain(result.output) == (
        "Audit trail intact: 1,102 events checked; no signed checkpoints yet (run `caseaudit audit-trail checkpoint` "
        "daily); 1,056 events' details redacted: 2026-12-06 under rule closed_cases (1,050), "
        "2026-12-07 under rule trail_details (6)."
    )


def test_verify_fails_on_details_removed_without_a_redaction_event(cli_engine):
    _record_and_redact(cli_engine)
    with Session(cli_engine) as session:
        target = session.execute(select(AuditEvent).where(AuditEvent.seq == 1_060)).scalar_one()
        assert target.redacted_at is None
        redaction = session.execute(select(AuditEvent).where(AuditEvent.seq == 1_101)).scalar_one()
        # A redaction the database lets through (it points at a real redaction event) but that names another list.
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.id == target.id)
            .values(
                summary="Details removed under retention rule closed_cases",
                before=null(),
                after=null(),
                redacted_at=redaction.occurred_at,
                redaction_rule="closed_cases",
                redacted_by_id=redaction.id,
            )
        )
        session.commit()
        assert session.execute(text("SELECT count(*) FROM audit_event WHERE redacted_at IS NOT NULL")).scalar() == 1_057
    result = _run("audit-trail", "verify")
    assert result.exit_code == 1
    assert (
        "Audit trail BROKEN at event 1060: event 1060's details were removed without a redaction event. "
        "1,059 events before it are intact."
    ) in _plain(result.output)
