"""The cycle or sample a route is about, if the user may manage the programme (`app.sampling.permissions`), or 404.
The programme's pages and API take the same lookups and the same guard:

    ProgrammeManager   the guard: the QA lead (403 for anyone else)
    ManagedCycle       the cycle named by `cycle_id`
    ManagedSample      the sample named by `sample_id`
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.accounts.models import User
from app.db import RowId, SessionDep
from app.sampling import selectors
from app.sampling.models import Cycle, Sample
from app.sampling.permissions import PROGRAMME_ROLES, may_manage_programme
from app.web.auth import RoleGuard
from app.web.lookup import not_found

ProgrammeManager = Annotated[User, Depends(RoleGuard(*PROGRAMME_ROLES))]
CYCLE_NOT_FOUND = "There is no audit cycle with that number."
CYCLE_NOT_FOUND_API = "Cycle {id} not found"
SAMPLE_NOT_FOUND = "There is no sample with that number."
SAMPLE_NOT_FOUND_API = "Sample {id} not found"


def managed_cycle(request: Request, cycle_id: RowId, session: SessionDep, user: ProgrammeManager) -> Cycle:
    cycle = selectors.cycle_get(session, cycle_id=cycle_id)
    if cycle is None or not may_manage_programme(user):
        raise not_found(request, page=CYCLE_NOT_FOUND, api=CYCLE_NOT_FOUND_API.format(id=cycle_id))
    return cycle


def managed_sample(request: Request, sample_id: RowId, session: SessionDep, user: ProgrammeManager) -> Sample:
    sample = selectors.sample_get(session, sample_id=sample_id)
    if sample is None or not may_manage_programme(user):
        raise not_found(request, page=SAMPLE_NOT_FOUND, api=SAMPLE_NOT_FOUND_API.format(id=sample_id))
    return sample


ManagedCycle = Annotated[Cycle, Depends(managed_cycle)]
ManagedSample = Annotated[Sample, Depends(managed_sample)]
