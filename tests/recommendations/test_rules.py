"""The recommendation rules: every move and who may make it, overdue and ageing at their boundaries, escalation
thresholds, the configured time zone, and default due dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.dates import local_day_start, months_before
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.recommendations import rules
from app.recommendations.rules import (
    STATUSES,
    Action,
    Actor,
    Level,
    Thresholds,
    ageing_bucket,
    days_overdue,
    default_due,
    escalation_level,
    local_today,
    next_status,
)

OWNER = Actor(is_owner=True, may_verify=False)
VERIFIER = Actor(is_owner=False, may_verify=True)
OWNER_WHO_COULD_VERIFY = Actor(is_owner=True, may_verify=True)  # e.g. a head of service who owns it
BYSTANDER = Actor(is_owner=False, may_verify=False)

LEGAL = {
    ("open", Action.START): "in_progress",
    ("open", Action.COMPLETE): "completed",
    ("in_progress", Action.COMPLETE): "completed",
    ("completed", Action.CLOSE): "closed",
    ("completed", Action.REOPEN): "in_progress",
}


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("action", list(Action))
def test_each_action_from_each_status_is_allowed_or_refused(current, action):
    actor = OWNER if action in (Action.START, Action.COMPLETE) else VERIFIER
    if (current, action) in LEGAL:
        assert next_status(current, action, actor, evidence="Done", reason="Why") == LEGAL[(current, action)]
    else:
        with pytest.raises(Conflict, match="cannot be"):
            next_status(current, action, actor, evidence="Done", reason="Why")


def test_the_owner_never_verifies_their_own_recommendation():
    with pytest.raises(PermissionDenied, match="you own this one"):
        next_status("completed", Action.CLOSE, OWNER_WHO_COULD_VERIFY)
    with pytest.raises(PermissionDenied, match="you own this one"):
        next_status("completed", Action.REOPEN, OWNER_WHO_COULD_VERIFY, reason="Not done")
    with pytest.raises(PermissionDenied, match="head of service for this area"):
        next_status("completed", Action.CLOSE, BYSTANDER)


def test_only_the_owner_records_progress():
    with pytest.raises(PermissionDenied, match="Only the recommendation's owner"):
        next_status("open", Action.START, VERIFIER)


def test_completing_needs_evidence_and_reopening_needs_a_reason():
    with pytest.raises(ValidationFailed) as refused:
        next_status("in_progress", Action.COMPLETE, OWNER, evidence="   ")
    assert "evidence" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        next_status("completed", Action.REOPEN, VERIFIER, reason="")
    assert "reason" in refused.value.errors


@pytest.mark.parametrize(
    ("today", "days", "bucket"),
    [
        (date(2026, 11, 25), -1, "not_due"),
        (date(2026, 11, 26), 0, "not_due"),  # due today: not overdue yet
        (date(2026, 11, 27), 1, "0-30"),
        (date(2026, 12, 26), 30, "0-30"),
        (date(2026, 12, 27), 31, "31-60"),
        (date(2027, 1, 25), 60, "31-60"),
        (date(2027, 1, 26), 61, "61-90"),
        (date(2027, 2, 24), 90, "61-90"),
        (date(2027, 2, 25), 91, "90+"),
    ],
)
def test_overdue_days_and_ageing_buckets_at_their_boundaries(today, days, bucket):
    due = date(2026, 11, 26)
    assert days_overdue(due, today) == days
    assert ageing_bucket(due, today) == bucket


@pytest.mark.parametrize(
    ("days", "level"),
    [
        (-3, None),
        (0, None),
        (1, Level.OWNER),
        (13, Level.OWNER),
        (14, Level.TEAM_MANAGER),
        (29, Level.TEAM_MANAGER),
        (30, Level.HEAD_OF_SERVICE),
        (59, Level.HEAD_OF_SERVICE),
        (60, Level.DIRECTOR),
        (400, Level.DIRECTOR),
    ],
)
def test_escalation_levels_change_on_the_threshold_day(days, level):
    assert escalation_level(days) == level


def test_thresholds_are_configurable_and_must_be_in_order():
    quick = Thresholds(team_manager=1, head_of_service=2, director=3)
    assert [escalation_level(d, quick) for d in (1, 2, 3)] == [
        Level.TEAM_MANAGER,
        Level.HEAD_OF_SERVICE,
        Level.DIRECTOR,
    ]
    with pytest.raises(ValueError, match="in order"):
        Thresholds(team_manager=30, head_of_service=14, director=60)


def test_today_is_the_configured_zones_date_not_the_servers():
    late_summer_evening = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 00:30 on 1 July in London (BST)
    assert local_today(late_summer_evening, "Europe/London") == date(2026, 7, 1)
    assert local_today(late_summer_evening, "UTC") == date(2026, 6, 30)
    winter_evening = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # GMT: still 31 December in London
    assert local_today(winter_evening, "Europe/London") == date(2026, 12, 31)
    # So an item due on 30 June becomes overdue at midnight London time, an hour before midnight UTC.
    assert days_overdue(date(2026, 6, 30), local_today(late_summer_evening, "Europe/London")) == 1
    with pytest.raises(ValueError, match="timezone-aware"):
        local_today(datetime(2026, 6, 30, 23, 30), "Europe/London")


def test_default_due_dates_follow_the_priority():
    raised = date(2026, 11, 26)
    assert default_due("urgent", raised) == date(2026, 12, 3)
    assert default_due("high", raised) == date(2026, 12, 24)
    assert default_due("normal", raised) == date(2027, 1, 21)
    assert default_due("urgent", raised, {"urgent": 2}) == date(2026, 11, 28)
    with pytest.raises(ValidationFailed, match="priority"):
        default_due("whenever", raised)


# --- Periods and medians ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 26), 3, date(2026, 8, 26)),
        (date(2026, 11, 26), 12, date(2025, 11, 26)),
        (date(2026, 5, 31), 3, date(2026, 2, 28)),  # February is shorter
        (date(2028, 5, 31), 3, date(2028, 2, 29)),  # a leap year
        (date(2026, 2, 15), 3, date(2025, 11, 15)),  # across the new year
    ],
)
def test_months_before_counts_calendar_months(day, months, expected):
    assert months_before(day, months) == expected


def test_local_day_start_is_local_midnight():
    start = local_day_start(date(2026, 7, 1), "Europe/London")
    assert start.astimezone(UTC) == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)  # BST


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({}, None),
        ({5: 1}, 5.0),
        ({1: 1, 3: 1}, 2.0),
        ({1: 2, 10: 1}, 1.0),
        ({0: 1, 4: 2, 9: 1}, 4.0),
        ({2: 1, 7: 1, 8: 1, 30: 1}, 7.5),
    ],
)
def test_median_of_a_histogram(counts, expected):
    assert rules.median(counts) == expected
