"""The rules of a recommendation's life, as pure functions: its moves, who may make them, when it is overdue,
how old it is and how far it has escalated. The service, the pages, the API and the reminders all use these.

    open -> in_progress -> completed -> closed            (verified by someone other than the owner)
                 ^              |
                 +-- reopened --+                         (by a verifier, with a reason)

Overdue is counted in whole days after the due date, on the calendar of the configured time zone: an item due
today is not overdue until tomorrow there, wherever the server runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.errors import Conflict, PermissionDenied, ValidationFailed

OPEN, IN_PROGRESS, COMPLETED, CLOSED = "open", "in_progress", "completed", "closed"
STATUSES = (OPEN, IN_PROGRESS, COMPLETED, CLOSED)
STATUS_LABELS = {
    OPEN: "Open",
    IN_PROGRESS: "In progress",
    COMPLETED: "Completed, awaiting verification",
    CLOSED: "Closed",
}
# Outstanding: not yet verified and closed (what a head of service chases).
OUTSTANDING = (OPEN, IN_PROGRESS, COMPLETED)


class Action(StrEnum):
    START = "start"  # the owner begins work
    COMPLETE = "complete"  # the owner records what was done (evidence required)
    CLOSE = "close"  # a verifier checks the evidence and closes it
    REOPEN = "reopen"  # a verifier sends it back, with a reason


# action -> (the statuses it may start from, the status it leads to)
MOVES: dict[Action, tuple[tuple[str, ...], str]] = {
    Action.START: ((OPEN,), IN_PROGRESS),
    Action.COMPLETE: ((OPEN, IN_PROGRESS), COMPLETED),
    Action.CLOSE: ((COMPLETED,), CLOSED),
    Action.REOPEN: ((COMPLETED,), IN_PROGRESS),
}
OWNER_ACTIONS = (Action.START, Action.COMPLETE)
VERIFIER_ACTIONS = (Action.CLOSE, Action.REOPEN)


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the rules need to know them."""

    is_owner: bool
    may_verify: bool  # a head of service of the item's area, the auditor who raised it, or the QA lead


def next_status(current: str, action: Action, actor: Actor, *, evidence: str = "", reason: str = "") -> str:
    """The status `action` leads to, or why it may not be taken (Conflict: not from this status;
    PermissionDenied: not by this person; ValidationFailed: something required is missing)."""
    starts, to = MOVES[action]
    if current not in starts:
        raise Conflict(
            f"A recommendation that is {STATUS_LABELS.get(current, current).lower()} cannot be {_PAST[action]}."
        )
    if action in OWNER_ACTIONS and not actor.is_owner:
        raise PermissionDenied("Only the recommendation's owner can record progress on it.")
    if action in VERIFIER_ACTIONS:
        if actor.is_owner:
            raise PermissionDenied("Someone other than the owner must verify a recommendation: you own this one.")
        if not actor.may_verify:
            raise PermissionDenied(
                "Only a head of service for this area, the auditor who raised it or the QA lead "
                "can verify a recommendation."
            )
    if action is Action.COMPLETE and not evidence.strip():
        raise ValidationFailed({"evidence": "Describe what was done: the evidence is needed to complete it"})
    if action is Action.REOPEN and not reason.strip():
        raise ValidationFailed({"reason": "Give the reason for reopening it"})
    return to


_PAST = {Action.START: "started", Action.COMPLETE: "completed", Action.CLOSE: "closed", Action.REOPEN: "reopened"}


# --- Time ------------------------------------------------------------------------------------------


def local_today(now: datetime, zone: str) -> date:
    """Today's date in the configured time zone for an aware `now` (the server may run on UTC)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(zone)).date()


def days_overdue(due: date, today: date) -> int:
    """Whole days past the due date (0 or less: not overdue; an item due today is not overdue)."""
    return (today - due).days


AGEING_BUCKETS = ("not_due", "0-30", "31-60", "61-90", "90+")
AGEING_LABELS = {
    "not_due": "Not yet due",
    "0-30": "0–30 days overdue",
    "31-60": "31–60 days overdue",
    "61-90": "61–90 days overdue",
    "90+": "More than 90 days overdue",
}


def ageing_bucket(due: date, today: date) -> str:
    days = days_overdue(due, today)
    if days <= 0:
        return "not_due"
    if days <= 30:
        return "0-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "90+"


class Level(StrEnum):
    OWNER = "owner"
    TEAM_MANAGER = "team_manager"
    HEAD_OF_SERVICE = "head_of_service"
    DIRECTOR = "director"


LEVEL_LABELS = {
    Level.OWNER: "Owner",
    Level.TEAM_MANAGER: "Team manager",
    Level.HEAD_OF_SERVICE: "Head of service",
    Level.DIRECTOR: "Director",
}


@dataclass(frozen=True)
class Thresholds:
    """Days overdue at which an item escalates past its owner (each reached on that day, inclusive)."""

    team_manager: int = 14
    head_of_service: int = 30
    director: int = 60

    def __post_init__(self) -> None:
        if not 1 <= self.team_manager <= self.head_of_service <= self.director:
            raise ValueError(
                "Escalation thresholds must be at least 1 day and in order: team manager, head of service, director"
            )


def escalation_level(days: int, thresholds: Thresholds = Thresholds()) -> Level | None:
    """Who an overdue item has escalated to (None while it is not overdue)."""
    if days <= 0:
        return None
    if days >= thresholds.director:
        return Level.DIRECTOR
    if days >= thresholds.head_of_service:
        return Level.HEAD_OF_SERVICE
    if days >= thresholds.team_manager:
        return Level.TEAM_MANAGER
    return Level.OWNER


# --- Priority -------------------------------------------------------------------------------------

PRIORITIES = ("urgent", "high", "normal")
PRIORITY_LABELS = {"urgent": "Urgent", "high": "High", "normal": "Normal"}
DEFAULT_DAYS = {"urgent": 7, "high": 28, "normal": 56}


def default_due(priority: str, raised_on: date, days: dict[str, int] | None = None) -> date:
    """The due date a recommendation gets unless the person raising it chooses one."""
    table = days or DEFAULT_DAYS
    if priority not in table:
        raise ValidationFailed({"priority": "Choose the priority: urgent, high or normal"})
    return raised_on + timedelta(days=table[priority])


# --- Periods --------------------------------------------------------------------------------------

WINDOWS = (3, 12)  # the dashboard's "last 3 months" and "last 12 months"


def median(counts: dict[int, int]) -> float | None:
    """The median of values given as {value: how many} (a histogram, as the database returns it); None if empty."""
    total = sum(counts.values())
    if total == 0:
        return None
    ordered = sorted(counts.items())

    def nth(n: int) -> int:  # the n-th value, 0-based
        seen = 0
        for value, count in ordered:
            seen += count
            if n < seen:
                return value
        raise IndexError(n)

    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2
