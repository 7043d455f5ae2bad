"""The service navigation: what each role may reach. Each entry reads the role set its routes' guard reads (each area's
`permissions` module), so the menu never offers a page that refuses, nor hides one that opens."""

from __future__ import annotations

from dataclasses import dataclass

from app.accounts.models import User
from app.accounts.permissions import ACCOUNT_ADMIN_ROLES
from app.accounts.roles import Role
from app.audits.permissions import AUDIT_LIST_ROLES
from app.cases.imports.permissions import IMPORT_ROLES
from app.cases.scope import CASE_READER_ROLES
from app.escalations.permissions import ESCALATION_LIST_ROLES
from app.moderation.agreement.permissions import AGREEMENT_ROLES
from app.recommendations.permissions import DASHBOARD_ROLES, RECOMMENDATION_ROLES
from app.retention.holds import LEGAL_HOLD_ROLES
from app.sampling.permissions import PROGRAMME_ROLES

__all__ = ["NAV_ENTRIES", "RECOMMENDATION_ROLES", "NavEntry", "nav_for"]


@dataclass(frozen=True)
class NavEntry:
    label: str
    href: str
    roles: frozenset[Role] = frozenset()  # empty: any signed-in user


NAV_ENTRIES: tuple[NavEntry, ...] = (
    NavEntry("Home", "/"),
    NavEntry("Cases", "/cases", frozenset(CASE_READER_ROLES)),
    NavEntry("Programme", "/programme", frozenset(PROGRAMME_ROLES)),
    NavEntry("Audits", "/audits", frozenset(AUDIT_LIST_ROLES)),
    NavEntry("Moderation", "/moderation", frozenset({Role.QA_LEAD, Role.MODERATOR})),
    NavEntry("Escalations", "/escalations", frozenset(ESCALATION_LIST_ROLES)),
    NavEntry("Recommendations", "/recommendations", frozenset(RECOMMENDATION_ROLES)),
    NavEntry("Dashboard", "/recommendations/dashboard", frozenset(DASHBOARD_ROLES)),
    NavEntry("Reports", "/reports", frozenset({Role.QA_LEAD, Role.HEAD_OF_SERVICE, Role.VIEWER})),
    NavEntry("Agreement", "/moderation/agreement", frozenset(AGREEMENT_ROLES)),
    NavEntry("Imports", "/imports", frozenset(IMPORT_ROLES)),
    NavEntry("Workers", "/workers", frozenset({Role.QA_LEAD})),
    NavEntry("Templates", "/templates", frozenset({Role.QA_LEAD})),
    NavEntry("Users", "/users", frozenset(ACCOUNT_ADMIN_ROLES)),
    NavEntry("Teams", "/teams", frozenset(ACCOUNT_ADMIN_ROLES)),
    NavEntry("Audit trail", "/audit-trail", frozenset({Role.QA_LEAD})),
    NavEntry("Jobs", "/jobs", frozenset({Role.QA_LEAD})),
    # Retention leads on to legal holds and records requests (one entry for data protection, not three)
    NavEntry("Retention", "/retention", frozenset(LEGAL_HOLD_ROLES)),
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
