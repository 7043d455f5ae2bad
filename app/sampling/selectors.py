"""Reads for the programme pages: the year's cycles with their progress, a cycle's samples and audits, frame sizes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import case, extract, func, select
from sqlmodel import Session

from app.accounts.models import Team, User
from app.audits.models import Audit
from app.cases.facts import CASE_TYPE_LABELS
from app.cases.models import Case
from app.sampling.models import Cycle, Sample, SampleCase

# An audit is overdue when its due date has passed and it has not been submitted (returned ones are back with
# the auditor). templates/audits/_macros.html `overdue_tag` applies the same rule to one audit.
NOT_SUBMITTED = ("allocated", "in_progress", "returned")
SUBMITTED = ("submitted", "in_moderation")


@dataclass
class Progress:
    """How far a cycle (or one auditor in it) has got: audits allocated, awaiting moderation, done, late."""

    allocated: int = 0
    submitted: int = 0
    completed: int = 0
    overdue: int = 0


@dataclass
class AuditorProgress:
    name: str
    progress: Progress = field(default_factory=Progress)


def _progress_columns(today: date) -> list[Any]:
    return [
        func.count(),
        func.sum(case((Audit.status.in_(SUBMITTED), 1), else_=0)),
        func.sum(case((Audit.status == "completed", 1), else_=0)),
        func.sum(case(((Audit.due_date < today) & Audit.status.in_(NOT_SUBMITTED), 1), else_=0)),
    ]


def _progress(row: Any) -> Progress:
    return Progress(*(int(value or 0) for value in row))


def cycle_years(session: Session, *, today: date, allowed: range) -> list[int]:
    """Years that have cycles (by due date), with this year and next always offered, newest first; only the
    programme's years (`allowed`, app/date_rules.py) are offered."""
    found = {int(y) for y in session.execute(select(extract("year", Cycle.due_date)).distinct()).scalars()}
    return sorted((y for y in found | {today.year, today.year + 1} if y in allowed), reverse=True)


def cycles_for_year(session: Session, *, year: int, today: date) -> list[tuple[Cycle, Progress]]:
    """The year's cycles (by due date, soonest first), each with its progress."""
    cycles = list(
        session.execute(
            select(Cycle)
            .where(Cycle.due_date >= date(year, 1, 1), Cycle.due_date <= date(year, 12, 31))
            .order_by(Cycle.due_date, Cycle.id)
        ).scalars()
    )
    ids = [c.id for c in cycles]
    progress = (
        {
            row[0]: _progress(row[1:])
            for row in session.execute(
                select(Audit.cycle_id, *_progress_columns(today))
                .where(Audit.cycle_id.in_(ids))
                .group_by(Audit.cycle_id)
            )
        }
        if ids
        else {}
    )
    return [(c, progress.get(c.id, Progress())) for c in cycles]


def cycle_get(session: Session, *, cycle_id: int) -> Cycle | None:
    return session.get(Cycle, cycle_id)


def cycle_progress_by_auditor(session: Session, *, cycle: Cycle, today: date) -> tuple[list[AuditorProgress], Progress]:
    """Each auditor's audits in the cycle (by name), and the totals."""
    rows = session.execute(
        select(User.full_name, *_progress_columns(today))
        .join(User, User.id == Audit.auditor_id)
        .where(Audit.cycle_id == cycle.id)
        .group_by(User.id, User.full_name)
        .order_by(User.full_name)
    ).all()
    found = [AuditorProgress(name=row[0], progress=_progress(row[1:])) for row in rows]
    total = Progress(
        *(sum(getattr(a.progress, f) for a in found) for f in ("allocated", "submitted", "completed", "overdue"))
    )
    return found, total


@dataclass(frozen=True)
class OverdueAudit:
    audit_id: int
    child_id: str
    auditor: str
    due_date: date
    days_overdue: int
    status: str


