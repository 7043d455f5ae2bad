"""Allocating a stored sample: propose (pure rules in allocation.py over what the database says), let the QA
lead change it, re-check it and claim the sample (`allocation_claim`), and record what was allocated. The audits
themselves are started in between by `app.flows.allocation.allocation_confirm`, on the cycle's pinned template
version with due dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from app import clock
from app.accounts.models import Team, TrainingRecord, User, UserRole
from app.accounts.roles import Role, TrainingKind
from app.accounts.selectors import training_status
from app.audit_templates.models import TemplateVersion
from app.audit_templates.selectors import template_version_get
from app.audit_trail.service import audit_record
from app.audits.models import Audit
from app.audits.workflow.states import EDITABLE
from app.cases.models import Case
from app.date_rules import DueDateRules
from app.dates import short_date
from app.errors import Conflict, ValidationFailed
from app.sampling.allocation.rules import (
    AllocationProposal,
    AuditorInfo,
    CaseInfo,
    check_allocation,
    propose_allocation,
)
from app.sampling.models import Cycle, Sample, SampleCase


def auditor_pool(
    session: Session, *, cycle: Cycle | None, today: date, auditor_ids: list[int] | None = None
) -> list[AuditorInfo]:
    """Active users with the auditor role (or the ones named), with their training and their load in the cycle
    (no cycle: the audits they hold that are not yet submitted)."""
    stmt = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.AUDITOR.value, User.active.is_(True))
        .order_by(User.full_name)
    )
    if auditor_ids:
        stmt = stmt.where(User.id.in_(auditor_ids))
    users = list(session.execute(stmt).scalars().unique())
    if auditor_ids:
        missing = set(auditor_ids) - {u.id for u in users}
        if missing:
            raise ValidationFailed(
                {"auditor_ids": "These are not active auditors: " + ", ".join(str(i) for i in sorted(missing))}
            )
    ids = [u.id for u in users]
    records: dict[int, list[TrainingRecord]] = {i: [] for i in ids}
    for record in session.execute(select(TrainingRecord).where(TrainingRecord.user_id.in_(ids))).scalars():
        records[record.user_id].append(record)
    held = Audit.cycle_id == cycle.id if cycle is not None else Audit.status.in_(EDITABLE)
    loads = dict(
        session.execute(
            select(Audit.auditor_id, func.count()).where(held, Audit.auditor_id.in_(ids)).group_by(Audit.auditor_id)
        ).all()
    )
    pool = []
    for user in users:
        status = training_status(records[user.id], today=today)[TrainingKind.AUDITOR.value]
        note = None
        if not status.current:
            note = (
                f"auditor training expired on {short_date(status.expires_on)}"
                if status.state == "expired" and status.expires_on
                else "no current auditor training recorded"
            )
        pool.append(
            AuditorInfo(
                id=user.id,
                name=user.full_name,
                team_id=user.team_id,
                training_current=status.current,
                training_note=note,
                load=loads.get(user.id, 0),
            )
        )
    return pool


def sample_cases_info(session: Session, *, sample: Sample) -> list[CaseInfo]:
    rows = session.execute(
        select(
            Case.id,
            Case.child_id,
            Case.team_id,
            Team.name,
            Case.worker_name,
            Case.manager_name,
            Case.worker_user_id,
            Case.manager_user_id,
        )
        .join(SampleCase, SampleCase.case_id == Case.id)
        .outerjoin(Team, Team.id == Case.team_id)
        .where(SampleCase.sample_id == sample.id)
        .order_by(Case.child_id)
    )
    return [
        CaseInfo(
            id=r[0],
            child_id=r[1],
            team_id=r[2],
            team_name=r[3],
            worker_name=r[4],
            manager_name=r[5],
            worker_user_id=r[6],
            manager_user_id=r[7],
        )
        for r in rows
    ]


def allocation_propose(
    session: Session, *, sample: Sample, today: date, auditor_ids: list[int] | None = None
) -> AllocationProposal:
    cycle = session.get(Cycle, sample.cycle_id)
    assert cycle is not None
    pool = auditor_pool(session, cycle=cycle, today=today, auditor_ids=auditor_ids)
    return propose_allocation(sample_cases_info(session, sample=sample), pool, seed=sample.seed)


@dataclass(frozen=True)
class AllocationPlan:
    """A claimed sample's allocation, checked: which auditor starts an audit of which case, due when."""

    sample: Sample
    cycle: Cycle
    template: TemplateVersion
    due: date
    assignments: list[tuple[Case, User]]  # by case id
    unassigned: list[str]  # child IDs of the sample's cases no one may audit


