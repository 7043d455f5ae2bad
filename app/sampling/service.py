"""Cycles and samples: create and copy cycles, draw a sample (as a dry run or stored), add cases by hand.

A draw is a pure function of the frame, the spec and the seed (app/sampling/methods.py); the frame comes
from SQL (app/sampling/frame.py). Storing re-draws with the same seed, so what is stored is exactly what
the preview showed, provided the frame has not changed; the frame hash shows whether it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from app import clock
from app.accounts.models import User
from app.audit_templates.selectors import template_latest
from app.audit_trail.service import audit_record
from app.cases.models import Case
from app.date_rules import DueDateRules
from app.dates import short_date
from app.errors import Conflict, ValidationFailed
from app.sampling.frame import frame_load
from app.sampling.methods import SamplingError, Stratum, draw_from_strata, draw_positions, frame_hash, new_seed
from app.sampling.models import Cycle, Sample, SampleCase
from app.sampling.schemas import CycleCreate, SampleSpec

CYCLE_STATUSES = {"planned": "Planned", "sampling": "Sampling", "in_progress": "In progress", "closed": "Closed"}


def cycle_dates_errors(data: CycleCreate, dates: DueDateRules) -> dict[str, str]:
    """What is wrong with a cycle's dates: the due date within the allowed range, the start within the programme's
    years and not after the due date."""
    errors: dict[str, str] = {}
    if problem := dates.problem(data.due_date):
        errors["due_date"] = problem
    if data.start_date is not None:
        if problem := dates.programme_date_problem(data.start_date, label="the start date"):
            errors["start_date"] = problem
        elif data.due_date < data.start_date and "due_date" not in errors:
            errors["due_date"] = "The due date must be on or after the start date"
    return errors


def cycle_create(session: Session, *, data: CycleCreate, actor: User | None, dates: DueDateRules) -> Cycle:
    """A new cycle on the newest published version of its template (pinned: later versions do not change it)."""
    template = template_latest(session, key=data.template_key)
    errors = cycle_dates_errors(data, dates)
    if template is None:
        errors["template_key"] = f"There is no published template called {data.template_key!r}"
    if errors:
        raise ValidationFailed(errors)
    cycle = Cycle(**data.model_dump(), template_version=template.version, owner_id=actor.id if actor else None)
    session.add(cycle)
    session.flush()
    audit_record(
        session,
        actor=actor,
        action="cycle.create",
        summary=f"Created the audit cycle {cycle.title}",
        entity_type="cycle",
        entity_id=cycle.id,
        after={
            "title": cycle.title,
            "kind": cycle.kind,
            "template": f"{cycle.template_key} v{cycle.template_version}",
            "due_date": cycle.due_date.isoformat(),
        },
    )
    return cycle


def cycle_copy(session: Session, *, cycle: Cycle, actor: User | None, dates: DueDateRules) -> Cycle:
    """ "The same again next month": the same kind, template and theme, dates a month on, newest template version.
    A copy whose dates are not allowed (a month on from an old cycle has passed already) is refused, keyed "copy"."""
    shift = _next_month
    title = cycle.title + " (next month)" if len(cycle.title) <= 187 else cycle.title
    data = CycleCreate(
        title=title,
        kind=cycle.kind,
        template_key=cycle.template_key,
        due_date=shift(cycle.due_date),
        start_date=shift(cycle.start_date) if cycle.start_date else None,
        theme=cycle.theme,
        moderation_rate=cycle.moderation_rate,
        blind_moderation=cycle.blind_moderation,
    )
    if errors := cycle_dates_errors(data, dates):
        problems = "; ".join(message[:1].lower() + message[1:] for message in errors.values())
        raise ValidationFailed(
            {
                "copy": f"A month on, the copy would be due on {short_date(data.due_date)}, but {problems}. "
                "Create a new cycle instead"
            }
        )
    return cycle_create(session, data=data, actor=actor, dates=dates)


def cycle_close(session: Session, *, cycle: Cycle, actor: User | None) -> Cycle:
    """Close a cycle: no more samples, and its sampled cases are free for other samples again.
    Audits already allocated carry on (they are the cycle's results)."""
    closed = session.execute(
        update(Cycle)
        .where(Cycle.id == cycle.id, Cycle.status != "closed")
        .values(status="closed", updated_at=clock.now(), version=Cycle.version + 1)
    ).rowcount
    if closed != 1:
        raise Conflict("This cycle is already closed.")
    before = cycle.status
    session.refresh(cycle)
    audit_record(
        session,
        actor=actor,
        action="cycle.close",
        summary=f"Closed the audit cycle {cycle.title}",
        entity_type="cycle",
        entity_id=cycle.id,
        before={"status": before},
        after={"status": "closed"},
    )
    return cycle


def _next_month(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month, last)
        except ValueError:
            continue
    return day + timedelta(days=30)


@dataclass
class Draw:
    """A sample worked out but not stored: what the preview shows and what storing writes."""

    method: str
    seed: int
    size: int
    frame_size: int
    frame_hash: str
    case_ids: list[int]
    strata: list[Stratum] = field(default_factory=list)
    stratum_of: dict[int, str] = field(default_factory=dict)
    exclusions: dict[str, int] = field(default_factory=dict)


def sample_draw(session: Session, *, spec: SampleSpec, today: date) -> Draw:
    """Draw without writing anything (the dry run); the seed is generated if the spec has none."""
    method = spec.method
    if method == "stratified" and not spec.strata_by:
        raise ValidationFailed({"strata_by": "Choose what to stratify by (for example team)"})
    seed = spec.seed or new_seed()
    frame = frame_load(session, spec, today)
    try:
        if spec.strata_by:
            case_ids, strata = draw_from_strata(frame.strata, spec.size, seed, minimum=spec.min_per_stratum)
        else:
            whole = frame.case_ids
            case_ids, strata = [int(whole[place]) for place in draw_positions(len(whole), spec.size, seed)], []
    except SamplingError as exc:
        raise ValidationFailed({"min_per_stratum" if spec.min_per_stratum else "size": str(exc)}) from None
    return Draw(
        method=method,
        seed=seed,
        size=spec.size,
        frame_size=frame.size,
        frame_hash=frame_hash(frame.case_ids),
        case_ids=case_ids,
        strata=strata,
        stratum_of={i: frame.stratum_of(i) or "" for i in case_ids} if spec.strata_by else {},
        exclusions=frame.exclusions,
    )


def sample_create(session: Session, *, cycle: Cycle, spec: SampleSpec, today: date, actor: User | None) -> Sample:
    """Draw and store. With the seed of a preview, the stored cases are the previewed ones (same frame)."""
    if cycle.status == "closed":
        raise Conflict("This cycle is closed, so no more samples can be drawn for it.")
    draw = sample_draw(session, spec=spec, today=today)
    sample = Sample(
        cycle_id=cycle.id,
        method=draw.method,
        params=spec.model_dump(mode="json", exclude={"seed"}),
        seed=draw.seed,
        size=draw.size,
        frame_size=draw.frame_size,
        frame_hash=draw.frame_hash,
        strata=[{"value": s.value, "frame_size": s.frame_size, "sample_size": s.sample_size} for s in draw.strata],
        exclusions=draw.exclusions,
        created_by_id=actor.id if actor else None,
    )
    session.add(sample)
    session.flush()
    if draw.case_ids:
        session.execute(
            SampleCase.__table__.insert(),
            [
                {"sample_id": sample.id, "case_id": case_id, "stratum": draw.stratum_of.get(case_id, "")[:200] or None}
                for case_id in draw.case_ids
            ],
        )
    if cycle.status == "planned":
        session.execute(update(Cycle).where(Cycle.id == cycle.id).values(status="sampling", updated_at=clock.now()))
    audit_record(
        session,
        actor=actor,
        action="sample.create",
        summary=f"Drew a {draw.method} sample of {len(draw.case_ids)} from {draw.frame_size} cases for {cycle.title}",
        entity_type="sample",
        entity_id=sample.id,
        after={
            "cycle_id": cycle.id,
            "method": draw.method,
            "seed": draw.seed,
            "size": draw.size,
            "frame_size": draw.frame_size,
            "frame_hash": draw.frame_hash,
            "drawn": len(draw.case_ids),
        },
    )
    return sample


def sample_add_case(session: Session, *, sample: Sample, child_id: str, reason: str, actor: User | None) -> SampleCase:
    """A case added by hand, with the QA lead's reason (recorded as such, never mixed with the draw)."""
    errors: dict[str, str] = {}
    reason = " ".join(reason.split())
    if not reason:
        errors["reason"] = "Give the reason for adding this case by hand"
    case = session.execute(select(Case).where(Case.child_id == child_id.strip())).scalar_one_or_none()
    if case is None:
        errors["child_id"] = f"There is no case with the child ID {child_id.strip()!r}"
    if errors:
        raise ValidationFailed(errors)
    assert case is not None
    if session.execute(
        select(SampleCase.id).where(SampleCase.sample_id == sample.id, SampleCase.case_id == case.id)
    ).first():
        raise ValidationFailed({"child_id": f"Child {case.child_id} is already in this sample"})
    if sample.allocated:
        raise Conflict("This sample has been allocated; add the case to a new sample instead.")
    row = SampleCase(sample_id=sample.id, case_id=case.id, manual_reason=reason[:2000])
    session.add(row)
    session.flush()
    audit_record(
        session,
        actor=actor,
        action="sample.add_case",
        summary=f"Added child {case.child_id} to sample {sample.id} by hand",
        entity_type="sample",
        entity_id=sample.id,
        after={"case_id": case.id, "reason": reason[:500]},
    )
    return row


def sample_case_ids(session: Session, *, sample: Sample) -> list[int]:
    return list(
        session.execute(
            select(SampleCase.case_id).where(SampleCase.sample_id == sample.id).order_by(SampleCase.case_id)
        ).scalars()
    )


def draw_summary(draw: Draw) -> dict[str, Any]:
    """The API and the page show the same facts about a draw."""
    return {
        "method": draw.method,
        "seed": draw.seed,
        "size": draw.size,
        "frame_size": draw.frame_size,
        "frame_hash": draw.frame_hash,
        "strata": [{"value": s.value, "frame_size": s.frame_size, "sample_size": s.sample_size} for s in draw.strata],
        "exclusions": draw.exclusions,
        "case_ids": draw.case_ids,
    }
