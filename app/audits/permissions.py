"""Who may do what with one audit: the one place these rules live, as pure functions of the user and the audit's
facts (`AuditAccess`, loaded once per request by `app.moderation.audit_access.audit_access`).

    the auditor                reads it, edits it until submitted (or once returned), except sections a partner
                               representative has been assigned
    a partner representative   reads the audits a section of which is assigned to them, edits only that section
    a moderator of a round     reads it and its moderation, except while grading blind (grades not yet given)
    the QA lead                reads everything (but grades blind like anyone when allocated a round), manages it
    a team manager             reads completed audits of their team's cases (read-only)
    a head of service          reads completed audits of their service area's cases (read-only)
    the case's worker          reads the findings of a completed audit of their case, and replies to them

Every route that takes an audit id asks one of these through the lookups in `app.audits.lookups` (404 otherwise),
so the HTML pages, the API, the printout and its PDF allow exactly the same people. Lists use the same facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlmodel import col

from app.accounts.models import Team
from app.accounts.roles import Role
from app.audits.models import Audit
from app.audits.partners.models import SectionPartner
from app.audits.workflow.states import COMPLETED, EDITABLE
from app.cases.models import Case

# The roles that see a list of audits (/audits): each sees the ones `listed_condition` allows.
AUDIT_LIST_ROLES = (Role.QA_LEAD, Role.AUDITOR, Role.TEAM_MANAGER, Role.HEAD_OF_SERVICE, Role.PARTNER)


class Person(Protocol):
    """The parts of a user the rules read (app.accounts.models.User)."""

    id: int | None
    active: bool
    team_id: int | None

    @property
    def scope_service_area_id(self) -> int | None: ...

    def has_role(self, *roles: str) -> bool: ...


class PartnerView(StrEnum):
    """When a partner representative sees the agency sections that are not theirs (setting
    `partner_sees_other_sections`)."""

    AFTER_PANEL = "after_panel"
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True)
class AuditAccess:
    """The facts about one audit that decide who may see or change it."""

    audit: Audit
    case_team_id: int | None = None
    case_area_id: int | None = None
    case_worker_id: int | None = None  # the case's allocated worker's account, when linked
    # The accounts managing the case's team: the team's manager and the case's recorded manager, when linked.
    manager_ids: frozenset[int] = frozenset()
    moderator_ids: frozenset[int] = frozenset()  # the moderators of any of its rounds
    blind_ids: frozenset[int] = frozenset()  # moderators grading it blind who have not graded yet
    partner_sections: Mapping[int, frozenset[str]] = field(default_factory=dict)  # partner id -> section keys
    panel_held: bool = False

    @property
    def completed(self) -> bool:
        return self.audit.status == COMPLETED

    @property
    def assigned_sections(self) -> frozenset[str]:
        return frozenset(key for keys in self.partner_sections.values() for key in keys)


# --- Who someone is to the audit -------------------------------------------------------------------------------


def _is(user: Person, user_id: int | None) -> bool:
    return user.id is not None and user_id is not None and user.id == user_id


def is_auditor(user: Person, access: AuditAccess) -> bool:
    return _is(user, access.audit.auditor_id)


def is_partner_on(user: Person, access: AuditAccess) -> bool:
    """A partner representative assigned a section of this audit."""
    return user.has_role(Role.PARTNER) and user.id is not None and bool(access.partner_sections.get(user.id))


def partner_only(user: Person, access: AuditAccess) -> bool:
    """Someone who sees the audit only as a partner representative: limited to shareable facts and their section."""
    return is_partner_on(user, access) and not (
        user.has_role(Role.QA_LEAD) or is_auditor(user, access) or user.id in access.moderator_ids
    )


def grading_blind(user: Person, access: AuditAccess) -> bool:
    """A moderator grading this audit blind who has not graded yet: no page may show them the auditor's grades."""
    return user.id is not None and user.id in access.blind_ids and not is_auditor(user, access)


def manages_case(user: Person, access: AuditAccess) -> bool:
    """A team manager of the case's team (its manager, the case's recorded manager, or a team manager in it)."""
    if not user.has_role(Role.TEAM_MANAGER) or user.id is None:
        return False
    in_team = user.team_id is not None and user.team_id == access.case_team_id
    return user.id in access.manager_ids or in_team


def heads_case_area(user: Person, access: AuditAccess) -> bool:
    return (
        user.has_role(Role.HEAD_OF_SERVICE)
        and access.case_area_id is not None
        and user.scope_service_area_id == access.case_area_id
    )


def is_case_worker(user: Person, access: AuditAccess) -> bool:
    return user.has_role(Role.PRACTITIONER) and _is(user, access.case_worker_id)


def reads_as_manager(user: Person, access: AuditAccess) -> bool:
    """A team manager or head of service reading a completed audit of their team's or area's case."""
    return access.completed and (manages_case(user, access) or heads_case_area(user, access))


# --- The rules ------------------------------------------------------------------------------------------------


def may_read_audit(user: Person, access: AuditAccess) -> bool:
    """The audit's pages and API: its answers, the printout and its PDF."""
    if not user.active:
        return False
    if is_auditor(user, access):
        return True
    if grading_blind(user, access):
        return False
    if user.has_role(Role.QA_LEAD) or user.id in access.moderator_ids:
        return True
    return reads_as_manager(user, access) or is_partner_on(user, access)


