"""The service navigation: what each role may reach. Later areas add their entries here."""

from __future__ import annotations

from dataclasses import dataclass

from app.accounts.models import User
from app.accounts.roles import Role
from app.cases.scope import CASE_READER_ROLES

# Everyone but a read-only viewer works with recommendations (which ones: app.recommendations.scope).
RECOMMENDATION_ROLES = (Role.QA_LEAD, Role.AUDITOR, Role.MODERATOR, Role.HEAD_OF_SERVICE, Role.PRACTITIONER)


@dataclass(frozen=True)
class NavEntry:
    label: str
    href: str
    roles: frozenset[Role] = frozenset()  # empty: any signed-in user


NAV_ENTRIES: tuple[NavEntry, ...] = (
    NavEntry("Home", "/"),
    NavEntry("Cases", "/cases", frozenset(CASE_READER_ROLES)),
    NavEntry("Programme", "/programme", frozenset({Role.QA_LEAD})),
    NavEntry("Audits", "/audits", frozenset({Role.QA_LEAD, Role.AUDITOR})),
    NavEntry("Moderation", "/moderation", frozenset({Role.QA_LEAD, Role.MODERATOR})),
    NavEntry("Escalations", "/escalations", frozenset({Role.QA_LEAD})),
    NavEntry("Recommendations", "/recommendations", frozenset(RECOMMENDATION_ROLES)),
    NavEntry("Dashboard", "/recommendations/dashboard", frozenset({Role.QA_LEAD, Role.HEAD_OF_SERVICE})),
    NavEntry("Reports", "/reports", frozenset({Role.QA_LEAD, Role.HEAD_OF_SERVICE, Role.VIEWER})),
    NavEntry("Agreement", "/moderation/agreement", frozenset({Role.QA_LEAD})),
    NavEntry("Imports", "/imports", frozenset({Role.QA_LEAD})),
    NavEntry("Workers", "/workers", frozenset({Role.QA_LEAD})),
    NavEntry("Templates", "/templates", frozenset({Role.QA_LEAD})),
    NavEntry("Users", "/users", frozenset({Role.QA_LEAD})),
    NavEntry("Teams", "/teams", frozenset({Role.QA_LEAD})),
    NavEntry("Audit trail", "/audit-trail", frozenset({Role.QA_LEAD})),
    NavEntry("Your account", "/account"),
    NavEntry("Sign out", "/logout"),
)


def nav_for(user: User | None, path: str) -> list[dict[str, object]]:
    """GOV.UK service navigation items for this user, marking the section the page is in."""
    if user is None:
        return []
    visible = [entry for entry in NAV_ENTRIES if not entry.roles or user.has_role(*entry.roles)]
    # The most specific entry marks the section: /moderation/agreement is "Agreement", not also "Moderation".
    matches = [e.href for e in visible if (path == e.href if e.href == "/" else path.startswith(e.href))]
    section = max(matches, key=len, default=None)
    return [{"text": e.label, "href": e.href, "active": e.href == section, "current": path == e.href} for e in visible]
