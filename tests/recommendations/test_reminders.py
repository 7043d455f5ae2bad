"""The daily reminders: who gets which items in which section, once a day whatever the number of runs, retries
after a failed send, the log instead of email without SMTP, the local day, and no recommendation text or child
anywhere but the app's own pages."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlmodel import Session
from typer.testing import CliRunner

from app.accounts.roles import Role
from app.cli import alembic_upgrade, cli
from app.config import get_settings
from app.db import make_engine
from app.recommendations import reminders, rules
from app.recommendations.models import Notification, Recommendation, ReminderDigest
from app.recommendations.reminders import (
    DUE_SOON,
    DUE_TOMORROW,
    ESCALATED,
    OVERDUE,
    Item,
    Line,
)
from tests.conftest import make_test_settings
from tests.factories import make_user
from tests.recommendations.conftest import NOW, TODAY, make_item
from tests.test_cli import cli_db  # noqa: F401  (the CLI test's own empty database)
from tests.test_mail import SmtpServer, free_port, serve_smtp

TEXT = "Secret detail about the child's placement"
LIMITS = rules.Thresholds()  # the defaults: 14, 30, 60


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    yield from serve_smtp()


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


# --- Choosing the section (pure) ------------------------------------------------------------------------------


@pytest.mark.parametrize(("ahead", "kind"), [
    (-40, OVERDUE), (-1, OVERDUE), (0, None), (1, DUE_TOMORROW), (2, DUE_SOON), (7, DUE_SOON), (8, None),
])
def test_owner_kind(ahead, kind):
    assert reminders.owner_kind(days(ahead), TODAY) == kind


def item(number: int, due: date, *, owner: int = 1, team: int | None = 10, area: int | None = 100,
         status: str = "open") -> Item:
    return Item(id=number, owner_id=owner, team_id=team, service_area_id=area, due_date=due, priority="high",
                status=status)


def compose(*items: Item) -> dict[int, list[Line]]:
    # User 1 owns; 2 manages team 10; 3 and 4 head area 100.
    return reminders.digests_compose(items, today=TODAY, limits=LIMITS, team_managers={10: 2}, heads={100: {3, 4}})


def ids(lines: list[Line], kind: str) -> list[int]:
    return [line.item.id for line in lines if line.kind == kind]


@pytest.mark.parametrize(("overdue", "manager", "heads"), [
    (1, False, False), (13, False, False), (14, True, False), (29, True, False), (30, True, True), (60, True, True),
])
def test_escalation_recipients_at_the_thresholds(overdue, manager, heads):
    digests = compose(item(7, days(-overdue)))
    assert ids(digests[1], OVERDUE) == [7]
    assert (2 in digests) is manager
    assert (3 in digests and 4 in digests) is heads
    for user_id in {2, 3, 4} & set(digests):
        assert ids(digests[user_id], ESCALATED) == [7]


def test_director_level_items_go_to_the_head_of_service_marked():
    digests = compose(item(7, days(-60)))
    assert digests[3][0].level is rules.Level.DIRECTOR
    assert "escalated to director" in reminders.line_facts(digests[3][0])
    assert "escalated to head of service" in reminders.line_facts(compose(item(8, days(-59)))[3][0])


def test_an_owner_who_manages_the_team_gets_each_item_once_with_both_sections():
    digests = compose(item(7, days(-20), owner=2), item(8, days(-20), owner=1), item(9, days(1), owner=2))
    assert [(line.kind, line.item.id) for line in digests[2]] == [(OVERDUE, 7), (DUE_TOMORROW, 9), (ESCALATED, 8)]
    assert "escalated to team manager" in reminders.line_facts(digests[2][0])


def test_no_team_manager_or_area_means_no_escalation_recipient():
    digests = compose(item(7, days(-45), team=None, area=None))
    assert list(digests) == [1]


def test_sections_are_ordered_and_sorted_by_due_date():
    digests = compose(item(5, days(6)), item(4, days(2)), item(3, days(1)), item(2, days(-3)), item(1, days(-9)))
    assert [(line.kind, line.item.id) for line in digests[1]] == [
        (OVERDUE, 1), (OVERDUE, 2), (DUE_TOMORROW, 3), (DUE_SOON, 4), (DUE_SOON, 5)]


def test_the_wording_says_numbers_dates_and_priority_only():
    lines = compose(item(12, days(-1), status="completed"), item(13, days(3)))[1]
    assert reminders.line_facts(lines[0]) == ("due 25 November 2026, high priority, 1 day overdue, "
                                              "completed, awaiting verification")
    assert reminders.notification_message(lines[1]) == ("Recommendation 13: due in the next 7 days, "
                                                       "due 29 November 2026, high priority.")
    assert reminders.digest_subject(lines) == "Recommendations to follow up: 1 overdue, 1 due in the next 7 days"
    assert reminders.digest_log_line("w.worker", lines, day=TODAY, base_url="https://audit.example/") == (
        "Reminder digest for w.worker on 2026-11-26: overdue: https://audit.example/recommendations/12 "
        "(due 2026-11-25); due in the next 7 days: https://audit.example/recommendations/13 (due 2026-11-29)")


# --- Running them: email, notifications, once a day -----------------------------------------------------------


def sections(body: str) -> dict[str, list[int]]:
    """The digest's sections as {title: [recommendation numbers]}."""
    found: dict[str, list[int]] = {}
    current = None
    for line in body.splitlines():
        heading = re.fullmatch(r"(.+) \((\d+)\)", line)
        if heading:
            current = found.setdefault(heading.group(1), [])
        elif (match := re.match(r"- Recommendation (\d+):", line)) and current is not None:
            current.append(int(match.group(1)))
    return found


