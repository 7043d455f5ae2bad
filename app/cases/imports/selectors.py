"""Reads for case imports: the list of imports and one import with who made it."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from app.cases.models import CaseImport
from app.db import valid_row_id
from app.pagination import Page, paginate


def import_get(session: Session, *, import_id: int) -> CaseImport | None:
    return session.get(CaseImport, import_id) if valid_row_id(import_id) else None


def imports_page(
    session: Session, *, page: int | None = 1, page_size: int | None = None, clamp_to_last: bool = False
) -> Page[CaseImport]:
    """Imports, newest first."""
    stmt = select(CaseImport).order_by(CaseImport.created_at.desc(), CaseImport.id.desc())
    return paginate(session, stmt, page=page, page_size=page_size, clamp_to_last=clamp_to_last)
