"""The email outbox against a real SMTP server: an email added in a transaction is sent once, whatever the number of
runs; a refused send is tried again later, backing off, and given up in the end; a person without an address (or no
longer active) is skipped with the reason; without SMTP_HOST the emails wait. The command says what it did."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session
from typer.testing import CliRunner

from app.accounts.roles import Role
from app.cli import alembic_upgrade, cli
from app.db import make_engine
from app.notifications import outbox
from app.notifications.models import EmailOutbox
from tests.conftest import TEST_NOW, make_test_settings
from tests.factories import make_user
from tests.test_cli import cli_db  # noqa: F401  (the CLI test's own empty database)
from tests.test_mail import free_port

NOW = TEST_NOW


@pytest.fixture
def wes(db):
    user = make_user(db, username="wes", roles=(Role.PRACTITIONER,), full_name="Wes Worker")
    user.email = "wes@council.example"
    db.add(user)
    db.flush()
    return user


def add(db: Session, user, key: str = "test:1", **fields) -> bool:
    values = {"subject": "Safeguarding concern for child CHILD0042", "body": "Sign in to read it.", "kind": "test"}
    return outbox.outbox_add(db, user=user, key=key, now=NOW, **{**values, **fields})


def rows(db: Session) -> list[EmailOutbox]:
    db.expire_all()
    return list(db.execute(select(EmailOutbox).order_by(EmailOutbox.id)).scalars())


def test_adding_the_same_key_twice_adds_one_email(db, wes):
    assert add(db, wes) is True
    assert add(db, wes, subject="Another subject") is False
    (row,) = rows(db)
    assert (row.to_user_id, row.to_address, row.subject, row.kind) == (
        wes.id,
        "wes@council.example",
        "Safeguarding concern for child CHILD0042",
        "test",
    )
    assert row.sent_at is None and row.attempts == 0 and row.next_attempt_at == NOW


def test_a_due_email_is_sent_once_to_the_persons_current_address(db, wes, job_sessions, smtp_server, database_url):
    add(db, wes)
    wes.email = "wes.worker@council.example"  # changed since it was added: the current address is used
    db.add(wes)
    db.flush()
    settings = smtp_server.settings(database_url, smtp_from="audit@council.example")
    report = outbox.outbox_deliver(job_sessions, settings=settings, now=NOW)
    assert (report.sent, report.failed, report.skipped) == (1, 0, 0)
    (received,) = smtp_server.received
    assert received.recipients == ["wes.worker@council.example"]
    assert received.message["Subject"] == "Safeguarding concern for child CHILD0042"
    assert received.body == "Sign in to read it.\n"
    (row,) = rows(db)
    assert row.sent_at == NOW and row.attempts == 1 and row.next_attempt_at is None and row.last_error == ""
    again = outbox.outbox_deliver(job_sessions, settings=settings, now=NOW + timedelta(hours=1))
    assert again.sent == 0 and len(smtp_server.received) == 1


def test_a_refused_send_is_tried_again_later_backing_off(db, wes, job_sessions, smtp_server, database_url):
    add(db, wes)
    settings = smtp_server.settings(database_url)
    smtp_server.inbox.refuse = "451 4.3.0 <wes@council.example> try again later"
    first = outbox.outbox_deliver(job_sessions, settings=settings, now=NOW)
    assert (first.sent, first.failed) == (0, 1)
    (row,) = rows(db)
    assert row.attempts == 1 and row.sent_at is None
    assert row.last_error == f"The mail server at 127.0.0.1:{smtp_server.port} refused the message (SMTP 451)."
    assert row.next_attempt_at == NOW + timedelta(minutes=1)
    assert "wes" not in " ".join(first.failures)
    # Not due again yet: nothing is tried.
    assert outbox.outbox_deliver(job_sessions, settings=settings, now=NOW + timedelta(seconds=59)).failed == 0
    assert rows(db)[0].attempts == 1
    second = outbox.outbox_deliver(job_sessions, settings=settings, now=NOW + timedelta(minutes=1))
    assert second.failed == 1
    (row,) = rows(db)
    assert row.attempts == 2 and row.next_attempt_at == NOW + timedelta(minutes=3)  # then 2 minutes
    smtp_server.inbox.refuse = None
    assert outbox.outbox_deliver(job_sessions, settings=settings, now=NOW + timedelta(minutes=2)).sent == 0
    third = outbox.outbox_deliver(job_sessions, settings=settings, now=NOW + timedelta(minutes=3))
    assert third.sent == 1 and len(smtp_server.received) == 1
    (row,) = rows(db)
    assert row.attempts == 3 and row.sent_at == NOW + timedelta(minutes=3) and row.last_error == ""


def test_the_back_off_doubles_up_to_an_hour():
    assert [outbox.backoff(n) for n in (1, 2, 3, 6, 7, 8, 20)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 32, 60, 60, 60)
    ]


def test_after_the_last_attempt_it_is_given_up(db, wes, job_sessions, database_url):
    add(db, wes)
    (row,) = rows(db)
    row.attempts = outbox.MAX_ATTEMPTS - 1
    db.add(row)
    db.flush()
    port = free_port()  # nothing listens there
    settings = make_test_settings(database_url, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    report = outbox.outbox_deliver(job_sessions, settings=settings, now=NOW)
    assert (report.failed, report.gave_up) == (0, 1)
    assert f"given up after {outbox.MAX_ATTEMPTS} attempts" in report.failures[0]
    (row,) = rows(db)
    assert row.next_attempt_at is None and row.sent_at is None
    assert row.last_error.startswith(f"Could not send through the mail server at 127.0.0.1:{port}")
    assert outbox.outbox_deliver(job_sessions, settings=settings, now=NOW + timedelta(days=1)).gave_up == 0


def test_people_without_an_address_or_an_active_account_are_skipped_with_the_reason(
    db, wes, job_sessions, smtp_server, database_url
):
    nobody = make_user(db, username="noaddress", roles=(Role.PRACTITIONER,))
    gone = make_user(db, username="gone", roles=(Role.PRACTITIONER,), active=False)
    gone.email = "gone@council.example"
    db.add(gone)
    db.flush()
    add(db, nobody, key="test:nobody")
    add(db, gone, key="test:gone")
    add(db, wes, key="test:wes")
    report = outbox.outbox_deliver(job_sessions, settings=smtp_server.settings(database_url), now=NOW)
    assert (report.sent, report.skipped) == (1, 2)
    assert [r.recipients for r in smtp_server.received] == [["wes@council.example"]]
    by_user = {row.to_user_id: row for row in rows(db)}
    assert by_user[nobody.id].last_error == "Not sent: the person has no email address."
    assert by_user[gone.id].last_error == "Not sent: the person's account is not active."
    assert by_user[nobody.id].next_attempt_at is None and by_user[nobody.id].attempts == 0
    later = outbox.outbox_deliver(
        job_sessions, settings=smtp_server.settings(database_url), now=NOW + timedelta(days=1)
    )
    assert (later.sent, later.skipped) == (0, 0)


def test_a_row_another_run_has_claimed_is_left_to_it(db, wes, job_sessions):
    add(db, wes)
    (row,) = rows(db)
    with job_sessions() as session:
        claimed = outbox._claim(session, row.id, NOW)
        session.commit()
    assert claimed is not None and claimed.to == "wes@council.example" and claimed.attempts == 1
    with job_sessions() as session:
        assert outbox._claim(session, row.id, NOW) is None  # its lease has moved it on
        assert outbox._claim(session, row.id, NOW + outbox.CLAIM_LEASE) is not None  # a run that died: tried again


def test_without_smtp_the_emails_wait(db, wes, job_sessions, database_url, caplog):
    add(db, wes)
    report = outbox.outbox_deliver(job_sessions, settings=make_test_settings(database_url), now=NOW)
    assert (report.sent, report.failed, report.waiting) == (0, 0, 1)
    assert "1 waiting: SMTP_HOST is not set" in report.summary()
    (row,) = rows(db)
    assert row.attempts == 0 and row.next_attempt_at == NOW
    assert "wes" not in caplog.text


def test_the_command_sends_says_what_it_did_and_fails_when_a_send_fails(cli_db, smtp_server, monkeypatch, set_clock):
    alembic_upgrade(cli_db)
    engine = make_engine(cli_db)
    try:
        with Session(engine) as session:
            user = make_user(session, username="w.worker", roles=(Role.PRACTITIONER,))
            user.email = "w.worker@council.example"
            session.add(user)
            session.flush()
            outbox.outbox_add(session, user=user, subject="S", body="B", kind="test", key="cli:1", now=NOW)
            outbox.outbox_add(session, user=user, subject="S2", body="B2", kind="test", key="cli:2", now=NOW)
            session.commit()
    finally:
        engine.dispose()
    smtp_server.use_in_environment(monkeypatch)
    smtp_server.inbox.refuse = "451 4.3.0 try again later"
    failing = CliRunner().invoke(cli, ["outbox", "deliver"])
    assert failing.exit_code == 1
    assert "Outbox: 0 sent, 2 failed (to be tried again)" in failing.output
    assert "refused the message (SMTP 451)" in failing.output and "w.worker" not in failing.output
    smtp_server.inbox.refuse = None
    set_clock(NOW + timedelta(minutes=2))  # past the first back-off
    result = CliRunner().invoke(cli, ["outbox", "deliver"])
    assert result.exit_code == 0, result.output
    assert "Outbox: 2 sent, 0 failed (to be tried again), 0 given up" in result.output
    assert [r.recipients for r in smtp_server.received] == [["w.worker@council.example"]] * 2
    again = CliRunner().invoke(cli, ["outbox", "deliver"])
    assert again.exit_code == 0 and "Outbox: 0 sent" in again.output
