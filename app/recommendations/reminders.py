"""The daily reminders (`caseaudit reminders`) and the in-app notifications they leave.

For one local day, each person gets at most one digest:

    owner              their outstanding items due in 2 to 7 days, due tomorrow, or overdue
    team manager       the team's overdue items that reached the team-manager threshold (or beyond)
    head of service    their area's overdue items that reached the head-of-service threshold (or beyond);
                       items at the director threshold come to them too, marked "escalated to director"

An item due today is in no section: yesterday's digest said "due tomorrow", tomorrow's will say "overdue".
An item someone owns is listed once, in their own sections (with how far it has escalated), never again as
escalated to them.

The same items are the people's in-app notifications: one Notification row per person and item, saying the item's
current state in words that do not change from day to day ("overdue since 3 November 2026"). Each run adds the
rows that are missing, rewrites (and marks unread again) those whose section or wording changed, leaves the rest
alone, and deletes the rows of items that are closed or no longer concern that person, so the table never holds
more than the outstanding items' recipients. An item due today keeps its owner's "due tomorrow" (or "due soon")
notification until tomorrow's run makes it "overdue".

The digest goes by email (or, without SMTP_HOST, to the log). It is claimed (a ReminderDigest row, unique per person
and day) and committed before it is sent, so a second run the same day sends nothing twice, even alongside the
first; a digest whose sending failed is marked failed, and the next run that day tries it again. Neither the email
nor the log carries the recommendation's text or anything about the child: numbers, dates, priority and a link only.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app import clock, mail
from app.accounts.models import Team, User, UserRole
from app.accounts.roles import Role
from app.config import Settings
from app.db import SessionMaker
from app.errors import DomainError
from app.notifications.models import Notification
from app.recommendations import rules
from app.recommendations.models import Recommendation, ReminderDigest
from app.recommendations.service import thresholds

logger = logging.getLogger("caseaudit.reminders")

# Notification kinds, which are also the digest's sections (in the order the digest lists them).
OVERDUE, DUE_TOMORROW, DUE_SOON, ESCALATED = "overdue", "due_tomorrow", "due_in_7_days", "escalated"
KINDS = (OVERDUE, DUE_TOMORROW, DUE_SOON, ESCALATED)
SECTION_TITLES = {
    OVERDUE: "Overdue",
    DUE_TOMORROW: "Due tomorrow",
    DUE_SOON: "Due in the next 7 days",
    ESCALATED: "Escalated to you",
}
SOON_DAYS = 7  # "due in the next 7 days": 2 to 7 days ahead (tomorrow has its own section)

SMTP, LOG = "smtp", "log"  # ReminderDigest.channel
SENT, FAILED = "sent", "failed"  # ReminderDigest.status

_RANK = {rules.Level.OWNER: 0, rules.Level.TEAM_MANAGER: 1, rules.Level.HEAD_OF_SERVICE: 2, rules.Level.DIRECTOR: 3}
_ESCALATED_TO = {
    rules.Level.TEAM_MANAGER: "escalated to team manager",
    rules.Level.HEAD_OF_SERVICE: "escalated to head of service",
    rules.Level.DIRECTOR: "escalated to director",
}


# --- Choosing and wording (pure) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """An outstanding recommendation, as much of it as a reminder may say (no text, nothing about the child)."""

    id: int
    owner_id: int
    team_id: int | None
    service_area_id: int | None
    due_date: date
    priority: str
    status: str = rules.OPEN


@dataclass(frozen=True)
class Line:
    """One item in one person's digest."""

    kind: str
    item: Item
    days_overdue: int
    level: rules.Level | None
    recipient: rules.Level | None = None  # an escalated line: as whom it came to this person (manager or head)


def owner_kind(due: date, today: date) -> str | None:
    """The owner's section for an item due on `due`: overdue, due tomorrow, due in 2 to 7 days, or none."""
    ahead = (due - today).days
    if ahead < 0:
        return OVERDUE
    if ahead == 1:
        return DUE_TOMORROW
    if 2 <= ahead <= SOON_DAYS:
        return DUE_SOON
    return None


