"""Dates written for people (app.dates): the one place the formats live."""

from datetime import date

from app.dates import long_date, short_date


def test_dates_are_written_without_a_leading_zero():
    assert long_date(date(2026, 11, 3)) == "3 November 2026"
    assert short_date(date(2026, 11, 3)) == "3 Nov 2026"
    assert long_date(date(2026, 12, 25)) == "25 December 2026"


def test_no_date_is_blank():
    assert long_date(None) == "" and short_date(None) == ""
