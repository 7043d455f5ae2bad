"""A hand-built set of audits whose report figures are worked out by hand in test_figures.py.

Audits are started and answered through the real services (`audit_start`, `audit_answers_save`: the answer rows,
prefill suggestions and JSON values are exactly what users produce); completion, its time and moderation rounds
are then set as rows, so each audit lands on the day and grade the figures need. One test also drives an audit
through real submission and moderation (test_figures.py, with the moderation fixtures).

    audit  template         team (area)          case  cycle/sample  completed (UTC)   final  moderation (auditor -> final)
    a1     case_file_audit  North (Safeguarding)  cin   A / S         2026-03-10 12:00  good   -
    a2     case_file_audit  North (Safeguarding)  cp    A / S         2026-04-05 09:00  RI     round 1 returned, round 2: good -> RI
    a3     case_file_audit  South (Safeguarding)  cin   A / S         2026-05-31 23:30  outst. good -> outstanding (June in London)
    a4     case_file_audit  Care (In care)        cla   B             2026-05-20 10:00  inad.  round 1 accepted (-> RI), added again,
                                                                                                 round 2: inadequate -> inadequate
    a5     dip_sample       North (Safeguarding)  cin   B             2026-05-31 22:30  -      -  (23:30 BST: still May)
    a6     dip_sample       Care (In care)        cla   -             2026-06-02 08:00  -      -
    never counted: a7 (submitted, not completed), a8 (completed 2025-01-10, before the default period)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.accounts.models import Team, User
from app.accounts.roles import Role
from app.audits import selectors as audit_selectors
from app.audits.models import Audit
from app.flows import audits as audit_flows
from app.moderation.models import Moderation
from app.sampling.models import Cycle, Sample
from tests.factories import (
    make_audit,
    make_case,
    make_team,
    make_user,
    publish_templates,
)
from tests.moderation.conftest import mw  # noqa: F401 - the moderation world, for the end-to-end test

TODAY = date(2026, 6, 15)
ZONE = "Europe/London"
FRAME_SIZE = 400
CFA, DIP = "case_file_audit", "dip_sample"


@dataclass
class ReportWorld:
    lead: User
    viewer: User
    hos: User  # head of service for Safeguarding
    auditor: User
    north: Team
    south: Team
    care: Team
    cycle_a: Cycle
    cycle_b: Cycle
    sample: Sample
    audits: dict[str, Audit]


def at(text: str) -> datetime:
    """A UTC time from "YYYY-MM-DD HH:MM"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def completed_audit(
    db,
    *,
    auditor: User,
    team: Team,
    template: str,
    case_type: str,
    answers: dict[str, Any],
    completed_at: datetime | None,
    final_grade: str | None = None,
    status: str = "completed",
    cycle: Cycle | None = None,
    sample: Sample | None = None,
    coded: bool = True,
    version: int | None = None,
) -> Audit:
    """An audit started (on `version` of the template, default the newest) and answered through the services, then
    set completed at `completed_at`, with its compliance code as completion writes it (`coded=False`: without, as if
    completed before codes existed)."""
    audit = make_audit(
        db,
        case=make_case(db, team=team, case_type=case_type),
        auditor=auditor,
        template_key=template,
        today=TODAY,
        version=version,
    )
    if answers:
        audit_flows.audit_answers_save(db, audit=audit, version=audit.version, answers=answers, actor=auditor)
    audit.status, audit.completed_at, audit.final_grade = status, completed_at, final_grade
    if status == "completed" and coded:
        audit.compliance_answers = audit_selectors.audit_compliance_code(db, audit)
    audit.cycle_id = cycle.id if cycle else None
    audit.sample_id = sample.id if sample else None
    db.add(audit)
    db.flush()
    return audit


