"""The filters of the case list (GET /cases): what the page's form sends, read through the shared `QueryReader`.

A value that makes no sense is left out silently (the page names no errors): an unknown status is the default
(open cases), an unknown case type, age band, flag or sort is no filter (sorting by child ID, ascending)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.cases import selectors
from app.cases.facts import CASE_TYPE_LABELS
from app.web.query import QueryReader


@dataclass(frozen=True)
class CaseListFilter:
    """Query parameters: q (a child ID or its start), status (open, closed, all), case_type, service_area_id, team_id,
    worker (a full name), age_band, flag (repeated), sort and order (asc, desc)."""

    q: str = ""
    status: str = selectors.DEFAULT_STATUS
    case_type: str | None = None
    service_area_id: int | None = None  # any number: one no area has matches no case
    team_id: int | None = None
    worker: str = ""
    age_band: str | None = None
    flags: tuple[str, ...] = ()
    sort: str = selectors.DEFAULT_SORT
    order: str = "asc"

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> tuple[CaseListFilter, dict[str, str]]:
        read = QueryReader(params)
        sort, order = selectors.sort_or_default(read.text("sort") or None, read.text("order") or None)
        flt = cls(
            q=read.text("q"),
            status=read.choice("status", selectors.STATUSES) or selectors.DEFAULT_STATUS,
            case_type=read.choice("case_type", CASE_TYPE_LABELS),
            service_area_id=read.number("service_area_id"),
            team_id=read.number("team_id"),
            worker=read.text("worker"),
            age_band=read.choice("age_band", selectors.AGE_BANDS),
            flags=tuple(read.choices("flag", selectors.FLAGS)),
            sort=sort,
            order=order,
        )
        return flt, read.errors

    def values(self) -> dict[str, Any]:
        """Every field as the form shows it (blank when unset): the page's `filters`, and what the trail records."""
        return {
            "q": self.q,
            "status": self.status,
            "case_type": self.case_type or "",
            "service_area_id": str(self.service_area_id or ""),
            "team_id": str(self.team_id or ""),
            "worker": self.worker,
            "age_band": self.age_band or "",
            "flag": list(self.flags),
            "sort": self.sort,
            "order": self.order,
        }

    def query(self) -> dict[str, Any]:
        """The query parameters that give this filter (blank ones left out), for the page's links."""
        return {name: value for name, value in self.values().items() if value not in ("", [])}
