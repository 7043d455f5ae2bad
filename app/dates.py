"""How dates are written for people, in one place: "3 November 2026" in running text and "3 Nov 2026" where space
is short (tables, suggestions). Pure functions; local days and months stay with the clock's time zone
(`app.clock`, `app.recommendations.rules`)."""

from __future__ import annotations

from datetime import date


def long_date(value: date | None) -> str:
    """ "3 November 2026" ("" for no date)."""
    return f"{value.day} {value:%B %Y}" if value else ""


def short_date(value: date | None) -> str:
    """ "3 Nov 2026" ("" for no date)."""
    return f"{value.day} {value:%b %Y}" if value else ""