def digests_compose(
    items: Iterable[Item],
    *,
    today: date,
    limits: rules.Thresholds,
    team_managers: Mapping[int, int],
    heads: Mapping[int, Iterable[int]],
) -> dict[int, list[Line]]:
    """Each person's lines for the day, in digest order. `team_managers`: team id -> manager's user id;
    `heads`: service area id -> the user ids of its heads of service."""
    lines: dict[int, dict[int, Line]] = defaultdict(dict)  # user -> item id -> line (one line per item)
    for item in items:
        kind = owner_kind(item.due_date, today)
        if kind is None:
            continue
        days = rules.days_overdue(item.due_date, today)
        level = rules.escalation_level(days, limits)
        lines[item.owner_id][item.id] = Line(kind, item, days, level)
        if level is None:
            continue
        recipients: dict[int, rules.Level] = {}  # user -> as whom (a head of service who manages the team: head)
        if _RANK[level] >= _RANK[rules.Level.TEAM_MANAGER] and item.team_id in team_managers:
            recipients[team_managers[item.team_id]] = rules.Level.TEAM_MANAGER
        if _RANK[level] >= _RANK[rules.Level.HEAD_OF_SERVICE] and item.service_area_id is not None:
            recipients.update(dict.fromkeys(heads.get(item.service_area_id, ()), rules.Level.HEAD_OF_SERVICE))
        for user_id, recipient in recipients.items():
            if user_id != item.owner_id:
                lines[user_id][item.id] = Line(ESCALATED, item, days, level, recipient)
    order = {kind: n for n, kind in enumerate(KINDS)}
    return {
        user_id: sorted(by_item.values(), key=lambda line: (order[line.kind], line.item.due_date, line.item.id))
        for user_id, by_item in lines.items()
    }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@lru_cache(maxsize=4096)  # a run words the same few hundred dates for every one of its lines
def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def line_facts(line: Line) -> str:
    """What a line says about its item: due date, priority, days overdue, escalation and, when completed, that."""
    facts = [
        f"due {_long_date(line.item.due_date)}",
        f"{rules.PRIORITY_LABELS.get(line.item.priority, line.item.priority).lower()} priority",
    ]
    if line.days_overdue > 0:
        facts.append(f"{_plural(line.days_overdue, 'day')} overdue")
    if line.level in _ESCALATED_TO:
        facts.append(_ESCALATED_TO[line.level])
    if line.item.status == rules.COMPLETED:
        facts.append("completed, awaiting verification")
    return ", ".join(facts)


_AS = {rules.Level.TEAM_MANAGER: "team manager", rules.Level.HEAD_OF_SERVICE: "head of service"}


def notification_message(line: Line) -> str:
    """The in-app notification's text (the page links it to the recommendation). It says the item's state in words
    that stay the same from one day to the next (overdue "since" its due date, not "n days overdue"), so it changes
    only when something happens: a new section, a further escalation, a new due date or priority, completion."""
    due = _long_date(line.item.due_date)
    facts = [f"{rules.PRIORITY_LABELS.get(line.item.priority, line.item.priority).lower()} priority"]
    if line.kind == ESCALATED:
        to_whom = f" ({_AS[line.recipient]})" if line.recipient in _AS else ""
        state = f"escalated to you{to_whom}: overdue since {due}"
        if line.level in _ESCALATED_TO and (line.recipient is None or _RANK[line.level] > _RANK[line.recipient]):
            facts.append(_ESCALATED_TO[line.level])  # gone further than this person
    elif line.kind == OVERDUE:
        state = f"overdue since {due}"
        if line.level in _ESCALATED_TO:
            facts.append(_ESCALATED_TO[line.level])
    else:
        state = f"{SECTION_TITLES[line.kind].lower()}, due {due}"
    if line.item.status == rules.COMPLETED:
        facts.append("completed, awaiting verification")
    return f"Recommendation {line.item.id}: {state}, {', '.join(facts)}."


