"""JSON API: the published templates and one version's definition (any signed-in user)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.audit_templates import selectors
from app.audit_templates.schemas import TemplateOut, TemplateSummary, template_out, template_summary
from app.audit_templates.service import template_definition
from app.db import MAX_ROW_ID, SessionDep
from app.errors import NotFound
from app.web.auth import CurrentUser

router = APIRouter(tags=["templates"])


@router.get("/templates", response_model=list[TemplateSummary])
def templates_list(session: SessionDep, _: CurrentUser) -> list[TemplateSummary]:
    return [template_summary(row) for row in selectors.template_versions(session)]


@router.get("/templates/{key}/{version}", response_model=TemplateOut)
def template_get(
    session: SessionDep,
    _: CurrentUser,
    key: Annotated[str, Path(max_length=60)],
    version: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
) -> TemplateOut:
    row = selectors.template_version_get(session, key=key, version=version)
    if row is None:
        raise NotFound(f"There is no template {key!r} version {version}")
    return template_out(row, template_definition(row))
