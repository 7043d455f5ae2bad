"""API shapes for templates, as in API.md: a list entry, and the definition as the form sees it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import Question, TemplateDefinition


class TemplateSummary(BaseModel):
    key: str
    version: int
    title: str
    kind: str


class OptionOut(BaseModel):
    value: str
    label: str


class QuestionOut(BaseModel):
    key: str
    type: str
    label: str
    required: bool
    guidance: str | None = None
    options: list[OptionOut] | None = None
    show_if: dict[str, Any] | None = None
    prefill: dict[str, Any] | None = None
    min: int | float | None = Field(default=None, description="number questions: the smallest answer allowed")
    max: int | float | None = Field(default=None, description="number questions: the largest answer allowed")


class SectionOut(BaseModel):
    key: str
    title: str
    questions: list[QuestionOut]


class TemplateOut(TemplateSummary):
    description: str
    sections: list[SectionOut]


def template_summary(row: TemplateVersion) -> TemplateSummary:
    return TemplateSummary(key=row.key, version=row.version, title=row.title, kind=row.kind)


def _question_out(question: Question) -> QuestionOut:
    dump = question.model_dump(mode="json", by_alias=True, exclude_none=True)
    return QuestionOut(
        key=question.key,
        type=question.type.value,
        label=question.label,
        required=question.required,
        guidance=question.guidance,
        options=[OptionOut(value=o.value, label=o.label) for o in question.options] if question.options else None,
        show_if=dump.get("show_if"),
        prefill=dump.get("prefill"),
        min=question.min,
        max=question.max,
    )


def template_out(row: TemplateVersion, definition: TemplateDefinition) -> TemplateOut:
    """Every answer key the form has, generated ones (explanations, section grades) included."""
    return TemplateOut(
        key=row.key,
        version=row.version,
        title=row.title,
        kind=row.kind,
        description=definition.description,
        sections=[
            SectionOut(key=s.key, title=s.title, questions=[_question_out(q) for q in s.form_questions])
            for s in definition.sections
        ],
    )
