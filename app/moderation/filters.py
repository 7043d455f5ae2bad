"""The filters of the moderation queue (GET /moderation), read through the shared `QueryReader`: a status, or a
cycle that has moderation. Anything else is no filter, silently."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.moderation.selectors import FILTER_LABELS
from app.web.query import QueryReader


@dataclass(frozen=True)
class QueueFilter:
    """Query parameters: status (a round's status, or unallocated), cycle (the number of a cycle with moderation)."""

    status: str | None = None
    cycle_id: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str], *, cycle_ids: Iterable[int]) -> tuple[QueueFilter, dict[str, str]]:
        read = QueryReader(params)
        cycle = read.choice("cycle", {str(cycle_id) for cycle_id in cycle_ids})
        return cls(status=read.choice("status", FILTER_LABELS), cycle_id=int(cycle) if cycle else None), read.errors

    def query(self) -> dict[str, str]:
        """The query parameters that give this filter, for the queue's links."""
        pairs = {"status": self.status, "cycle": str(self.cycle_id) if self.cycle_id else None}
        return {name: value for name, value in pairs.items() if value}
