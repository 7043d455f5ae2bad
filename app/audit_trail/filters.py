"""The filters of the audit trail page (GET /audit-trail), read through the shared `QueryReader`: a date that is not
one is named in the errors and left off."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from app.web.query import QueryReader

DATE_MESSAGE = "Enter a real date in the format YYYY-MM-DD"


@dataclass(frozen=True)
class TrailFilter:
    """Query parameters: action, actor (a username), entity_type and entity_id (the record), date_from and date_to
    (local dates, YYYY-MM-DD, both inclusive). The dates are kept as typed too, to show them again."""

    action: str = ""
    actor: str = ""
    entity_type: str = ""
    entity_id: str = ""
    date_from_text: str = ""
    date_to_text: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> tuple[TrailFilter, dict[str, str]]:
        read = QueryReader(params)
        flt = cls(
            action=read.text("action"),
            actor=read.text("actor"),
            entity_type=read.text("entity_type"),
            entity_id=read.text("entity_id"),
            date_from_text=read.text("date_from"),
            date_to_text=read.text("date_to"),
            date_from=read.day("date_from", DATE_MESSAGE),
            date_to=read.day("date_to", DATE_MESSAGE),
        )
        return flt, read.errors

    def query(self) -> dict[str, str]:
        """Every field as typed (blank ones too): the page's `filters` and the base of its links."""
        return {
            "action": self.action,
            "actor": self.actor,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "date_from": self.date_from_text,
            "date_to": self.date_to_text,
        }