@pytest.fixture
def with_emails(db: Session, world):
    for user in (world.owner, world.manager, world.hos, world.other_hos, world.lead):
        user.email = f"{user.username}@council.example"
        db.add(user)
    db.flush()
    return world


@pytest.fixture
def items(db: Session, with_emails):
    w = with_emails
    made = {
        "soon7": make_item(db, w, due_date=days(7), text=TEXT),
        "soon2": make_item(db, w, due_date=days(2), status="in_progress", text=TEXT),
        "soon8": make_item(db, w, due_date=days(8), text=TEXT),  # too far ahead
        "tomorrow": make_item(db, w, due_date=days(1), priority="urgent", text=TEXT),
        "today": make_item(db, w, due_date=TODAY, text=TEXT),  # in no section today
        "overdue5": make_item(db, w, due_date=days(-5), text=TEXT),
        "overdue13": make_item(db, w, due_date=days(-13), text=TEXT),
        "overdue14": make_item(db, w, due_date=days(-14), text=TEXT),
        "overdue29": make_item(db, w, due_date=days(-29), status="completed", text=TEXT),
        "overdue30": make_item(db, w, due_date=days(-30), text=TEXT),
        "closed": make_item(db, w, due_date=days(-40), status="closed", text=TEXT),
        # In the other area, owned by the bystander (no email address): only the other head of service hears.
        "other": make_item(db, w, case=w.other_case, owner=w.bystander, due_date=days(-31), text=TEXT),
    }
    return {name: row.id for name, row in made.items()}


def run(db: Session, settings, **kwargs) -> reminders.RemindersReport:
    return reminders.reminders_run(db, settings=settings, now=kwargs.pop("now", NOW), **kwargs)


def by_recipient(server: SmtpServer) -> dict[str, object]:
    return {received.recipients[0]: received for received in server.received}


def test_each_person_gets_one_digest_with_their_items_in_the_right_sections(db, smtp_server, database_url, items):
    report = run(db, smtp_server.settings(database_url, base_url="https://audit.example"))
    assert (report.sent, report.failed, report.logged) == (4, 0, 0)
    assert report.skipped == 1  # the bystander has no email address
    mails = by_recipient(smtp_server)
    assert sorted(mails) == ["hos@council.example", "manager@council.example", "otherhos@council.example",
                             "owner@council.example"]
    owner = mails["owner@council.example"]
    assert sections(owner.body) == {
        "Overdue": [items["overdue30"], items["overdue29"], items["overdue14"], items["overdue13"],
                    items["overdue5"]],
        "Due tomorrow": [items["tomorrow"]],
        "Due in the next 7 days": [items["soon2"], items["soon7"]],
    }
    assert owner.message["Subject"] == ("Recommendations to follow up: 5 overdue, 1 due tomorrow, "
                                        "2 due in the next 7 days")
    assert f"https://audit.example/recommendations/{items['tomorrow']}" in owner.body
    assert "urgent priority" in owner.body and "Sign in to see the details." in owner.body
    # 14 days overdue reaches the team manager, 13 does not; 30 reaches the head of service, 29 does not.
    assert sections(mails["manager@council.example"].body) == {
        "Escalated to you": [items["overdue30"], items["overdue29"], items["overdue14"]]}
    assert sections(mails["hos@council.example"].body) == {"Escalated to you": [items["overdue30"]]}
    assert sections(mails["otherhos@council.example"].body) == {"Escalated to you": [items["other"]]}
    assert mails["hos@council.example"].message["Subject"] == "Recommendations to follow up: 1 escalated to you"
    for received in smtp_server.received:
        assert TEXT not in received.body and "CHILD000" not in received.body


