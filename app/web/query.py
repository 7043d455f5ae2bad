"""Reading a page's or the API's query parameters for a filter: each reader returns the value, or None when the
parameter is absent or makes no sense, and a value that makes no sense is named in `errors` (pages say so and
leave that filter off; the API answers 422 with them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from app.db import valid_row_id
from app.numbers import digits

# Dates outside these are bad input (and would overflow the time-zone arithmetic).
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9998, 12, 31)
DATE_MESSAGE = "Enter a real date as YYYY-MM-DD, for example 2026-06-30"


class QueryReader:
    def __init__(self, params: Mapping[str, str]) -> None:
        self.params = params
        self.errors: dict[str, str] = {}

    def text(self, name: str) -> str:
        return (self.params.get(name) or "").replace("\x00", "").strip()

    def choice(self, name: str, allowed: tuple[Any, ...], message: str) -> str | None:
        value = self.text(name)
        if not value:
            return None
        if value not in allowed:
            self.errors[name] = message
            return None
        return value

    def row_id(self, name: str, message: str, *, me: int | None = None) -> int | None:
        """A row's number; with `me`, the word "me" stands for that id (the signed-in user)."""
        value = self.text(name)
        if not value:
            return None
        if me is not None and value == "me":
            return me
        found = int(value) if digits(value) and len(value) <= 12 and valid_row_id(int(value)) else None
        if found is None:
            self.errors[name] = message
        return found

    def day(self, name: str) -> date | None:
        value = self.text(name)
        if not value:
            return None
        try:
            found = date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            found = None
        if found is None or not EARLIEST_DAY <= found <= LATEST_DAY:
            self.errors[name] = DATE_MESSAGE
            return None
        return found
