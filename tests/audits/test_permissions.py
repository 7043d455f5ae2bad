"""The audit's access rules, as pure functions of a person and the audit's facts (no database)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from app.accounts.roles import Role
from app.audits import permissions as p
from app.audits.models import Audit
from app.audits.permissions import AuditAccess, PartnerView


@dataclass
class Person:
    id: int
    roles: set[str] = field(default_factory=set)
    team_id: int | None = None
    area_id: int | None = None
    active: bool = True

    @property
    def scope_service_area_id(self) -> int | None:
        return self.area_id

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


AUDITOR, MODERATOR, MANAGER, HEAD, WORKER, PARTNER, LEAD, OTHER = 1, 2, 3, 4, 5, 6, 7, 8


def facts(status: str = "completed", **changes) -> AuditAccess:
    values = {
        "audit": Audit(
            id=10,
            case_id=1,
            template_version_id=1,
            template_key="t",
            template_version=1,
            auditor_id=AUDITOR,
            status=status,
        ),
        "case_team_id": 20,
        "case_area_id": 30,
        "case_worker_id": WORKER,
        "manager_ids": frozenset({MANAGER}),
        "moderator_ids": frozenset({MODERATOR}),
        "partner_sections": {PARTNER: frozenset({"police"})},
    }
    values.update(changes)
    return AuditAccess(**values)


auditor = Person(AUDITOR, {Role.AUDITOR})
moderator = Person(MODERATOR, {Role.MODERATOR})
manager = Person(MANAGER, {Role.TEAM_MANAGER}, team_id=99)
head = Person(HEAD, {Role.HEAD_OF_SERVICE}, area_id=30)
worker = Person(WORKER, {Role.PRACTITIONER})
partner = Person(PARTNER, {Role.PARTNER})
lead = Person(LEAD, {Role.QA_LEAD})


def test_managers_read_completed_audits_of_their_team_or_area_only():
    for person in (manager, head):
        assert p.may_read_audit(person, facts("completed"))
        assert not p.may_read_audit(person, facts("in_progress"))  # never an audit in progress
        assert not p.may_edit_audit(person, facts("in_progress"))
    assert not p.may_read_audit(Person(OTHER, {Role.TEAM_MANAGER}, team_id=21), facts())  # another team
    assert p.may_read_audit(Person(OTHER, {Role.TEAM_MANAGER}, team_id=20), facts())  # a team manager in the team
    assert not p.may_read_audit(Person(OTHER, {Role.HEAD_OF_SERVICE}, area_id=31), facts())  # another area
    assert not p.may_read_audit(Person(MANAGER, {Role.PRACTITIONER}), facts())  # the role decides, not the link


def test_a_moderator_grading_blind_opens_the_audit_but_reads_no_grades():
    blind = facts("in_moderation", blind_ids=frozenset({MODERATOR}))
    assert p.grading_blind(moderator, blind)
    assert not p.may_read_audit(moderator, blind) and p.may_open_audit(moderator, blind)
    assert not p.may_raise_recommendation(moderator, blind) and not p.may_print_audit(moderator, blind)
    assert p.may_read_moderation(moderator, blind)
    assert p.may_read_audit(moderator, facts("in_moderation"))  # once graded


def test_a_qa_lead_allocated_a_blind_round_is_blind_like_anyone():
    blind = facts("in_moderation", moderator_ids=frozenset({LEAD}), blind_ids=frozenset({LEAD}))
    assert not p.may_read_audit(lead, blind) and not p.may_read_findings(lead, blind)
    assert p.may_read_audit(lead, facts("in_moderation"))


def test_the_worker_reads_and_replies_to_the_findings_of_a_completed_audit_only():
    assert not p.may_read_audit(worker, facts())
    assert p.may_read_findings(worker, facts()) and p.may_reply(worker, facts())
    assert not p.may_read_findings(worker, facts("submitted")) and not p.may_reply(worker, facts("submitted"))
    assert p.may_reach_replies(worker, facts("submitted"))  # to be told why not
    assert not p.may_reply(auditor, facts()) and p.may_read_findings(auditor, facts())


@pytest.mark.parametrize(
    ("setting", "before_panel", "after_panel"),
    [(PartnerView.AFTER_PANEL, False, True), (PartnerView.ALWAYS, True, True), (PartnerView.NEVER, False, False)],
)
def test_a_partner_reads_their_section_and_the_others_as_the_setting_says(setting, before_panel, after_panel):
    for held, expected in ((False, before_panel), (True, after_panel)):
        access = facts("in_progress", panel_held=held)
        assert p.may_read_section(partner, access, "police", partners_see=setting)
        assert p.may_read_section(partner, access, "health", partners_see=setting) is expected
        assert p.may_read_section(auditor, access, "health", partners_see=setting)  # the auditor reads everything


def test_a_partner_edits_only_their_own_section_and_the_auditor_every_other():
    access = facts("in_progress")
    assert p.may_edit_section(partner, access, "police") and not p.may_edit_section(partner, access, "health")
    assert not p.may_edit_section(auditor, access, "police") and p.may_edit_section(auditor, access, "health")
    assert not p.may_edit_section(partner, facts("submitted"), "police")
    assert p.partner_only(partner, access) and not p.may_print_audit(partner, access)
    assert not p.may_read_findings(partner, facts("completed"))  # every section and fact is on them
    assert not p.may_read_audit(Person(OTHER, {Role.PARTNER}), access)  # a partner of another audit


def test_nobody_inactive_reads_or_changes_anything():
    for person in (auditor, moderator, manager, head, worker, partner, lead):
        gone = Person(person.id, person.roles, person.team_id, person.area_id, active=False)
        assert not p.may_read_audit(gone, facts()) and not p.may_read_findings(gone, facts())
        assert not p.may_edit_section(gone, facts("in_progress"), "health")