def allocation_claim(
    session: Session,
    *,
    sample: Sample,
    assignments: dict[int, int],
    due_date: date | None,
    today: date,
    dates: DueDateRules,
) -> AllocationPlan:
    """Check the allocation and mark the sample allocated. The audits are due on `due_date` or else the cycle's due
    date (either must be allowed today). Every assignment is re-checked (a changed allocation may bring a conflict
    back)."""
    if sample.allocated:
        raise Conflict("This sample has already been allocated.")
    cycle = session.get(Cycle, sample.cycle_id)
    assert cycle is not None
    due = due_date or cycle.due_date
    if problem := dates.problem(due):
        if due_date is None:
            problem += f" (the cycle is due on {short_date(due)}): give the audits a due date"
        raise ValidationFailed({"due_date": problem})
    cases = sample_cases_info(session, sample=sample)
    pool = auditor_pool(session, cycle=cycle, today=today)
    if not assignments:
        raise ValidationFailed({"assignments": "Choose an auditor for at least one case"})
    problems = check_allocation(assignments, cases, pool)
    if problems:
        raise ValidationFailed({f"case_{case_id}": message for case_id, message in problems.items()})
    # Cases no one may audit stay in the sample without an audit; the event names them.
    unassigned = [c.child_id for c in cases if c.id not in assignments]
    claimed = session.execute(
        update(Sample).where(Sample.id == sample.id, Sample.allocated.is_(False)).values(allocated=True)
    ).rowcount
    if claimed != 1:
        raise Conflict("This sample has already been allocated.")
    template = template_version_get(session, key=cycle.template_key, version=cycle.template_version)
    assert template is not None
    users = {u.id: u for u in session.execute(select(User).where(User.id.in_(set(assignments.values())))).scalars()}
    chosen = []
    for case_id, auditor_id in sorted(assignments.items()):
        case = session.get(Case, case_id)
        assert case is not None
        chosen.append((case, users[auditor_id]))
    return AllocationPlan(
        sample=sample, cycle=cycle, template=template, due=due, assignments=chosen, unassigned=unassigned
    )


def allocation_record(session: Session, *, plan: AllocationPlan, audits: list[Audit], actor: User) -> None:
    """Once the plan's audits are started: the cycle is in progress, and one audit-trail event says what was
    allocated."""
    cycle, sample = plan.cycle, plan.sample
    session.execute(
        update(Cycle)
        .where(Cycle.id == cycle.id, Cycle.status.in_(("planned", "sampling")))
        .values(status="in_progress", updated_at=clock.now())
    )
    audit_record(
        session,
        actor=actor,
        action="sample.allocate",
        summary=f"Allocated {len(audits)} audits from sample {sample.id} of {cycle.title}",
        entity_type="sample",
        entity_id=sample.id,
        after={
            "audits": len(audits),
            "due_date": plan.due.isoformat(),
            "auditors": sorted({a.auditor_id for a in audits}),
            "not_allocated": plan.unassigned,
        },
    )


def allocation_summary(audits: list[Audit]) -> dict[str, Any]:
    return {
        "audits": [
            {
                "id": a.id,
                "case_id": a.case_id,
                "auditor_id": a.auditor_id,
                "due_date": a.due_date.isoformat() if a.due_date else None,
            }
            for a in audits
        ]
    }
