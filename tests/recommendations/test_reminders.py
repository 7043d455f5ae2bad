"""The daily reminders: who gets which items in which section, once a day whatever the number of runs, retries
after a failed send, the log instead of email without SMTP, the local day, and no recommendation text or child
anywhere but the app's own pages. The notifications: one per person and item, rewritten (unread again) only when
the item's state changes, removed once it is closed or no longer the person's concern."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, event, select, update
from sqlmodel import Session
from typer.testing import CliRunner

from app.accounts.roles import Role
from app.cli import alembic_upgrade, cli
from app.config import get_settings
from app.db import make_engine
from app.notifications import service as notification_service
from app.notifications.models import Notification
from app.recommendations import reminders, rules
from app.recommendations.models import Recommendation, ReminderDigest
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


@pytest.mark.parametrize(
    ("ahead", "kind"),
    [
        (-40, OVERDUE),
        (-1, OVERDUE),
        (0, None),
        (1, DUE_TOMORROW),
        (2, DUE_SOON),
        (7, DUE_SOON),
        (8, None),
    ],
)
def test_owner_kind(ahead, kind):
    assert reminders.owner_kind(days(ahead), TODAY) == kind


def item(
    number: int, due: date, *, owner: int = 1, team: int | None = 10, area: int | None = 100, status: str = "open"
) -> Item:
    return Item(
        id=number, owner_id=owner, team_id=team, service_area_id=area, due_date=due, priority="high", status=status
    )


def compose(*items: Item, today: date = TODAY) -> dict[int, list[Line]]:
    # User 1 owns; 2 manages team 10; 3 and 4 head area 100.
    return reminders.digests_compose(items, today=today, limits=LIMITS, team_managers={10: 2}, heads={100: {3, 4}})


def ids(lines: list[Line], kind: str) -> list[int]:
    return [line.item.id for line in lines if line.kind == kind]


@pytest.mark.parametrize(
    ("overdue", "manager", "heads"),
    [
        (1, False, False),
        (13, False, False),
        (14, True, False),
        (29, True, False),
        (30, True, True),
        (60, True, True),
    ],
)
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
        (OVERDUE, 1),
        (OVERDUE, 2),
        (DUE_TOMORROW, 3),
        (DUE_SOON, 4),
        (DUE_SOON, 5),
    ]


def test_the_wording_says_numbers_dates_and_priority_only():
    lines = compose(item(12, days(-1), status="completed"), item(13, days(3)))[1]
    assert reminders.line_facts(lines[0]) == (
        "due 25 November 2026, high priority, 1 day overdue, completed, awaiting verification"
    )
    assert reminders.notification_message(lines[1]) == (
        "Recommendation 13: due in the next 7 days, due 29 November 2026, high priority."
    )
    assert reminders.digest_subject(lines) == "Recommendations to follow up: 1 overdue, 1 due in the next 7 days"
    assert reminders.digest_log_line("w.worker", lines, day=TODAY, base_url="https://audit.example/") == (
        "Reminder digest for w.worker on 2026-11-26: overdue: https://audit.example/recommendations/12 "
        "(due 2026-11-25); due in the next 7 days: https://audit.example/recommendations/13 (due 2026-11-29)"
    )


def messages(digests: dict[int, list[Line]]) -> dict[int, list[str]]:
    return {user_id: [reminders.notification_message(line) for line in lines] for user_id, lines in digests.items()}


def test_notification_messages_say_the_state_in_words_that_do_not_change_from_day_to_day():
    overdue = item(7, days(-20), status="completed")
    assert messages(compose(overdue)) == {
        1: [
            (
                "Recommendation 7: overdue since 6 November 2026, high priority, escalated to team manager, "
                "completed, awaiting verification."
            )
        ],
        2: [
            (
                "Recommendation 7: escalated to you (team manager): overdue since 6 November 2026, high priority, "
                "completed, awaiting verification."
            )
        ],
    }
    # The next days, until the next threshold, say exactly the same.
    for later in range(1, 10):
        assert messages(compose(overdue, today=days(later))) == messages(compose(overdue))
    assert messages(compose(item(8, days(1))))[1] == [
        "Recommendation 8: due tomorrow, due 27 November 2026, high priority."
    ]


def test_escalated_messages_say_as_whom_it_came_and_how_far_it_has_gone():
    at_head = compose(item(7, days(-30)))
    assert messages(at_head)[2] == [
        (
            "Recommendation 7: escalated to you (team manager): overdue since 27 October "
            "2026, high priority, escalated to head of service."
        )
    ]
    assert (
        messages(at_head)[3]
        == messages(at_head)[4]
        == ["Recommendation 7: escalated to you (head of service): overdue since 27 October 2026, high priority."]
    )
    at_director = compose(item(8, days(-60)))
    assert messages(at_director)[3] == [
        (
            "Recommendation 8: escalated to you (head of service): overdue since "
            "27 September 2026, high priority, escalated to director."
        )
    ]
    # A head of service who also manages the team hears it as head of service.
    both = reminders.digests_compose(
        [item(9, days(-30))], today=TODAY, limits=LIMITS, team_managers={10: 3}, heads={100: {3}}
    )
    assert "escalated to you (head of service): " in reminders.notification_message(both[3][0])


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
    assert sorted(mails) == [
        "hos@council.example",
        "manager@council.example",
        "otherhos@council.example",
        "owner@council.example",
    ]
    owner = mails["owner@council.example"]
    assert sections(owner.body) == {
        "Overdue": [items["overdue30"], items["overdue29"], items["overdue14"], items["overdue13"], items["overdue5"]],
        "Due tomorrow": [items["tomorrow"]],
        "Due in the next 7 days": [items["soon2"], items["soon7"]],
    }
    assert owner.message["Subject"] == (
        "Recommendations to follow up: 5 overdue, 1 due tomorrow, 2 due in the next 7 days"
    )
    assert f"https://audit.example/recommendations/{items['tomorrow']}" in owner.body
    assert "urgent priority" in owner.body and "Sign in to see the details." in owner.body
    # 14 days overdue reaches the team manager, 13 does not; 30 reaches the head of service, 29 does not.
    assert sections(mails["manager@council.example"].body) == {
        "Escalated to you": [items["overdue30"], items["overdue29"], items["overdue14"]]
    }
    assert sections(mails["hos@council.example"].body) == {"Escalated to you": [items["overdue30"]]}
    assert sections(mails["otherhos@council.example"].body) == {"Escalated to you": [items["other"]]}
    assert mails["hos@council.example"].message["Subject"] == "Recommendations to follow up: 1 escalated to you"
    for received in smtp_server.received:
        assert TEXT not in received.body and "CHILD000" not in received.body


def notifications(db: Session) -> dict[tuple[int, int], Notification]:
    """Every notification by (user id, recommendation id), read afresh."""
    db.expire_all()
    return {(row.user_id, row.recommendation_id): row for row in db.execute(select(Notification)).scalars()}


def test_the_same_items_become_notifications_once(db, smtp_server, database_url, items, world):
    settings = smtp_server.settings(database_url)
    first = run(db, settings)
    rows = db.execute(
        select(Notification.user_id, Notification.recommendation_id, Notification.kind, Notification.day)
    ).all()
    assert first.notifications == len(rows) == 8 + 3 + 1 + 1 + 1  # owner, manager, hos, other hos, bystander
    assert (world.manager.id, items["overdue14"], ESCALATED, TODAY) in rows
    assert (world.owner.id, items["tomorrow"], DUE_TOMORROW, TODAY) in rows
    assert (world.bystander.id, items["other"], OVERDUE, TODAY) in rows  # no email address: in the app only
    assert not any(TEXT in message for message in db.execute(select(Notification.message)).scalars())

    before = notifications(db)
    second = run(db, settings, now=NOW + timedelta(hours=3))
    assert (second.sent, second.already_sent) == (0, 4)
    assert (second.notifications, second.notifications_updated, second.notifications_removed) == (0, 0, 0)
    assert len(smtp_server.received) == 4  # nothing new
    assert db.execute(select(ReminderDigest.status)).scalars().all() == ["sent"] * 4
    assert {key: (row.id, row.created_at) for key, row in notifications(db).items()} == {
        key: (row.id, row.created_at) for key, row in before.items()
    }


def test_the_next_day_adds_rows_only_for_new_items_and_rewrites_only_the_changed_ones(
    db, smtp_server, database_url, items, world
):
    settings = smtp_server.settings(database_url)
    run(db, settings)
    for user in (world.owner, world.manager, world.hos):
        notification_service.notifications_mark_all_read(db, user_id=user.id, now=NOW + timedelta(hours=1))
    before = notifications(db)

    later = NOW + timedelta(days=1)
    tomorrow = run(db, settings, now=later)
    assert (tomorrow.sent, tomorrow.already_sent) == (4, 0)  # the digest is still daily
    after = notifications(db)
    owner, manager, hos = world.owner.id, world.manager.id, world.hos.id
    # New: soon8 is now 7 days ahead, "today" is overdue, overdue13 reached the manager, overdue29 the head.
    assert set(after) - set(before) == {
        (owner, items["soon8"]),
        (owner, items["today"]),
        (manager, items["overdue13"]),
        (hos, items["overdue29"]),
    }
    # Changed: soon2 is due tomorrow; overdue13 escalated to the manager, overdue29 to the head of service.
    changed = {
        (owner, items["soon2"]),
        (owner, items["overdue13"]),
        (owner, items["overdue29"]),
        (manager, items["overdue29"]),
    }
    assert (tomorrow.notifications, tomorrow.notifications_updated, tomorrow.notifications_removed) == (4, 4, 0)
    assert set(before) <= set(after)
    for key, row in after.items():
        if key in changed:
            assert (row.id, row.read_at, row.day, row.created_at) == (before[key].id, None, days(1), later), key
        elif key in before:  # still overdue (or still due soon): the same row, still read, not repeated
            assert row.id == before[key].id and row.message == before[key].message, key
            assert (row.day, row.read_at is None) == (TODAY, before[key].read_at is None), key
    assert after[(owner, items["overdue5"])].message == (
        f"Recommendation {items['overdue5']}: overdue since 21 November 2026, normal priority."
    )
    assert after[(owner, items["overdue5"])].read_at is not None
    assert after[(owner, items["soon2"])].kind == DUE_TOMORROW
    assert after[(manager, items["overdue29"])].message.endswith(
        "escalated to head of service, completed, awaiting verification."
    )
    # Due today: in no section, but the owner keeps yesterday's "due tomorrow", as it was.
    assert after[(owner, items["tomorrow"])].kind == DUE_TOMORROW
    assert after[(owner, items["tomorrow"])].read_at is not None


def test_a_change_of_kind_rewrites_the_row_and_makes_it_unread(db, database_url, with_emails, world):
    settings = make_test_settings(database_url)
    owner = world.owner.id
    due = make_item(db, with_emails, due_date=days(1))
    run(db, settings)
    (row,) = notifications(db).values()
    assert row.kind == DUE_TOMORROW
    assert row.message == f"Recommendation {due.id}: due tomorrow, due 27 November 2026, normal priority."
    notification_service.notifications_mark_all_read(db, user_id=owner, now=NOW)

    assert run(db, settings, now=NOW + timedelta(days=1)).notifications_updated == 0  # due today: left as it is
    assert notifications(db)[(owner, due.id)].read_at is not None

    report = run(db, settings, now=NOW + timedelta(days=2))
    after = notifications(db)[(owner, due.id)]
    assert (report.notifications, report.notifications_updated) == (0, 1)
    assert (after.id, after.kind, after.read_at, after.day, after.created_at) == (
        row.id,
        OVERDUE,
        None,
        days(2),
        NOW + timedelta(days=2),
    )
    assert after.message == f"Recommendation {due.id}: overdue since 27 November 2026, normal priority."


def test_overdue_becomes_escalated_when_someone_else_takes_the_item_on(db, database_url, with_emails, world):
    settings = make_test_settings(database_url)
    taken = make_item(db, with_emails, owner=world.manager, due_date=days(-20))
    run(db, settings)
    row = notifications(db)[(world.manager.id, taken.id)]
    assert row.kind == OVERDUE
    notification_service.notifications_mark_all_read(db, user_id=world.manager.id, now=NOW)

    db.execute(update(Recommendation).where(Recommendation.id == taken.id).values(owner_id=world.owner.id))
    report = run(db, settings, now=NOW + timedelta(hours=1))
    after = notifications(db)
    assert (report.notifications, report.notifications_updated, report.notifications_removed) == (1, 1, 0)
    assert (after[(world.manager.id, taken.id)].id, after[(world.manager.id, taken.id)].kind) == (row.id, ESCALATED)
    assert after[(world.manager.id, taken.id)].read_at is None
    assert after[(world.owner.id, taken.id)].kind == OVERDUE


def test_a_closed_item_loses_its_notifications_on_the_next_run(db, database_url, with_emails, world):
    settings = make_test_settings(database_url)
    closing = make_item(db, with_emails, due_date=days(-30))
    postponed = make_item(db, with_emails, due_date=days(-3))
    made_due_today = make_item(db, with_emails, due_date=days(-20))
    staying = make_item(db, with_emails, due_date=days(-5))
    assert run(db, settings).notifications == 3 + 1 + 2 + 1  # closing: owner, manager and head of service

    db.execute(
        update(Recommendation)
        .where(Recommendation.id == closing.id)
        .values(status=rules.CLOSED, closed_at=NOW + timedelta(hours=1))
    )
    db.execute(update(Recommendation).where(Recommendation.id == postponed.id).values(due_date=days(30)))
    db.execute(update(Recommendation).where(Recommendation.id == made_due_today.id).values(due_date=TODAY))
    report = run(db, settings, now=NOW + timedelta(hours=2))
    assert (report.notifications, report.notifications_updated, report.notifications_removed) == (0, 0, 6)
    assert set(notifications(db)) == {(world.owner.id, staying.id)}
    assert run(db, settings, now=NOW + timedelta(hours=3)).notifications_removed == 0


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
    assert (
        retried.sent,
        retried.failed,
        retried.already_sent,
        retried.notifications,
        retried.notifications_updated,
    ) == (4, 0, 0, 0, 0)
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
    in_utc = run(db, smtp_server.settings(database_url, timezone="UTC"), now=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    assert in_utc.day == date(2026, 6, 30)
    assert sections(smtp_server.received[-1].body) == {
        "Due tomorrow": [due_that_day.id],
        "Due in the next 7 days": [tomorrow.id],
    }


def test_a_row_deleted_alongside_the_run_before_its_update_does_not_fail_it(
    db, database_url, with_emails, world, monkeypatch
):
    settings = make_test_settings(database_url)
    moving = make_item(db, with_emails, due_date=days(2))
    run(db, settings)
    insert_rows = reminders._insert_ignoring_duplicates

    def and_another_run_deletes_it(session, rows):  # between this run's read and its bulk UPDATE
        session.execute(delete(Notification).where(Notification.recommendation_id == moving.id))
        insert_rows(session, rows)

    monkeypatch.setattr(reminders, "_insert_ignoring_duplicates", and_another_run_deletes_it)
    make_item(db, with_emails, due_date=days(-1))  # so that there is something to insert
    report = run(db, settings, now=NOW + timedelta(days=1))  # due soon -> due tomorrow: an update of a gone row
    assert (report.notifications, report.notifications_updated, report.logged) == (1, 1, 1)
    assert (world.owner.id, moving.id) not in notifications(db)


def test_the_number_of_queries_does_not_grow_with_the_items(db, database_url, with_emails, engine):
    """Two rounds of two days each, the second with 30 times the items: each second day adds, rewrites and
    removes notifications (new items, items due in two days that are now due tomorrow, closed items), all in the
    same few statements. Only the owner has items (under 14 days overdue throughout), so one digest a day."""
    settings = make_test_settings(database_url)
    statements: list[str] = []

    def count(*args, **kwargs) -> None:
        statements.append(args[2])

    def second_day(start: int, n: int) -> reminders.RemindersReport:
        first = TODAY + timedelta(days=start)
        closing = [make_item(db, with_emails, due_date=first - timedelta(days=1 + k % 5)) for k in range(n)]
        for _ in range(n):
            make_item(db, with_emails, due_date=first + timedelta(days=2))  # due soon, then due tomorrow
        run(db, settings, now=NOW + timedelta(days=start))
        db.execute(
            update(Recommendation)
            .where(Recommendation.id.in_([row.id for row in closing]))
            .values(status=rules.CLOSED, closed_at=NOW + timedelta(days=start, hours=1))
        )
        for k in range(n):
            make_item(db, with_emails, due_date=first - timedelta(days=k % 5))  # new overdue ones
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            return run(db, settings, now=NOW + timedelta(days=start + 1))
        finally:
            event.remove(engine, "before_cursor_execute", count)

    few_report = second_day(0, 2)
    few = list(statements)
    many_report = second_day(2, 60)
    many = list(statements)
    assert (few_report.notifications, few_report.notifications_updated, few_report.notifications_removed) == (2, 2, 2)
    assert (many_report.notifications, many_report.notifications_updated, many_report.notifications_removed) >= (
        60,
        60,
        60,
    )
    assert len(many) == len(few), (few, many)
    assert len(few) < 20, few
    # The notifications' writes: one INSERT, one UPDATE and one DELETE (each a single executemany).
    for verb in ("INSERT INTO notification", "UPDATE notification", "DELETE FROM notification"):
        assert sum(statement.lstrip().startswith(verb) for statement in many) == 1, (verb, many)


# --- The command ---------------------------------------------------------------------------------------------


def test_the_command_sends_prints_a_summary_and_fails_when_a_send_fails(cli_db, smtp_server, monkeypatch):
    alembic_upgrade(cli_db)
    engine = make_engine(cli_db)
    try:
        with Session(engine) as session:
            owner = make_user(session, username="w.worker", roles=(Role.PRACTITIONER,))
            owner.email = "w.worker@council.example"
            session.add(
                Recommendation(
                    text=TEXT, owner_id=owner.id, raised_by_id=owner.id, priority="high", due_date=date(2026, 11, 27)
                )
            )
            session.commit()
    finally:
        engine.dispose()
    monkeypatch.setenv("SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("SMTP_STARTTLS", "false")
    get_settings.cache_clear()

    result = CliRunner().invoke(cli, ["reminders", "--date", "2026-11-26"])
    assert result.exit_code == 0, result.output
    assert (
        "Reminders for 2026-11-26: 1 sent, 0 logged, 0 skipped (no email address), 0 failed, 0 already sent "
        "today; 1 notifications added, 0 updated, 0 removed."
    ) in result.output
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