def moderated(
    db,
    audit: Audit,
    *,
    auditor_grade: str | None,
    moderator: User,
    round: int = 1,
    decision: str = "accept",
    moderator_grade: str | None = None,
) -> Moderation:
    """A decided moderation round; an accepted one gave the audit its final grade."""
    row = Moderation(
        audit_id=audit.id,
        round=round,
        reason="random",
        moderator_id=moderator.id,
        status="decided",
        overall_grade=moderator_grade or audit.final_grade,
        auditor_overall_grade=auditor_grade,
        decision=decision,
        agreement={"overall": auditor_grade == (moderator_grade or audit.final_grade)},
    )
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def rw(db) -> ReportWorld:
    publish_templates(db)
    north = make_team(db, name="North", service_area="Safeguarding")
    south = make_team(db, name="South", service_area="Safeguarding")
    care = make_team(db, name="Care", service_area="Children in care")
    lead = make_user(db, username="rlead", roles=(Role.QA_LEAD,))
    viewer = make_user(db, username="rviewer", roles=(Role.VIEWER,))
    hos = make_user(db, username="rhos", roles=(Role.HEAD_OF_SERVICE,))
    hos.service_area_id = north.service_area_id
    db.add(hos)
    auditor = make_user(db, username="rauditor", roles=(Role.AUDITOR,), team=north)
    moderator = make_user(db, username="rmoderator", roles=(Role.MODERATOR,), team=south)
    cycle_a = Cycle(
        title="Spring deep dive",
        kind="deep_dive",
        template_key=CFA,
        template_version=1,
        due_date=date(2026, 6, 30),
        moderation_rate=0.0,
    )
    cycle_b = Cycle(
        title="May dip sample",
        kind="dip_sample",
        template_key=DIP,
        template_version=1,
        due_date=date(2026, 6, 30),
        moderation_rate=0.0,
    )
    db.add_all([cycle_a, cycle_b])
    db.flush()
    sample = Sample(cycle_id=cycle_a.id, method="random", seed=1, size=3, frame_size=FRAME_SIZE, frame_hash="0" * 64)
    db.add(sample)
    db.flush()

    def audit(
        template: str,
        team: Team,
        case_type: str,
        completed: str | None,
        grade: str | None,
        answers: dict[str, Any],
        **more: Any,
    ) -> Audit:
        return completed_audit(
            db,
            auditor=auditor,
            team=team,
            template=template,
            case_type=case_type,
            answers=answers,
            completed_at=at(completed) if completed else None,
            final_grade=grade,
            **more,
        )

    # Not counted for compliance: child_missing_12m (scored: false) and the safeguarding question.
    facts = {"child_missing_12m": "yes", "immediate_safeguarding_concern": "no"}
    audits = {
        "a1": audit(
            CFA,
            north,
            "cin",
            "2026-03-10 12:00",
            "good",
            {"chronology_up_to_date": "yes", "genogram_on_file": "yes", **facts},
            cycle=cycle_a,
            sample=sample,
        ),
        "a2": audit(
            CFA,
            north,
            "cp",
            "2026-04-05 09:00",
            "requires_improvement",
            {"chronology_up_to_date": "no", "genogram_on_file": "yes"},
            cycle=cycle_a,
            sample=sample,
        ),
        "a3": audit(
            CFA,
            south,
            "cin",
            "2026-05-31 23:30",
            "outstanding",
            {"chronology_up_to_date": "yes", "genogram_on_file": "no", **facts},
            cycle=cycle_a,
            sample=sample,
        ),
        "a4": audit(CFA, care, "cla", "2026-05-20 10:00", "inadequate", {"chronology_up_to_date": "na"}, cycle=cycle_b),
        "a5": audit(
            DIP,
            north,
            "cin",
            "2026-05-31 22:30",
            None,
            {"chronology_up_to_date": "no", "oversight_last_month": "na", **facts},
            cycle=cycle_b,
        ),
        "a6": audit(
            DIP,
            care,
            "cla",
            "2026-06-02 08:00",
            None,
            {"chronology_up_to_date": "yes", "oversight_last_month": "yes"},
            coded=False,
        ),  # the reports work its code out from its answers
        "a7": audit(
            CFA,
            north,
            "cin",
            None,
            None,
            {"chronology_up_to_date": "yes"},
            status="submitted",
            cycle=cycle_a,
            sample=sample,
        ),
        "a8": audit(CFA, north, "cin", "2025-01-10 12:00", "good", {"chronology_up_to_date": "no"}),
    }
    moderated(
        db, audits["a2"], auditor_grade="good", moderator_grade="inadequate", decision="return", moderator=moderator
    )
    moderated(db, audits["a2"], auditor_grade="good", round=2, moderator=moderator)
    moderated(db, audits["a3"], auditor_grade="good", moderator=moderator)
    moderated(
        db, audits["a4"], auditor_grade="inadequate", moderator_grade="requires_improvement", moderator=moderator
    )  # accepted, then added to moderation again by the QA lead:
    moderated(db, audits["a4"], auditor_grade="inadequate", round=2, moderator=moderator)
    return ReportWorld(
        lead=lead,
        viewer=viewer,
        hos=hos,
        auditor=auditor,
        north=north,
        south=south,
        care=care,
        cycle_a=cycle_a,
        cycle_b=cycle_b,
        sample=sample,
        audits=audits,
    )