def item_url(base_url: str, item_id: int) -> str:
    return f"{base_url.rstrip('/')}/recommendations/{item_id}"


def _sections(lines: list[Line]) -> list[tuple[str, list[Line]]]:
    return [
        (kind, [line for line in lines if line.kind == kind])
        for kind in KINDS
        if any(line.kind == kind for line in lines)
    ]


def digest_subject(lines: list[Line]) -> str:
    counts = ", ".join(f"{len(part)} {SECTION_TITLES[kind].lower()}" for kind, part in _sections(lines))
    return f"Recommendations to follow up: {counts}"


def digest_body(lines: list[Line], *, day: date, base_url: str, service_name: str) -> str:
    """The email: each section with its items' numbers, facts and links; the details stay behind the sign-in."""
    parts = [f"Recommendations that need your attention on {_long_date(day)}. Sign in to see the details.", ""]
    for kind, section in _sections(lines):
        parts.append(f"{SECTION_TITLES[kind]} ({len(section)})")
        for line in section:
            parts.append(f"- Recommendation {line.item.id}: {line_facts(line)}")
            parts.append(f"  {item_url(base_url, line.item.id)}")
        parts.append("")
    parts.append(f"Your notifications: {base_url.rstrip('/')}/notifications")
    parts.append(
        f"-- \n{service_name}. You get this email once a day while recommendations you own are due "
        "soon or overdue, or have escalated to you."
    )
    return "\n".join(parts)


def digest_log_line(username: str, lines: list[Line], *, day: date, base_url: str) -> str:
    """The digest as one log line, for a service without SMTP: username, numbers, due dates and links only."""
    sections = "; ".join(
        f"{SECTION_TITLES[kind].lower()}: "
        + ", ".join(f"{item_url(base_url, line.item.id)} (due {line.item.due_date.isoformat()})" for line in section)
        for kind, section in _sections(lines)
    )
    return f"Reminder digest for {username} on {day.isoformat()}: {sections}"


# --- Reading what the run needs (a few queries, whatever the number of items) ----------------------------


def outstanding_items(session: Session, *, today: date) -> list[Item]:
    """Every outstanding item due by a week from today (all the overdue ones included), as plain values. Those due
    today are in no section, but keep their owner's notification from yesterday (see `notifications_sync`)."""
    stmt = select(
        Recommendation.id,
        Recommendation.owner_id,
        Recommendation.team_id,
        Recommendation.service_area_id,
        Recommendation.due_date,
        Recommendation.priority,
        Recommendation.status,
    ).where(Recommendation.status.in_(rules.OUTSTANDING), Recommendation.due_date <= today + timedelta(days=SOON_DAYS))
    return [Item(*row) for row in session.execute(stmt)]


def team_managers(session: Session) -> dict[int, int]:
    """Team id -> its manager's user id, for the teams that have one."""
    stmt = select(Team.id, Team.manager_id).where(Team.manager_id.is_not(None))
    return {team_id: manager_id for team_id, manager_id in session.execute(stmt)}


def heads_of_service(session: Session) -> dict[int, set[int]]:
    """Service area id -> the active heads of service for it (their own area, else their team's)."""
    stmt = (
        select(User.id, func.coalesce(User.service_area_id, Team.service_area_id))
        .join(UserRole, UserRole.user_id == User.id)
        .outerjoin(Team, Team.id == User.team_id)
        .where(UserRole.role == Role.HEAD_OF_SERVICE.value, User.active.is_(True))
    )
    heads: dict[int, set[int]] = defaultdict(set)
    for user_id, area_id in session.execute(stmt):
        if area_id is not None:
            heads[area_id].add(user_id)
    return dict(heads)


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    email: str | None


def active_people(session: Session) -> dict[int, Person]:
    stmt = select(User.id, User.username, User.email).where(User.active.is_(True))
    return {row[0]: Person(*row) for row in session.execute(stmt)}


# --- The run ---------------------------------------------------------------------------------------------