def may_open_audit(user: Person, access: AuditAccess) -> bool:
    """The audit's own page and API read: everyone who reads it, and a moderator grading it blind (the API hides the
    auditor's grades from them; the pages send them to the moderation page, which does the same)."""
    return may_read_audit(user, access) or (bool(user.active) and grading_blind(user, access))


def may_read_findings(user: Person, access: AuditAccess) -> bool:
    """The findings of a completed audit (and the replies to them): everyone who reads the audit, and the case's
    worker; before completion, only the QA lead (who follows the audit through)."""
    if not user.active:
        return False
    if user.has_role(Role.QA_LEAD) and not grading_blind(user, access):
        return True
    readers = may_read_audit(user, access) and not partner_only(user, access)  # their view is their sections
    return access.completed and (readers or is_case_worker(user, access))


def may_print_audit(user: Person, access: AuditAccess) -> bool:
    """The printout and its PDF hold every section and every case fact: not for a partner representative, who
    reads their sections (and the panel) on the audit's pages."""
    return may_read_audit(user, access) and not partner_only(user, access)


def may_reach_replies(user: Person, access: AuditAccess) -> bool:
    """Posting a reply: whoever reads the findings, and the case's worker before completion too (who is then told
    they can reply once the audit is completed)."""
    return may_read_findings(user, access) or (bool(user.active) and is_case_worker(user, access))


def may_reply(user: Person, access: AuditAccess) -> bool:
    """Only the case's worker replies to the findings, and only of a completed audit."""
    return bool(user.active) and access.completed and is_case_worker(user, access)


def may_edit_audit(user: Person, access: AuditAccess) -> bool:
    """The auditor, until the audit is submitted (or once returned): answers, submission."""
    return bool(user.active) and is_auditor(user, access) and access.audit.status in EDITABLE


def may_answer_audit(user: Person, access: AuditAccess) -> bool:
    """Saving answers at all: the auditor and the partner representatives assigned a section (which sections, and
    whether the audit still takes answers, are `may_edit_section`'s and the service's)."""
    return bool(user.active) and (is_auditor(user, access) or is_partner_on(user, access))


def may_edit_section(user: Person, access: AuditAccess, section_key: str) -> bool:
    """A section's answers: the partner representative it is assigned to; any other section, the auditor."""
    if not user.active or access.audit.status not in EDITABLE:
        return False
    if user.id is not None and section_key in access.partner_sections.get(user.id, frozenset()):
        return user.has_role(Role.PARTNER) or is_auditor(user, access)
    return is_auditor(user, access) and section_key not in access.assigned_sections


def may_read_section(user: Person, access: AuditAccess, section_key: str, *, partners_see: PartnerView) -> bool:
    """A section of an audit the user may read. A partner representative sees their own sections, and the other
    sections as the setting says (by default once the panel has met)."""
    if not may_read_audit(user, access):
        return False
    if not partner_only(user, access):
        return True
    if section_key in access.partner_sections.get(user.id or 0, frozenset()):
        return True
    return partners_see == PartnerView.ALWAYS or (partners_see == PartnerView.AFTER_PANEL and access.panel_held)


def may_read_moderation(user: Person, access: AuditAccess) -> bool:
    """The moderation pages: the QA lead, the auditor and the moderators of its rounds (a blind moderator too:
    the moderation page is where they grade, and it hides the auditor's grades from them)."""
    if not user.active:
        return False
    return user.has_role(Role.QA_LEAD) or is_auditor(user, access) or user.id in access.moderator_ids


def may_manage_audit(user: Person, access: AuditAccess) -> bool:
    """Reallocation, due dates, partner assignments and the panel record: the QA lead."""
    return bool(user.active) and user.has_role(Role.QA_LEAD)


def may_raise_recommendation(user: Person, access: AuditAccess) -> bool:
    """Recommendations from the audit: its auditor, a moderator of it (once they see its grades) or the QA lead."""
    if not may_read_audit(user, access):
        return False
    return user.has_role(Role.QA_LEAD) or is_auditor(user, access) or user.id in access.moderator_ids


def listed_condition(user: Person) -> ColumnElement[bool]:
    """`may_read_audit` as a WHERE clause on Audit, for lists: the QA lead's every audit; an auditor's own; a
    partner's assigned; a team manager's and a head of service's completed audits of their team's or area's cases.
    (A moderator finds the audits they moderate in the moderation queue, not here.)"""
    if not user.active or user.id is None:
        return false()
    if user.has_role(Role.QA_LEAD):
        return true()
    parts: list[ColumnElement[bool]] = [col(Audit.auditor_id) == user.id]
    if user.has_role(Role.PARTNER):
        parts.append(Audit.id.in_(select(SectionPartner.audit_id).where(SectionPartner.partner_id == user.id)))
    cases: list[ColumnElement[bool]] = []
    if user.has_role(Role.TEAM_MANAGER):
        cases.append(Case.team_id.in_(select(Team.id).where(Team.manager_id == user.id)))
        cases.append(Case.manager_user_id == user.id)
        if user.team_id is not None:
            cases.append(Case.team_id == user.team_id)
    if user.has_role(Role.HEAD_OF_SERVICE) and user.scope_service_area_id is not None:
        cases.append(Case.service_area_id == user.scope_service_area_id)
    if cases:
        parts.append((Audit.status == COMPLETED) & Audit.case_id.in_(select(Case.id).where(or_(*cases))))
    return or_(*parts)
