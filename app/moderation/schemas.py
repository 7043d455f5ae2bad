"""API shapes for moderation: the decision body, and a round as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.db import MAX_ROW_ID
from app.input_types import StrictFlag
from app.moderation.models import Moderation
from app.web.forms import ChosenId

GradeValue = Literal["outstanding", "good", "requires_improvement", "inadequate"]


class ModerationDecision(BaseModel):
    """The moderator's grades (or compliance answers), agreement and decision in one call, against the audit's version.

    `answers` are the moderator's section grades by section key; a section left out takes the auditor's grade.
    Per section, agreement is "the two grades are equal"; `agree` is the agreement on the overall grade.
    A compliance-only template (the dip sample) has no grades: leave out `answers`, `overall_grade` and `agree`, and
    give `compliance_answers`, an answer to every compliance question the auditor's form showed (each agrees when
    the two answers are equal). `rationale` is required when anything is disagreed, `feedback` when the decision is
    "return".
    """

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=MAX_ROW_ID, description="the audit's version this decision was made against")
    answers: dict[str, str] | None = Field(
        default=None, max_length=100, description="section key -> the moderator's grade for that section"
    )
    overall_grade: GradeValue | None = Field(
        default=None, description="the moderator's overall grade: required when the template has one, else refused"
    )
    agree: StrictFlag | None = Field(
        default=None,
        description="agreement with the auditor's overall grade: required when the template has one, else refused",
    )
    compliance_answers: dict[str, str] | None = Field(
        default=None,
        max_length=200,
        description="compliance-only templates (the dip sample): question key -> the moderator's answer "
        "(yes, no or na) for every compliance question the auditor's form showed",
    )
    rationale: str = Field(default="", max_length=10_000)
    decision: Literal["accept", "return"]
    learning: str = Field(default="", max_length=10_000)
    feedback: str = Field(default="", max_length=10_000)


class ModerationReassignForm(BaseModel):
    """The QA lead gives the open round to another moderator (the version is read with `posted_version`); the
    service names a moderator not chosen, or one who may not moderate it, and a missing reason."""

    moderator_id: ChosenId = None
    reason: str = ""


class ModerationPublic(BaseModel):
    id: int
    audit_id: int
    round: int
    reason: str
    selection_draw: float | None
    selection_rate: float | None
    rate_raised_because: str | None = Field(description="why selection_rate is above the cycle's rate, if it is")
    moderator_id: int | None
    status: str
    blind: bool
    section_grades: dict[str, Any]
    overall_grade: str | None
    moderator_answers: dict[str, Any] = Field(
        description="compliance-only templates (the dip sample): question key -> the moderator's answer"
    )
    agreement: dict[str, Any] = Field(
        description="agree (true) or not, per section key and 'overall', or per compliance question key"
    )
    rationale: str
    learning: str
    decision: str | None
    feedback: str
    selected_by_id: int | None
    created_at: datetime
    graded_at: datetime | None
    decided_at: datetime | None
    version: int


class ModerationRounds(BaseModel):
    """An audit's moderation rounds, oldest first, with the audit's current status and version."""

    audit_id: int
    audit_status: str
    audit_version: int
    rounds: list[ModerationPublic]


def moderation_public(moderation: Moderation) -> ModerationPublic:
    assert moderation.id is not None
    return ModerationPublic.model_validate(moderation, from_attributes=True)