def test_the_same_items_become_notifications_once_a_day(db, smtp_server, database_url, items, world):
    settings = smtp_server.settings(database_url)
    first = run(db, settings)
    rows = db.execute(select(Notification.user_id, Notification.recommendation_id, Notification.kind)
                      .where(Notification.day == TODAY)).all()
    assert first.notifications == len(rows) == 8 + 3 + 1 + 1 + 1  # owner, manager, hos, other hos, bystander
    assert (world.manager.id, items["overdue14"], ESCALATED) in rows
    assert (world.owner.id, items["tomorrow"], DUE_TOMORROW) in rows
    assert (world.bystander.id, items["other"], OVERDUE) in rows  # no email address: in the app only
    assert not any(TEXT in message for message in db.execute(select(Notification.message)).scalars())

    second = run(db, settings, now=NOW + timedelta(hours=3))
    assert (second.sent, second.already_sent, second.notifications) == (0, 4, 0)
    assert len(smtp_server.received) == 4  # nothing new
    assert db.execute(select(ReminderDigest.status)).scalars().all() == ["sent"] * 4

    tomorrow = run(db, settings, now=NOW + timedelta(days=1))
    assert (tomorrow.sent, tomorrow.already_sent) == (4, 0)
    assert tomorrow.notifications > 0


def test_a_failed_send_is_marked_and_the_next_run_that_day_retries_it(db, smtp_server, database_url, items, caplog):
    settings = smtp_server.settings(database_url)
    smtp_server.inbox.refuse = "451 4.3.0 Try again later"
    caplog.set_level(logging.INFO, logger="caseaudit.reminders")
    failed = run(db, settings)
    assert (failed.sent, failed.failed) == (0, 4)
    assert db.execute(select(ReminderDigest.status)).scalars().all() == ["failed"] * 4
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 4 and all("(SMTP 451)" in message for message in warnings)
    assert "@council.example" not in caplog.text and TEXT not in caplog.text
    assert smtp_server.received == []

    smtp_server.inbox.refuse = None
    retried = run(db, settings, now=NOW + timedelta(hours=1))
    assert (retried.sent, retried.failed, retried.already_sent, retried.notifications) == (4, 0, 0, 0)
    assert len(smtp_server.received) == 4
    assert db.execute(select(ReminderDigest.status)).scalars().all() == ["sent"] * 4


def test_without_smtp_the_digest_goes_to_the_log_without_the_text(db, database_url, items, world, caplog):
    caplog.set_level(logging.INFO, logger="caseaudit.reminders")
    report = run(db, make_test_settings(database_url, base_url="https://audit.example"))
    assert (report.logged, report.sent, report.skipped) == (4, 0, 1)
    lines = [r.getMessage() for r in caplog.records if r.name == "caseaudit.reminders"]
    (owner_line,) = [line for line in lines if line.startswith("Reminder digest for owner ")]
    assert f"https://audit.example/recommendations/{items['tomorrow']} (due {days(1).isoformat()})" in owner_line
    assert any(line.startswith("Reminder digest for manager ") for line in lines)
    assert any(f"user {world.bystander.id}" in line and "no email address" in line for line in lines)
    for secret in (TEXT, "CHILD0001", "CHILD0002", "@council.example", "Wes Worker", "bystander"):
        assert secret not in caplog.text
    assert set(db.execute(select(ReminderDigest.channel)).scalars()) == {"log"}
    assert run(db, make_test_settings(database_url)).already_sent == 4  # not logged twice


