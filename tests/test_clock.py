"""The clock seam: what "now" and "today" are for the app, and how tests set them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app import clock
from app.config import Settings
from tests.conftest import TEST_NOW

LONDON = ZoneInfo("Europe/London")


def test_the_suite_runs_at_its_own_now_whatever_the_machine_says():
    assert TEST_NOW <= clock.now() < TEST_NOW + timedelta(minutes=30)
    assert clock.now().tzinfo is not None


def test_a_set_clock_can_stand_still_and_then_go_back():
    instant = datetime(2030, 2, 3, 4, 5, tzinfo=UTC)
    with clock.clock_at(instant):
        assert clock.now() == instant
        assert clock.now() == instant
    assert clock.now() >= TEST_NOW and clock.now().year == TEST_NOW.year


def test_a_running_clock_moves_on_from_where_it_was_set():
    instant = datetime(2031, 1, 1, tzinfo=UTC)
    clock.clock_set(instant, running=True)
    first = clock.now()
    second = clock.now()
    assert instant <= first <= second < instant + timedelta(seconds=60)


def test_today_is_the_date_where_the_service_works_not_in_utc(set_clock):
    # 23:30 UTC on 30 June is already 1 July in London (summer time) but still 30 June in UTC.
    set_clock(datetime(2027, 6, 30, 23, 30, tzinfo=UTC), running=False)
    assert clock.today(LONDON) == date(2027, 7, 1)
    assert clock.today(UTC) == date(2027, 6, 30)
    settings = Settings(environment="test", secret_key="x" * 32, timezone="Europe/London")
    assert settings.today() == date(2027, 7, 1)


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.clock_set(datetime(2027, 1, 1))


def test_without_a_set_clock_it_is_the_system_clock():
    with clock.clock_at(TEST_NOW):
        clock.clock_set(None)
        assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