@dataclass
class RemindersReport:
    """What a run did, for the command's summary."""

    day: date
    sent: int = 0  # by email
    logged: int = 0  # written to the log (no SMTP_HOST)
    skipped: int = 0  # no email address: in-app notifications only
    failed: int = 0
    already_sent: int = 0  # sent earlier the same day
    notifications: int = 0  # added
    notifications_updated: int = 0  # changed section or wording (and unread again)
    notifications_removed: int = 0  # their item is closed or no longer concerns that person
    failures: list[str] = field(default_factory=list)  # safe to print: user ids and the mail server's code

    def summary(self) -> str:
        return (
            f"Reminders for {self.day.isoformat()}: {self.sent} sent, {self.logged} logged, "
            f"{self.skipped} skipped (no email address), {self.failed} failed, {self.already_sent} already "
            f"sent today; {self.notifications} notifications added, {self.notifications_updated} updated, "
            f"{self.notifications_removed} removed."
        )


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> None:
    # INSERT ... ON CONFLICT DO NOTHING in both dialects: a run alongside this one may add the same rows.
    dialect = session.get_bind().dialect.name
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert_for(Notification.__table__).on_conflict_do_nothing(), rows)


@dataclass(frozen=True)
class NotificationChanges:
    added: int = 0
    updated: int = 0
    removed: int = 0


def notifications_sync(
    session: Session, *, lines_by_user: Mapping[int, list[Line]], due_today: Mapping[int, int], day: date, now: datetime
) -> NotificationChanges:
    """Make the reminder notifications say the day's lines: one row per person and item. Adds the missing rows;
    rewrites those whose kind or message changed (dated `day`, created `now`, unread again: it is news); leaves
    the others alone (read stays read); deletes the rest (item closed, or no longer this person's concern), except
    that an item due today (`due_today`: item id -> owner id) keeps its owner's due-tomorrow or due-soon row.
    A read, then at most one bulk INSERT, one bulk UPDATE and one bulk DELETE, whatever the number of rows."""
    wanted = {
        (user_id, line.item.id): (line.kind, notification_message(line))
        for user_id, lines in lines_by_user.items()
        for line in lines
    }
    updates: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    table = Notification.__table__
    existing = session.execute(  # plain table columns: rows as the driver gives them, no ORM loading
        select(table.c.id, table.c.user_id, table.c.recommendation_id, table.c.kind, table.c.message).where(
            table.c.kind.in_(KINDS), table.c.recommendation_id.is_not(None)
        )
    ).all()
    for row_id, user_id, item_id, kind, message in existing:
        target = wanted.pop((user_id, item_id), None)
        if target is None:
            if not (due_today.get(item_id) == user_id and kind in (DUE_TOMORROW, DUE_SOON)):
                removed.append({"row_id": row_id})
        elif target != (kind, message):
            updates.append(
                {"id": row_id, "kind": target[0], "message": target[1], "day": day, "created_at": now, "read_at": None}
            )
    added = [
        {
            "user_id": user_id,
            "recommendation_id": item_id,
            "kind": kind,
            "day": day,
            "created_at": now,
            "read_at": None,
            "message": message,
        }
        for (user_id, item_id), (kind, message) in wanted.items()
    ]
    if added:
        _insert_ignoring_duplicates(session, added)
    if updates:  # the ORM's bulk UPDATE by primary key: one executemany. With a WHERE of its own it does not insist
        # on every row still being there (a run alongside this one may have just deleted one).
        session.execute(
            update(Notification)
            .where(Notification.recommendation_id.is_not(None))
            .execution_options(synchronize_session=False),
            updates,
        )
    if removed:
        session.execute(delete(table).where(table.c.id == bindparam("row_id")), removed)
    return NotificationChanges(added=len(added), updated=len(updates), removed=len(removed))


