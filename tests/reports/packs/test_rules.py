"""The board pack records' pure rules: when a schedule's draft is due, distribution lists, signed links."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.reports.packs.rules import draft_due, link_open, link_token, recipients_parse
from app.working_days import calendar_for

ENGLAND = calendar_for("england_and_wales")


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 12, 2), None),  # November's 3rd working day after is Thursday 3 December
        (date(2026, 12, 3), "2026-11"),
        (date(2026, 12, 31), "2026-11"),  # a missed day is made up later, still for November
        (date(2027, 1, 5), None),  # December's 3rd working day after: 1 Jan is a bank holiday, so Wed 6 Jan
        (date(2027, 1, 6), "2026-12"),
    ],
)
def test_a_monthly_draft_is_due_on_its_working_day_after_the_month(today, expected) -> None:
    found = draft_due("monthly", 3, today, ENGLAND)
    assert (found.value if found else None) == expected


def test_a_quarterly_draft_is_for_the_quarter_that_ended() -> None:
    assert draft_due("quarterly", 1, date(2026, 10, 1), ENGLAND) is not None
    assert draft_due("quarterly", 1, date(2026, 10, 1), ENGLAND).value == "2026-Q3"
    assert draft_due("quarterly", 5, date(2026, 10, 1), ENGLAND) is None


def test_a_distribution_list_is_read_one_address_a_line_and_problems_name_their_line() -> None:
    found, problems = recipients_parse("Chair@Example.org\n\nclerk@example.org, chair@example.org; x@example.org\n")
    assert found == ["Chair@example.org", "clerk@example.org", "x@example.org"] and problems == []
    found, problems = recipients_parse("a@example.org\nnot an address\nb@\n")
    assert found == ["a@example.org"]
    assert problems == [
        "Line 2: “not an address” is not an email address, like name@example.org",
        "Line 3: “b@” is not an email address, like name@example.org",
    ]
    assert recipients_parse("  \n") == ([], ["Enter at least one email address"])
    too_many = "\n".join(f"m{i}@example.org" for i in range(51))
    assert recipients_parse(too_many)[1] == ["A pack goes to at most 50 addresses; this list has 51"]


def test_a_link_opens_only_with_its_signature_and_before_it_expires() -> None:
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    token = link_token("secret", 42, now + timedelta(days=14))
    assert link_open("secret", token, now) == 42
    assert link_open("secret", token, now + timedelta(days=14, seconds=1)) is None
    assert link_open("another secret", token, now) is None
    delivery, expiry, signature = token.split(".")
    assert link_open("secret", f"43.{expiry}.{signature}", now) is None  # another delivery
    assert link_open("secret", f"{delivery}.{int(expiry) + 86400}.{signature}", now) is None  # a later expiry
    assert link_open("secret", "garbage", now) is None
