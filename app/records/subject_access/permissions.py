"""Who may produce a child's records on request: the QA lead alone (the route guards read this set)."""

from __future__ import annotations

from app.accounts.roles import Role

RECORDS_REQUEST_ROLES: tuple[Role, ...] = (Role.QA_LEAD,)
