"""The board pack forms as posted (each field cut to what the service weighs; the service names every problem)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator

from app.web.forms import ChosenId, FormId, clip

Text = Annotated[str, BeforeValidator(clip(25_000))]
Short = Annotated[str, BeforeValidator(clip(200))]


class ScheduleForm(BaseModel):
    title: Short = ""
    frequency: Short = ""
    working_day: ChosenId = None
    service_area_id: FormId = None
    recipients: Text = ""


class PrepareForm(BaseModel):
    period: Short = "month"
    month: Short = ""
    quarter: Short = ""
    service_area_id: FormId = None


class DraftForm(BaseModel):
    commentary: Text = ""
    recipients: Text = ""
    version: Short = ""