def _digest_claim(
    session: Session,
    *,
    user_id: int,
    day: date,
    items: int,
    channel: str,
    earlier: tuple[int, str] | None,
    now: datetime,
) -> bool:
    """Take the day's digest for this person (committed, so no other run sends it); False if it is taken."""
    if earlier is None:
        try:
            with session.begin_nested():
                session.execute(
                    insert(ReminderDigest).values(
                        user_id=user_id, day=day, items=items, channel=channel, status=SENT, created_at=now
                    )
                )
        except IntegrityError:  # another run claimed it since we looked
            return False
    else:
        digest_id, status = earlier
        if status != FAILED:
            return False
        retried = session.execute(
            update(ReminderDigest)
            .where(ReminderDigest.id == digest_id, ReminderDigest.status == FAILED)
            .values(status=SENT, items=items, channel=channel)
        ).rowcount
        if retried != 1:
            return False
    session.commit()
    return True


def reminders_run(
    session: Session, *, settings: Settings, now: datetime | None = None, today: date | None = None
) -> RemindersReport:
    """Send the day's digests and bring the notifications up to date. Commits as it goes: each digest is claimed
    (and committed) before it is sent, so a crash mid-send never sends it twice (at most once, never duplicates)."""
    now = now or clock.now()
    today = today or rules.local_today(now, settings.timezone)
    report = RemindersReport(day=today)
    people = active_people(session)
    items = outstanding_items(session, today=today)
    composed = digests_compose(
        items,
        today=today,
        limits=thresholds(settings),
        team_managers=team_managers(session),
        heads=heads_of_service(session),
    )
    lines_by_user = {user_id: lines for user_id, lines in composed.items() if user_id in people}
    changes = notifications_sync(
        session,
        lines_by_user=lines_by_user,
        day=today,
        now=now,
        due_today={item.id: item.owner_id for item in items if item.due_date == today and item.owner_id in people},
    )
    report.notifications = changes.added
    report.notifications_updated, report.notifications_removed = changes.updated, changes.removed
    session.commit()

    channel = SMTP if settings.smtp_host else LOG
    earlier = {
        user_id: (digest_id, status)
        for user_id, digest_id, status in session.execute(
            select(ReminderDigest.user_id, ReminderDigest.id, ReminderDigest.status).where(ReminderDigest.day == today)
        )
    }
    for user_id in sorted(lines_by_user):
        lines, person = lines_by_user[user_id], people[user_id]
        if not person.email:
            report.skipped += 1
            logger.info(
                "Reminder digest for user %s on %s skipped: no email address (in-app notifications only)",
                user_id,
                today.isoformat(),
            )
            continue
        if not _digest_claim(
            session,
            user_id=user_id,
            day=today,
            items=len(lines),
            channel=channel,
            earlier=earlier.get(user_id),
            now=now,
        ):
            report.already_sent += 1
            continue
        if channel == LOG:
            logger.info("%s", digest_log_line(person.username, lines, day=today, base_url=settings.base_url))
            report.logged += 1
            continue
        try:
            mail.send(
                settings,
                to=person.email,
                subject=digest_subject(lines),
                body=digest_body(lines, day=today, base_url=settings.base_url, service_name=settings.service_name),
            )
        except mail.MailError as exc:
            session.execute(
                update(ReminderDigest)
                .where(ReminderDigest.user_id == user_id, ReminderDigest.day == today)
                .values(status=FAILED)
            )
            session.commit()
            report.failed += 1
            report.failures.append(f"user {user_id}: {exc}")
            logger.warning("Reminder digest for user %s on %s failed: %s", user_id, today.isoformat(), exc)
        else:
            report.sent += 1
    return report


def reminders_job(new_session: SessionMaker, settings: Settings) -> None:
    """The job queue's daily `recommendation_reminders` (as `caseaudit reminders`): safe to run again the same day.
    Reminders that could not be sent fail the job, so the queue tries again later and the QA lead's page shows it."""
    with new_session() as session:
        report = reminders_run(session, settings=settings)
        session.commit()
    if report.failures:
        raise ReminderFailures(f"{len(report.failures)} reminder(s) not sent; they are tried again")


class ReminderFailures(DomainError):
    """Some of the day's reminders were not sent."""