def cycle_overdue_audits(session: Session, *, cycle: Cycle, today: date) -> list[OverdueAudit]:
    """The cycle's overdue audits, grouped by auditor (by name), the longest overdue first within each."""
    rows = session.execute(
        select(Audit.id, Case.child_id, User.full_name, Audit.due_date, Audit.status)
        .join(Case, Case.id == Audit.case_id)
        .join(User, User.id == Audit.auditor_id)
        .where(Audit.cycle_id == cycle.id, Audit.status.in_(NOT_SUBMITTED), Audit.due_date < today)
        .order_by(User.full_name, Audit.due_date, Audit.id)
    ).all()
    return [
        OverdueAudit(
            audit_id=r[0], child_id=r[1], auditor=r[2], due_date=r[3], days_overdue=(today - r[3]).days, status=r[4]
        )
        for r in rows
    ]


@dataclass
class SampleOverview:
    """A stored sample with how many of its cases were drawn and how many added by hand."""

    sample: Sample
    drawn: int
    manual: int


def cycle_samples(session: Session, *, cycle: Cycle) -> list[SampleOverview]:
    samples = list(session.execute(select(Sample).where(Sample.cycle_id == cycle.id).order_by(Sample.id)).scalars())
    counts = (
        {
            row[0]: (int(row[1] or 0), int(row[2] or 0))
            for row in session.execute(
                select(
                    SampleCase.sample_id,
                    func.sum(case((SampleCase.manual_reason.is_(None), 1), else_=0)),
                    func.sum(case((SampleCase.manual_reason.is_not(None), 1), else_=0)),
                )
                .where(SampleCase.sample_id.in_([s.id for s in samples]))
                .group_by(SampleCase.sample_id)
            )
        }
        if samples
        else {}
    )
    return [SampleOverview(s, *counts.get(s.id, (0, 0))) for s in samples]


def sample_get(session: Session, *, sample_id: int) -> Sample | None:
    return session.get(Sample, sample_id)


@dataclass(frozen=True)
class CaseLine:
    """A case as the sampling pages list it."""

    id: int
    child_id: str
    team: str | None
    case_type: str
    worker: str | None
    stratum: str | None = None
    manual_reason: str | None = None


def _case_type_label(value: str) -> str:
    return next((label for kind, label in CASE_TYPE_LABELS.items() if kind.value == value), value)


def cases_brief(session: Session, *, case_ids: list[int]) -> list[CaseLine]:
    """The drawn cases of a preview, by child ID."""
    if not case_ids:
        return []
    rows = session.execute(
        select(Case.id, Case.child_id, Team.name, Case.case_type, Case.worker_name)
        .outerjoin(Team, Team.id == Case.team_id)
        .where(Case.id.in_(case_ids))
        .order_by(Case.child_id)
    )
    return [CaseLine(id=r[0], child_id=r[1], team=r[2], case_type=_case_type_label(r[3]), worker=r[4]) for r in rows]


def sample_cases(session: Session, *, sample: Sample) -> list[CaseLine]:
    """A stored sample's cases: drawn ones by child ID, then the ones added by hand."""
    rows = session.execute(
        select(
            Case.id,
            Case.child_id,
            Team.name,
            Case.case_type,
            Case.worker_name,
            SampleCase.stratum,
            SampleCase.manual_reason,
        )
        .join(SampleCase, SampleCase.case_id == Case.id)
        .outerjoin(Team, Team.id == Case.team_id)
        .where(SampleCase.sample_id == sample.id)
        .order_by(SampleCase.manual_reason.is_not(None), Case.child_id)
    )
    return [
        CaseLine(
            id=r[0],
            child_id=r[1],
            team=r[2],
            case_type=_case_type_label(r[3]),
            worker=r[4],
            stratum=r[5],
            manual_reason=r[6],
        )
        for r in rows
    ]


def sample_audits(session: Session, *, sample: Sample) -> list[Audit]:
    return list(
        session.execute(
            select(Audit).where(Audit.sample_id == sample.id).order_by(Audit.auditor_id, Audit.id)
        ).scalars()
    )
