"""The `caseaudit` command line, run against a fresh database of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, select, text, update
from sqlmodel import Session
from typer.testing import CliRunner

from app.accounts.models import Team, TrainingRecord, User
from app.accounts.passwords import password_verify
from app.audit_trail.models import AuditEvent
from app.cli import cli
from app.config import get_settings
from app.db import make_engine
from app.demo.generator import DEMO_PASSWORD, demo_logins
from tests.conftest import fresh_database_url

PASSWORD = "cli-password-123"


@pytest.fixture
def cli_db(pytestconfig, tmp_path, monkeypatch) -> Iterator[str]:
    """Point the CLI's settings at an empty database; settings are cached, so clear them either side."""
    url = fresh_database_url(pytestconfig, tmp_path, "cli")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret")
    monkeypatch.setenv("ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture
def engine(cli_db) -> Iterator[Engine]:
    engine = make_engine(cli_db)
    yield engine
    engine.dispose()


def run(*args: str):
    """Run a command as a terminal 80 columns wide, whatever the terminal running the tests is."""
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    return result


_BOX = str.maketrans("", "", "│╭╮╰╯─")


def plain(output: str) -> str:
    """The words of the output on one line: no boxes, no wrapping (both depend on the width and path lengths)."""
    return " ".join(output.translate(_BOX).split())


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, f"{args} failed: {result.output}"
    return result.output


def failed(*args: str) -> str:
    """Run a command that must fail cleanly: exit code 1 and a message, no traceback."""
    result = run(*args)
    assert result.exit_code == 1, f"{args} should have failed: {result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture
def upgraded(cli_db) -> str:
    ok("db", "upgrade")
    return cli_db


def user_named(engine: Engine, username: str) -> User | None:
    with Session(engine) as session:
        return session.execute(select(User).where(User.username == username)).unique().scalar_one_or_none()


def test_db_upgrade_creates_the_schema_and_is_repeatable(cli_db, engine):
    assert "Database is up to date." in ok("db", "upgrade")
    with engine.connect() as connection:
        head = connection.execute(text("SELECT last_seq FROM audit_chain_head")).scalar_one()
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert head == 0 and version
    assert "Database is up to date." in ok("db", "upgrade")


def test_no_arguments_shows_help():
    result = run()
    assert "Usage" in result.output
    for command in ("db", "teams", "users", "demo-data", "audit-trail", "serve"):
        assert command in result.output


def test_teams_create(upgraded, engine):
    output = ok("teams", "create", "--name", "MASH", "--service-area", "Front Door")
    assert "Created team MASH" in output and "in Front Door" in output
    with Session(engine) as session:
        team = session.execute(select(Team).where(Team.name == "MASH")).unique().scalar_one()
        assert team.service_area.name == "Front Door"
        event = session.execute(select(AuditEvent).where(AuditEvent.action == "team.create")).scalar_one()
        assert (event.actor_id, event.actor_label) == (None, "system")


def test_teams_create_duplicate_fails_with_a_message(upgraded):
    ok("teams", "create", "--name", "MASH", "--service-area", "Front Door")
    output = failed("teams", "create", "--name", " mash ", "--service-area", "Front Door")
    assert "Error: name: A team called mash already exists" in output


def test_users_create_with_several_roles_and_a_team(upgraded, engine):
    ok("teams", "create", "--name", "MASH", "--service-area", "Front Door")
    output = ok(
        "users",
        "create",
        "--username",
        "a.patel",
        "--password",
        PASSWORD,
        "--role",
        "auditor",
        "--role",
        "moderator",
        "--team",
        "mash",
        "--full-name",
        "Asha Patel",
        "--email",
        "asha@example.org",
    )
    assert "Created user a.patel" in output and "with roles auditor, moderator" in output
    user = user_named(engine, "a.patel")
    assert user is not None
    assert user.roles == {"auditor", "moderator"}
    assert user.team.name == "MASH"
    assert (user.full_name, user.email) == ("Asha Patel", "asha@example.org")
    assert password_verify(PASSWORD, user.password_hash)[0]


def test_users_create_without_full_name_uses_the_username(upgraded, engine):
    ok("users", "create", "--username", "lead", "--password", PASSWORD, "--role", "qa_lead")
    assert user_named(engine, "lead").full_name == "lead"


def test_users_create_with_a_bad_role_fails_readably(upgraded, engine):
    output = failed("users", "create", "--username", "u1", "--password", PASSWORD, "--role", "overlord")
    assert output.startswith("Error: roles.0:")
    assert "qa_lead" in output and "auditor" in output  # names the roles that are allowed
    assert user_named(engine, "u1") is None


def test_users_create_with_an_unknown_team_fails(upgraded, engine):
    output = failed(
        "users", "create", "--username", "u1", "--password", PASSWORD, "--role", "auditor", "--team", "Nowhere"
    )
    assert "Error: there is no team called Nowhere" in output
    assert user_named(engine, "u1") is None


def test_users_create_with_a_short_password_fails(upgraded, engine):
    output = failed("users", "create", "--username", "u1", "--password", "short", "--role", "auditor")
    assert "Error: password:" in output and "10 characters" in output
    assert user_named(engine, "u1") is None


def test_users_create_duplicate_fails(upgraded):
    ok("users", "create", "--username", "u1", "--password", PASSWORD, "--role", "auditor")
    assert "The username u1 is already taken" in failed(
        "users", "create", "--username", "U1", "--password", PASSWORD, "--role", "auditor"
    )


def test_users_create_needs_a_role():
    result = run("users", "create", "--username", "u1", "--password", PASSWORD)
    assert result.exit_code == 2
    assert "--role" in result.output


def test_users_train(upgraded, engine):
    ok("users", "create", "--username", "u1", "--password", PASSWORD, "--role", "auditor")
    output = ok(
        "users",
        "train",
        "--username",
        " U1 ",
        "--kind",
        "auditor",
        "--completed-on",
        "2026-01-01",
        "--expires-on",
        "2028-01-01",
    )
    assert "Recorded auditor training for u1." in output
    user_id = user_named(engine, "u1").id
    with Session(engine) as session:
        record = session.execute(select(TrainingRecord)).scalar_one()
    assert (record.kind, record.completed_on, record.expires_on) == ("auditor", date(2026, 1, 1), date(2028, 1, 1))
    assert record.user_id == user_id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--username", "ghost", "--kind", "auditor", "--completed-on", "2026-01-01"),
            "Error: there is no user called ghost",
        ),
        (("--username", "u1", "--kind", "juggling", "--completed-on", "2026-01-01"), "Error: kind:"),
        (("--username", "u1", "--kind", "auditor", "--completed-on", "2026-02-31"), "Error: completed_on:"),
        (
            ("--username", "u1", "--kind", "auditor", "--completed-on", "2026-01-01", "--expires-on", "2025-01-01"),
            "Expiry date must be after the date completed",
        ),
    ],
)
def test_users_train_refuses_bad_input(upgraded, engine, args, message):
    ok("users", "create", "--username", "u1", "--password", PASSWORD, "--role", "auditor")
    assert message in failed("users", "train", *args)
    with Session(engine) as session:
        assert session.execute(select(TrainingRecord)).first() is None