def test_inactive_people_get_nothing(db, smtp_server, database_url, items, world):
    world.manager.active = False
    db.add(world.manager)
    db.flush()
    report = run(db, smtp_server.settings(database_url))
    assert "manager@council.example" not in by_recipient(smtp_server)
    assert report.sent == 3
    assert db.execute(select(Notification).where(Notification.user_id == world.manager.id)).first() is None


def test_a_head_of_service_of_another_area_gets_nothing_from_this_one(db, smtp_server, database_url, with_emails):
    make_item(db, with_emails, due_date=days(-45))
    run(db, smtp_server.settings(database_url))
    assert "otherhos@council.example" not in by_recipient(smtp_server)
    assert "hos@council.example" in by_recipient(smtp_server)


def test_the_day_is_the_local_one(db, smtp_server, database_url, with_emails):
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
    tomorrow = make_item(db, with_emails, due_date=date(2026, 7, 2))
    due_that_day = make_item(db, with_emails, due_date=date(2026, 7, 1))  # in no section on 1 July
    report = run(db, smtp_server.settings(database_url), now=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    assert report.day == date(2026, 7, 1)
    (owner,) = smtp_server.received
    assert sections(owner.body) == {"Due tomorrow": [tomorrow.id]}
    assert db.execute(select(ReminderDigest.day)).scalar_one() == date(2026, 7, 1)

    # The same moment on a server configured for UTC is still 30 June.
    in_utc = run(db, smtp_server.settings(database_url, timezone="UTC"),
                 now=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    assert in_utc.day == date(2026, 6, 30)
    assert sections(smtp_server.received[-1].body) == {"Due tomorrow": [due_that_day.id],
                                                       "Due in the next 7 days": [tomorrow.id]}


def test_the_number_of_queries_does_not_grow_with_the_items(db, database_url, with_emails, engine):
    settings = make_test_settings(database_url)
    statements: list[str] = []

    def count(*args, **kwargs) -> None:
        statements.append(args[2])

    for n in range(2):
        make_item(db, with_emails, due_date=days(-3 - n))
    event.listen(engine, "before_cursor_execute", count)
    try:
        run(db, settings)
        few = len(statements)
        for n in range(60):
            make_item(db, with_emails, due_date=days(-2 - n % 10))
        statements.clear()
        run(db, settings, now=NOW + timedelta(days=1))
        many = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert many == few, (few, many)
    assert few < 20, statements


# --- The command ---------------------------------------------------------------------------------------------


def test_the_command_sends_prints_a_summary_and_fails_when_a_send_fails(cli_db, smtp_server, monkeypatch):  # noqa: F811
    alembic_upgrade(cli_db)
    engine = make_engine(cli_db)
    try:
        with Session(engine) as session:
            owner = make_user(session, username="w.worker", roles=(Role.PRACTITIONER,))
            owner.email = "w.worker@council.example"
            session.add(Recommendation(text=TEXT, owner_id=owner.id, raised_by_id=owner.id, priority="high",
                                       due_date=date(2026, 11, 27)))
            session.commit()
    finally:
        engine.dispose()
    monkeypatch.setenv("SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("SMTP_STARTTLS", "false")
    get_settings.cache_clear()

    result = CliRunner().invoke(cli, ["reminders", "--date", "2026-11-26"])
    assert result.exit_code == 0, result.output
    assert ("Reminders for 2026-11-26: 1 sent, 0 logged, 0 skipped (no email address), 0 failed, 0 already sent "
            "today; 1 notifications added.") in result.output
    (received,) = smtp_server.received
    assert received.recipients == ["w.worker@council.example"]
    assert "Due tomorrow (1)" in received.body

    again = CliRunner().invoke(cli, ["reminders", "--date", "2026-11-26"])
    assert again.exit_code == 0 and "0 sent" in again.output and "1 already sent today" in again.output

    monkeypatch.setenv("SMTP_PORT", str(free_port()))  # nothing listens there
    get_settings.cache_clear()
    failing = CliRunner().invoke(cli, ["reminders", "--date", "2026-11-28"])
    assert failing.exit_code == 1
    assert "1 failed" in failing.output and "run the command again today to retry" in failing.output
    assert "w.worker@council.example" not in failing.output

    bad = CliRunner().invoke(cli, ["reminders", "--date", "27/11/2026"])
    assert bad.exit_code == 1 and "--date must be a date as YYYY-MM-DD" in bad.output
