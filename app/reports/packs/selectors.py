"""Reading board pack records for their pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import defer
from sqlmodel import Session, col

from app.accounts.models import ServiceArea, User
from app.accounts.roles import Role
from app.pagination import Page, paginate
from app.reports.packs.models import DRAFT, FAILED, GENERATING, ISSUED, BoardPackRecord, PackDelivery, PackSchedule


def _listed() -> Any:
    """Packs without their PDFs (loaded only to download one)."""
    return select(BoardPackRecord).options(defer(BoardPackRecord.pdf))


def issued_page(session: Session, *, user: User, page: int) -> Page[Any]:
    """The issued packs `user` may read, newest first (as `permissions.may_read_pack`, in SQL)."""
    stmt = _listed().where(BoardPackRecord.status == ISSUED)
    if not user.has_role(Role.QA_LEAD, Role.VIEWER):
        stmt = stmt.where(BoardPackRecord.service_area_id == user.scope_service_area_id)
    stmt = stmt.order_by(col(BoardPackRecord.issued_at).desc(), col(BoardPackRecord.id).desc())
    return paginate(session, stmt, page=page, page_size=25, clamp_to_last=True)


def drafts(session: Session) -> list[Any]:
    """Packs not yet issued (or being made, or failed to make), oldest first: the QA lead's to finish."""
    stmt = _listed().where(col(BoardPackRecord.status).in_((DRAFT, GENERATING, FAILED)))
    return list(session.execute(stmt.order_by(BoardPackRecord.id)).scalars().all())


def schedules(session: Session) -> list[PackSchedule]:
    stmt = select(PackSchedule).where(col(PackSchedule.active)).order_by(PackSchedule.id)
    return list(session.execute(stmt).scalars().all())


def deliveries(session: Session, *, pack_id: int) -> list[PackDelivery]:
    stmt = select(PackDelivery).where(PackDelivery.pack_id == pack_id).order_by(PackDelivery.id)
    return list(session.execute(stmt).scalars().all())


def area_names(session: Session) -> dict[int, str]:
    return {a.id: a.name for a in session.execute(select(ServiceArea)).scalars() if a.id is not None}
