"""JSON API for the audit programme (QA lead): cycles, samples (with dry runs) and sample-size planning."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select

from app.db import SessionDep
from app.errors import ValidationFailed
from app.flows.allocation import allocation_confirm
from app.input_types import DateValue, StrictFlag
from app.numbers import IdValue
from app.pagination import MAX_PAGE, MAX_PAGE_SIZE, PageOut, paginate
from app.sampling import service
from app.sampling.allocation.service import allocation_propose, allocation_summary
from app.sampling.lookups import ManagedCycle, ManagedSample, ProgrammeManager
from app.sampling.methods import MIN_MARGIN, SamplingError, sample_size
from app.sampling.models import Cycle
from app.sampling.schemas import CycleCreate, SampleSpec
from app.working_days import calendar_for

router = APIRouter(tags=["programme and sampling"])


class CyclePublic(BaseModel):
    id: int
    title: str
    kind: str
    template_key: str
    template_version: int
    theme: str
    start_date: date | None
    due_date: date
    moderation_rate: float
    blind_moderation: bool
    status: str
    version: int


class SampleRequest(SampleSpec):
    dry_run: StrictFlag = False


@router.post("/cycles", response_model=CyclePublic, status_code=201)
def cycle_create(request: Request, session: SessionDep, actor: ProgrammeManager, data: CycleCreate) -> Cycle:
    """A new cycle: its due date from today to `DUE_DATE_HORIZON_YEARS` ahead (else 422 naming `due_date`)."""
    return service.cycle_create(session, data=data, actor=actor, dates=request.app.state.settings.due_date_rules())


@router.get("/cycles", response_model=PageOut[CyclePublic])
def cycles_list(
    session: SessionDep,
    _: ProgrammeManager,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageOut[Any]:
    result = paginate(
        session, select(Cycle).order_by(Cycle.due_date.desc(), Cycle.id.desc()), page=page, page_size=page_size
    )
    return PageOut(
        items=[CyclePublic.model_validate(c, from_attributes=True) for c in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.post(
    "/cycles/{cycle_id}/samples", status_code=201, responses={200: {"description": "dry_run: the draw, not saved"}}
)
def sample_create(
    request: Request, session: SessionDep, actor: ProgrammeManager, cycle: ManagedCycle, spec: SampleRequest
) -> JSONResponse:
    """Draw a sample. Same frame + same spec + same seed -> the same case_ids; dry_run saves nothing."""
    today = request.app.state.settings.today()
    plain = SampleSpec(**spec.model_dump(exclude={"dry_run"}))
    if spec.dry_run:
        draw = service.sample_draw(session, spec=plain, today=today)
        return JSONResponse({"id": None, **service.draw_summary(draw)}, status_code=200)
    sample = service.sample_create(session, cycle=cycle, spec=plain, today=today, actor=actor)
    body = {
        "id": sample.id,
        "method": sample.method,
        "seed": sample.seed,
        "size": sample.size,
        "frame_size": sample.frame_size,
        "frame_hash": sample.frame_hash,
        "strata": sample.strata,
        "exclusions": sample.exclusions,
        "case_ids": service.sample_case_ids(session, sample=sample),
    }
    return JSONResponse(body, status_code=201)


@router.get("/sample-size")
def sample_size_get(
    _: ProgrammeManager,
    population: Annotated[int, Query(ge=0, le=100_000_000)],
    confidence: Annotated[float, Query(gt=0, lt=1)] = 0.95,
    margin: Annotated[float, Query(ge=MIN_MARGIN, lt=1)] = 0.1,
    expected: Annotated[float, Query(ge=0, le=1)] = 0.5,
) -> dict[str, int]:
    """Cases needed to estimate a compliance rate within ±margin at the confidence level (finite population)."""
    try:
        return {"n": sample_size(population, confidence=confidence, margin=margin, expected=expected)}
    except SamplingError as exc:
        raise ValidationFailed({"margin": str(exc)}) from None


class AllocateRequest(BaseModel):
    auditor_ids: list[IdValue] | None = None
    due_date: DateValue | None = None
    # case id -> auditor id, to change the proposal (omitted: the proposal as it stands)
    assignments: dict[IdValue, IdValue] | None = None


@router.post("/samples/{sample_id}/allocate")
def sample_allocate(
    request: Request, session: SessionDep, actor: ProgrammeManager, sample: ManagedSample, body: AllocateRequest
) -> dict[str, Any]:
    """Allocate the sample's cases to trained auditors without conflicts, balanced; creates the audits."""
    today = request.app.state.settings.today()
    assignments = body.assignments
    if assignments is None:
        proposal = allocation_propose(session, sample=sample, today=today, auditor_ids=body.auditor_ids)
        assignments = proposal.assignments
    audits = allocation_confirm(
        session,
        sample=sample,
        assignments=assignments,
        due_date=body.due_date,
        actor=actor,
        today=today,
        calendar=calendar_for(request.app.state.settings.working_days_jurisdiction),
        dates=request.app.state.settings.due_date_rules(),
    )
    return allocation_summary(audits)
