"""The filters of the list of users (GET /users), read through the shared `QueryReader`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.web.query import QueryReader

ACTIVE = {"active": True, "deactivated": False}  # any other status (all): active and deactivated users


@dataclass(frozen=True)
class UserListFilter:
    """Query parameters: q (words in the name, username or email), role, team_id, status (active when absent;
    deactivated; all)."""

    q: str = ""
    role: str | None = None
    team_id: int | None = None
    status: str = "active"

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> tuple[UserListFilter, dict[str, str]]:
        read = QueryReader(params)
        flt = cls(
            q=read.text("q"),
            role=read.text("role") or None,
            team_id=read.number("team_id"),
            status=read.text("status", default="active"),
        )
        return flt, read.errors

    @property
    def active(self) -> bool | None:
        return ACTIVE.get(self.status)

    def query(self) -> dict[str, str]:
        """Every field as the form sends it (blank ones too): the page's `filters` and the base of its links."""
        return {"q": self.q, "role": self.role or "", "team_id": str(self.team_id or ""), "status": self.status}
