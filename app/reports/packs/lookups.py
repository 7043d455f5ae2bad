"""The board pack a route names, if `app.reports.packs.permissions` lets the signed-in user see it, or 404:

ReadablePack    may_read_pack     an issued pack's page and its PDF (a draft too, for the QA lead)
ManagedPack     may_manage_packs  a draft's commentary and issuing (the QA lead)
ManagedSchedule                   a schedule (the QA lead)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.accounts.models import User
from app.db import RowId, SessionDep
from app.reports.packs import permissions
from app.reports.packs.models import BoardPackRecord, PackSchedule
from app.web.auth import RoleGuard
from app.web.lookup import not_found

NOT_FOUND = "There is no board pack with that number that you can see."
PackReader = Annotated[User, Depends(RoleGuard(*permissions.PACK_READER_ROLES))]
PackManager = Annotated[User, Depends(RoleGuard(*permissions.PACK_MANAGER_ROLES))]


def readable_pack(request: Request, pack_id: RowId, session: SessionDep, user: PackReader) -> BoardPackRecord:
    pack = session.get(BoardPackRecord, pack_id)
    if pack is None or not permissions.may_read_pack(user, pack):
        raise not_found(request, page=NOT_FOUND)
    return pack


def managed_pack(request: Request, pack_id: RowId, session: SessionDep, user: PackManager) -> BoardPackRecord:
    return readable_pack(request, pack_id, session, user)


def managed_schedule(request: Request, schedule_id: RowId, session: SessionDep, _: PackManager) -> PackSchedule:
    schedule = session.get(PackSchedule, schedule_id)
    if schedule is None:
        raise not_found(request, page="There is no board pack schedule with that number.")
    return schedule


ReadablePack = Annotated[BoardPackRecord, Depends(readable_pack)]
ManagedPack = Annotated[BoardPackRecord, Depends(managed_pack)]
ManagedSchedule = Annotated[PackSchedule, Depends(managed_schedule)]