def test_demo_data_loads_and_prints_the_logins(upgraded, engine):
    output = ok("demo-data")
    assert "Loaded demo data (synthetic: no real people or children)." in output
    assert f"Demo logins (password for all: {DEMO_PASSWORD}):" in output
    for demo in demo_logins():
        assert demo.username in output
    qa_lead = user_named(engine, "qa.lead")
    assert qa_lead is not None and "qa_lead" in qa_lead.roles
    assert password_verify(DEMO_PASSWORD, qa_lead.password_hash)[0]
    assert user_named(engine, "t.brennan") is not None  # loaded, though not listed as a login
    assert "t.brennan" not in output


def test_demo_data_if_empty_on_a_loaded_database_leaves_it_alone(upgraded, engine):
    ok("demo-data")
    with Session(engine) as session:
        users_before = len(session.execute(select(User.id)).all())
    output = ok("demo-data", "--if-empty")
    assert "The database already has data; demo data not loaded." in output
    assert f"Demo logins (password for all: {DEMO_PASSWORD}):" in output
    with Session(engine) as session:
        assert len(session.execute(select(User.id)).all()) == users_before


def test_demo_data_without_if_empty_refuses_a_database_with_users(upgraded):
    ok("users", "create", "--username", "u1", "--password", PASSWORD, "--role", "auditor")
    output = failed("demo-data")
    assert "the database already has users" in output


