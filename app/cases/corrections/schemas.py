"""Corrections of the register's facts: the HTML form, and the JSON shapes of `/api/v1/cases/{id}/corrections`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from app.cases.corrections.rules import MAX_REASON, MAX_VALUE
from app.web.forms import clip

# What the form is re-shown with, and the service weighs, at most (the service names a long reason or value).
ReasonText = Annotated[str, BeforeValidator(clip(MAX_REASON + 100))]
ValueText = Annotated[str, BeforeValidator(clip(MAX_VALUE))]


class CorrectionForm(BaseModel):
    """The "Correct a fact" form and its review step (every field reads: the service names what is wrong).
    `action`: "review" (check it and show it for confirmation), "confirm" (save it) or "change" (back to the form);
    `version` is the case's as the form was read (app.web.forms.posted_version)."""

    field: Annotated[str, BeforeValidator(clip(60))] = ""
    value: ValueText = ""
    reason: ReasonText = ""
    version: Annotated[str, BeforeValidator(clip(20))] = ""
    action: Annotated[str, BeforeValidator(clip(20))] = "review"


FactValue = Annotated[str, StringConstraints(max_length=MAX_VALUE)] | StrictBool | StrictInt | None


class CorrectionIn(BaseModel):
    """A correction of one fact of a case, made against the case `version` you read (409 if someone changed the case
    since). `value` by the fact's type: a date as `YYYY-MM-DD` (or `dd/mm/yyyy`), yes/no as `true`/`false`, a count
    or year as a whole number, text as text. A value that is not one of the fact's type is a 422 naming the fact."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(max_length=60, description="the fact, e.g. legal_status, missing_12m, last_statutory_visit")
    value: FactValue = Field(description="the correct value")
    reason: str = Field(max_length=MAX_REASON + 100, description="why: what was wrong, and where the right value is")
    version: int = Field(ge=0, description="the case's version as you read it")


class Named(BaseModel):
    id: int
    name: str


class CorrectionOut(BaseModel):
    """One correction of a case's fact. `old_value`/`new_value` as kept: dates `YYYY-MM-DD`, yes/no `true`/`false`,
    `null` for not recorded. `in_force`: false once an import brought another value (`superseded_by_import_id`) or
    the fact was corrected again (`superseded_by_correction_id`)."""

    id: int
    case_id: int
    field: str
    field_label: str
    old_value: Any
    new_value: Any
    reason: str
    corrected_by: Named | None
    corrected_at: datetime
    in_force: bool
    superseded_at: datetime | None
    superseded_by: Literal["import", "correction"] | None
    superseded_by_import_id: int | None
    superseded_by_correction_id: int | None


class CorrectionSaved(CorrectionOut):
    """A correction just made, with the case's version after it (send it with the next change to the case)."""

    case_version: int
