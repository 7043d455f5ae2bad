"""Who audits what, across the programme and the audits: allocating a sample starts its audits, and reallocating
an audit applies the programme's rules (training, conflicts of interest) to the audit's new auditor.

Each flow calls the areas' services in order, in the caller's transaction (the request's session, committed once):
`app.sampling.allocation.service` for the sample and the auditor pool, `app.audits.service` and
`app.audits.workflow.service` for the audits.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from app.accounts.models import Team, User
from app.audits import service as audit_service
from app.audits.models import Audit
from app.audits.workflow import service as workflow_service
from app.cases.models import Case
from app.date_rules import DueDateRules
from app.errors import ValidationFailed
from app.sampling.allocation import service as allocation_service
from app.sampling.allocation.rules import CaseInfo, conflict_reasons
from app.sampling.models import Cycle, Sample
from app.working_days import WorkingDayCalendar


def allocation_confirm(
    session: Session,
    *,
    sample: Sample,
    assignments: dict[int, int],
    due_date: date | None,
    actor: User,
    today: date,
    calendar: WorkingDayCalendar,
    dates: DueDateRules,
) -> list[Audit]:
    """Create the audits, due on `due_date` or else the cycle's due date (either must be allowed today). Every
    assignment is re-checked (a changed allocation may bring a conflict back)."""
    plan = allocation_service.allocation_claim(
        session, sample=sample, assignments=assignments, due_date=due_date, today=today, dates=dates
    )
    audits = [
        audit_service.audit_start(
            session,
            case=case,
            template=plan.template,
            auditor=auditor,
            actor=actor,
            today=today,
            calendar=calendar,
            due_date=plan.due,
            cycle_id=plan.cycle.id,
            sample_id=sample.id,
        )
        for case, auditor in plan.assignments
    ]
    allocation_service.allocation_record(session, plan=plan, audits=audits, actor=actor)
    return audits


def case_info(session: Session, case: Case) -> CaseInfo:
    """The case as the allocation rules see it (its team and the people on it, for conflicts of interest)."""
    team = session.get(Team, case.team_id) if case.team_id is not None else None
    return CaseInfo(
        id=case.id or 0,
        child_id=case.child_id,
        team_id=case.team_id,
        team_name=team.name if team else None,
        worker_name=case.worker_name,
        manager_name=case.manager_name,
        worker_user_id=case.worker_user_id,
        manager_user_id=case.manager_user_id,
    )


def reallocation_choices(session: Session, *, audit: Audit, today: date) -> list[tuple[User, list[str]]]:
    """Every active auditor but the current one, with why each may not take this audit (empty: they may)."""
    case = session.get(Case, audit.case_id)
    assert case is not None  # a foreign key
    cycle = session.get(Cycle, audit.cycle_id) if audit.cycle_id else None
    info = case_info(session, case)
    pool = [a for a in allocation_service.auditor_pool(session, cycle=cycle, today=today) if a.id != audit.auditor_id]
    users = {u.id: u for u in session.execute(select(User).where(col(User.id).in_([a.id for a in pool]))).scalars()}
    return [(users[a.id], conflict_reasons(a, info)) for a in pool if a.id in users]


def start_choices(session: Session, *, case: Case, today: date) -> list[tuple[User, list[str]]]:
    """Every active auditor, with why each may not audit this case (empty: they may): an audit started by hand
    follows the rules allocation does (current training, no conflict of interest)."""
    info = case_info(session, case)
    pool = allocation_service.auditor_pool(session, cycle=None, today=today)
    users = {u.id: u for u in session.execute(select(User).where(col(User.id).in_([a.id for a in pool]))).scalars()}
    return [(users[a.id], conflict_reasons(a, info)) for a in pool if a.id in users]


def cannot_audit(user: User, problems: list[str]) -> str:
    """The message for an auditor the rules refuse, as allocation, reallocation and starting by hand all say it."""
    return f"{user.full_name} cannot audit this case: " + "; ".join(problems)


def audit_reallocate(
    session: Session, *, audit: Audit, auditor_id: int | None, reason: str, version: int, actor: User, today: date
) -> Audit:
    """Give the audit to another auditor: trained, with no conflict of interest, for a reason that is recorded.
    The answers so far stay with the audit."""
    workflow_service.audit_check_reallocatable(audit)
    errors: dict[str, str] = {}
    choices = {user.id: (user, problems) for user, problems in reallocation_choices(session, audit=audit, today=today)}
    if auditor_id is None:
        errors["auditor_id"] = "Select the auditor to give this audit to"
    elif auditor_id == audit.auditor_id:
        errors["auditor_id"] = "This audit is already allocated to them: choose someone else"
    elif auditor_id not in choices:
        errors["auditor_id"] = "Choose an active auditor from the list"
    elif choices[auditor_id][1]:
        errors["auditor_id"] = cannot_audit(*choices[auditor_id])
    try:
        text = workflow_service.reason_text(reason, "reallocating this audit")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return workflow_service.audit_auditor_change(
        session, audit=audit, auditor=choices[auditor_id or 0][0], reason=text, version=version, actor=actor
    )
