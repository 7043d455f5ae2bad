"""Query parameters of list pages and the API, one way: `QueryReader` reads a filter's parameters (each reader returns
the value, or None when the parameter is absent or makes no sense; a value that makes no sense is named in `errors`
when the reader is given a message: pages say so and leave that filter off, the API answers 422 with them), and
`query_string` writes them back into the links of a list page (its pages, its sorting).

A list page's filter is a frozen dataclass with `from_params(params, ...) -> (filter, errors)`, reading through
`QueryReader`, and `query()`, the parameters that give it again; the view passes `query_builder({**flt.query(),
"page": n})` to the template as `query` and renders with `templating.render_list`."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any
from urllib.parse import urlencode

from app.db import valid_row_id
from app.numbers import digits

# Dates outside these are bad input (and would overflow the time-zone arithmetic).
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9998, 12, 31)
DATE_MESSAGE = "Enter a real date as YYYY-MM-DD, for example 2026-06-30"


class QueryReader:
    def __init__(self, params: Mapping[str, str]) -> None:
        self.params = params
        self.errors: dict[str, str] = {}

    def text(self, name: str, default: str = "") -> str:
        """The parameter without surrounding white space (or NULs); `default` when it is absent (not when blank)."""
        value = self.params.get(name)
        return default if value is None else _clean(value)

    def texts(self, name: str) -> list[str]:
        """Every non-blank value of a repeated parameter (flag=a&flag=b), in order."""
        getlist = getattr(self.params, "getlist", None)
        values = getlist(name) if getlist is not None else [self.params.get(name) or ""]
        return [value for value in map(_clean, values) if value]

    def choice(self, name: str, allowed: Collection[Any], message: str | None = None) -> str | None:
        """One of `allowed`, or None (named in `errors` when there is a `message`)."""
        value = self.text(name)
        if not value:
            return None
        if value not in allowed:
            self._refuse(name, message)
            return None
        return value

    def choices(self, name: str, allowed: Collection[Any]) -> list[str]:
        """The distinct values of a repeated parameter that are among `allowed`, in order; the others are left out."""
        return [value for value in dict.fromkeys(self.texts(name)) if value in allowed]

    def number(self, name: str, message: str | None = None, *, max_digits: int = 12) -> int | None:
        """A whole number of ASCII digits (at most `max_digits` of them), or None."""
        value = self.text(name)
        if not value:
            return None
        if digits(value) and len(value) <= max_digits:
            return int(value)
        self._refuse(name, message)
        return None

    def row_id(self, name: str, message: str, *, me: int | None = None) -> int | None:
        """A row's number; with `me`, the word "me" stands for that id (the signed-in user)."""
        if me is not None and self.text(name) == "me":
            return me
        found = self.number(name, message)
        if found is not None and not valid_row_id(found):
            self._refuse(name, message)
            return None
        return found

    def day(self, name: str, message: str = DATE_MESSAGE) -> date | None:
        value = self.text(name)
        if not value:
            return None
        try:
            found = date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            found = None
        if found is None or not EARLIEST_DAY <= found <= LATEST_DAY:
            self._refuse(name, message)
            return None
        return found

    def _refuse(self, name: str, message: str | None) -> None:
        if message is not None:
            self.errors[name] = message


def _clean(value: str) -> str:
    return value.replace("\x00", "").strip()


def query_string(params: Mapping[str, Any], /, **changes: Any) -> str:
    """`params` with `changes` as a query string (no "?"), for a list page's links: a value of None leaves its
    parameter out (`page=None` drops the page), a list repeats it (flag=a&flag=b), blanks stay as given."""
    values = {**params, **changes}
    return urlencode({name: value for name, value in values.items() if value is not None}, doseq=True)


def query_builder(params: Mapping[str, Any]) -> Callable[..., str]:
    """What a list page passes to its template as `query`: `query(page=2)` is `params` with page 2."""
    return partial(query_string, dict(params))


@dataclass(frozen=True)
class StatusFilter:
    """A list narrowed by one status (audits, escalations): ?status= one of the list's statuses; anything else
    shows every status, silently."""

    status: str | None = None

    @classmethod
    def from_params(
        cls, params: Mapping[str, str], *, statuses: Collection[str]
    ) -> tuple[StatusFilter, dict[str, str]]:
        read = QueryReader(params)
        return cls(status=read.choice("status", statuses)), read.errors

    def query(self) -> dict[str, str]:
        return {"status": self.status} if self.status else {}