def test_demo_data_if_empty_on_a_database_with_other_users_prints_no_demo_logins(upgraded):
    ok("users", "create", "--username", "u1", "--password", PASSWORD, "--role", "auditor")
    output = ok("demo-data", "--if-empty")
    assert "already has data" in output
    assert "Demo logins" not in output


def test_audit_trail_verify_passes_on_an_intact_trail(upgraded):
    ok("teams", "create", "--name", "MASH", "--service-area", "Front Door")
    output = ok("audit-trail", "verify")
    assert "Audit trail intact: 2 events checked; no signed checkpoints yet" in output


def test_a_checkpoint_is_written_outside_the_database_and_verify_checks_it(upgraded, engine, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_TRAIL_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    get_settings.cache_clear()
    ok("teams", "create", "--name", "MASH", "--service-area", "Front Door")
    assert "Checkpoint at event 2 written to" in ok("audit-trail", "checkpoint")
    assert "Audit trail intact: 2 events checked, 1 checkpoint matched." in ok("audit-trail", "verify")
    with engine.begin() as connection:  # cut the newest event and wind the head back to the one before, exactly
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        else:
            connection.execute(text("DROP TRIGGER audit_event_no_delete"))
        first_hash = connection.execute(text("SELECT hash FROM audit_event WHERE seq = 1")).scalar_one()
        connection.execute(text("DELETE FROM audit_event WHERE seq = 2"))
        connection.execute(text("UPDATE audit_chain_head SET last_seq = 1, last_hash = :h"), {"h": first_hash})
    output = failed("audit-trail", "verify")
    assert "the newest events were removed: the checkpoint of" in plain(output) and "reached event 2" in output


def test_audit_trail_verify_fails_after_tampering(upgraded, engine):
    ok("teams", "create", "--name", "MASH", "--service-area", "Front Door")
    ok("users", "create", "--username", "u1", "--password", PASSWORD, "--role", "auditor")
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        else:
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
        connection.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(summary="Nothing to see"))
    output = failed("audit-trail", "verify")
    assert "Audit trail BROKEN at event 2: event 2 was changed after it was recorded." in output
    assert "1 events before it are intact." in output


def test_templates_publish_then_demo_data_gives_the_demo_auditor_audits(upgraded, engine):
    output = ok("templates", "publish")
    assert "Templates published: case_file_audit v1, case_file_audit v2, dip_sample v1" in output
    assert "none new; 9 already published and unchanged" in ok("templates", "publish")
    assert "Loaded 300 demo cases and 4 audits for the demo auditor." in ok("demo-data")
    from app.audits.models import Audit

    with Session(engine) as session:
        auditor = user_named(engine, "auditor")
        audits = session.execute(select(Audit).where(Audit.status != "completed")).scalars().all()
        assert {a.auditor_id for a in audits} == {auditor.id}
        assert sorted(a.template_key for a in audits) == ["case_file_audit", "dip_sample", "dip_sample", "dip_sample"]


def test_demo_data_without_templates_says_to_publish_them(upgraded):
    assert "and 0 audits for the demo auditor (publish the templates first" in ok("demo-data")


def test_the_commands_make_run_uses_work_in_a_fresh_interpreter(upgraded):
    """`make run` calls each command in a new process, with only what the CLI imports: every table it touches
    (and every table those point at) must be known there, not just when the whole app happens to be loaded."""
    import os
    import subprocess
    import sys

    for args in (["templates", "publish"], ["demo-data", "--if-empty", "--cases", "20"]):
        done = subprocess.run(
            [sys.executable, "-c", "from app.cli import main; main()", *args],
            capture_output=True,
            text=True,
            env={**os.environ},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    assert "Loaded 20 demo cases and 4 audits" in done.stdout
