"""API shapes for audits: a list entry, one audit with its answers and suggestions, and the request bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.audits.models import AuditAnswer
from app.audits.selectors import AuditRow
from app.db import MAX_ROW_ID
from app.web.forms import ChosenId, clip


class AuditSummary(BaseModel):
    id: int
    case_id: int
    child_id: str
    template_key: str
    template_version: int
    template_title: str
    auditor_id: int
    auditor_name: str
    status: str
    version: int
    due_date: date | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None


class Suggestion(BaseModel):
    """What the case register suggested for a question, and why; the answer is the auditor's."""

    value: str
    explanation: str | None


class Grades(BaseModel):
    overall: str | None = Field(description="the overall grade (none for a template without one, e.g. the dip sample)")
    sections: dict[str, str] = Field(description="judgement section key -> grade")


class AuditPublic(AuditSummary):
    answers: dict[str, Any] = Field(description="question key -> answer value (see API.md for each type)")
    suggestions: dict[str, Suggestion] = Field(description="question key -> the register's suggested answer")
    auditor_grades: Grades | None = Field(
        description="the auditor's grades (null while a moderator grading blind has not yet given theirs)"
    )
    final_grades: Grades | None = Field(
        description="the grades that count, once the audit is completed: the moderator's when moderation was "
        "accepted, else the auditor's (null until completed, and for a moderator grading blind)"
    )


class AnswersSave(BaseModel):
    """A partial save: the answers given so far; an empty value ("" or null) clears an answer."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=MAX_ROW_ID, description="the version of the audit this save was made against")
    answers: dict[str, Any] = Field(max_length=1000)
    escalation_recipient_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ROW_ID,
        description="who must be told of a safeguarding concern answered Yes (default: the case's team manager)",
    )
    withdrawal_reason: str | None = Field(
        default=None,
        max_length=10_000,
        description="why the safeguarding concern is withdrawn: needed when the save changes the safeguarding answer "
        "from Yes while its escalation waits for acknowledgement (the person told is told it is withdrawn)",
    )


class AuditSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=MAX_ROW_ID)


class AuditReplyForm(BaseModel):
    """The case worker's reply to an audit's findings (the service tidies it and names what is wrong with it)."""

    text: str = ""


# What a QA lead's workflow form is re-shown with, and weighed by the service, at most (the service names a long one).
FormText = Annotated[str, BeforeValidator(clip(2100))]


class ReallocateForm(BaseModel):
    """Giving an audit to another auditor: one from the list (anything else reads as none, for the service to
    name), for a reason; `version` is the audit's as the form was read (app.web.forms.posted_version)."""

    auditor_id: ChosenId = None
    reason: FormText = ""
    version: FormText = ""


class DueDateForm(BaseModel):
    """Changing an audit's due date (read from its day, month and year boxes), for a reason."""

    reason: FormText = ""
    version: FormText = ""


class AuditStartForm(BaseModel):
    """Starting an audit of a case by hand: a template and an auditor, each from the page's lists (the page names
    one not in them, or an auditor who may not audit the case), and an optional due date, as `date_from_parts`
    joins its day, month and year boxes (the page weighs it against the due-date rules)."""

    template_key: str = ""
    auditor_id: ChosenId = None
    due_date: date | None = Field(default=None, title="the due date")  # "The due date must be a real date"


def audit_summary(row: AuditRow) -> AuditSummary:
    a = row.audit
    assert a.id is not None
    return AuditSummary(
        id=a.id,
        case_id=a.case_id,
        child_id=row.child_id,
        template_key=a.template_key,
        template_version=a.template_version,
        template_title=row.template_title,
        auditor_id=a.auditor_id,
        auditor_name=row.auditor_name,
        status=a.status,
        version=a.version,
        due_date=a.due_date,
        created_at=a.created_at,
        updated_at=a.updated_at,
        submitted_at=a.submitted_at,
    )


def audit_public(
    row: AuditRow,
    answer_rows: dict[str, AuditAnswer],
    *,
    auditor_grades: Grades | None = None,
    final_grades: Grades | None = None,
) -> AuditPublic:
    return AuditPublic(
        **audit_summary(row).model_dump(),
        auditor_grades=auditor_grades,
        final_grades=final_grades,
        answers={key: r.value for key, r in answer_rows.items() if r.value is not None},
        suggestions={
            key: Suggestion(value=r.prefill_value, explanation=r.prefill_explanation)
            for key, r in answer_rows.items()
            if r.prefill_value
        },
    )
