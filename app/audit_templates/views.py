"""HTML pages for templates (QA lead): the published versions, and a preview of any version as the form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from app.audit_templates import selectors
from app.audit_templates.describe import describe_prefill, describe_show_if
from app.audit_templates.schema import Question, TemplateDefinition
from app.audit_templates.service import template_definition
from app.db import MAX_ROW_ID, SessionDep
from app.errors import NotFound
from app.web.auth import QALead
from app.web.templating import render

router = APIRouter(tags=["templates (HTML)"])


def _notes(question: Question, definition: TemplateDefinition) -> list[str]:
    """What the preview says under a question: when it is shown and what the register suggests."""
    notes = []
    if shown := describe_show_if(question, definition):
        notes.append(shown)
    if question.prefill is not None:
        notes.append(describe_prefill(question.prefill))
    if question.standard:
        notes.append(f"Standard: {question.standard}")
    return notes


@router.get("/templates")
def templates_list(request: Request, session: SessionDep, _: QALead) -> Response:
    rows = [(row, template_definition(row)) for row in selectors.template_versions(session)]
    return render(request, "audit_templates/list.html", {"rows": rows})


@router.get("/templates/{key}/{version}")
def template_preview(
    request: Request,
    session: SessionDep,
    _: QALead,
    key: Annotated[str, Path(max_length=60)],
    version: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
) -> Response:
    row = selectors.template_version_get(session, key=key, version=version)
    if row is None:
        raise NotFound("There is no published template with that name and version.")
    definition = template_definition(row)
    notes = {q.key: _notes(q, definition) for q in definition.questions}
    return render(request, "audit_templates/preview.html", {"row": row, "definition": definition, "notes": notes})
