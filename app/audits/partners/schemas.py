"""Request and response models of the partner assignments and the panel meeting (the API and the pages)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel

from app.db import MAX_ROW_ID
from app.input_types import DateValue

RowIdField = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
# The request's own bounds only stop absurd bodies; the panel's rules (app.flows.panel) name each field.
LONG_TEXT = 20_000
MAX_ROWS = 50


class PartnerAssignmentsIn(RootModel[dict[Annotated[str, Field(max_length=120)], RowIdField | None]]):
    """`{section_key: partner_id}` for the agency sections to change; `null` takes a section back. Sections not
    named stay as they are."""

    root: dict[Annotated[str, Field(max_length=120)], RowIdField | None] = Field(max_length=MAX_ROWS)


class Named(BaseModel):
    id: int
    name: str


class SectionPartnerOut(BaseModel):
    section_key: str
    title: str
    agency: str
    agency_label: str
    partner: Named | None = None
    assigned_at: datetime | None = None


class PartnerAssignmentsOut(BaseModel):
    audit_id: int
    sections: list[SectionPartnerOut]


class AttendeeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: str = Field(max_length=60, description="social_care, police, health, education, probation or other")
    name: str = Field(max_length=1_000)


class PanelActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=LONG_TEXT, description="what must be done")
    owner_id: RowIdField | None = Field(
        default=None,
        description="who must do it: the partner representative assigned the agency's section, or a council user "
        "for children's social care",
    )
    due_date: DateValue | None = None
    priority: str = Field(default="normal", max_length=20, description="urgent, high or normal")


class PanelIn(BaseModel):
    """The panel meeting as the minutes record it. Send the `version` you read to change a recorded meeting.
    `actions` are new actions: each is raised as a recommendation from the audit (sending it again raises another)."""

    model_config = ConfigDict(extra="forbid")

    held_on: DateValue | None = None
    attendees: list[AttendeeIn] = Field(default=[], max_length=MAX_ROWS)
    conclusion: str = Field(default="", max_length=LONG_TEXT)
    grade: str | None = Field(default=None, max_length=40)
    dissent: str | None = Field(default=None, max_length=LONG_TEXT)
    version: int | None = None
    actions: list[PanelActionIn] = Field(default=[], max_length=MAX_ROWS)


class AttendeeOut(BaseModel):
    agency: str
    agency_label: str
    name: str


class PanelActionOut(BaseModel):
    recommendation_id: int
    agency: str
    agency_label: str
    owner: Named | None = None
    text: str | None = None
    due_date: date | None = None
    status: str | None = None


class PanelOut(BaseModel):
    audit_id: int
    recorded: bool
    held_on: date | None = None
    attendees: list[AttendeeOut] = []
    conclusion: str | None = None
    grade: str | None = None
    grade_label: str | None = None
    dissent: str | None = None
    actions: list[PanelActionOut] = []
    recorded_by: Named | None = None
    recorded_at: datetime | None = None
    version: int | None = None
