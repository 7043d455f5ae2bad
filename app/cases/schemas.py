"""Response models for the case register (imports have their own, with the import service), and its HTML forms."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from app.web.forms import ChosenId

# The Case columns a reader of the API gets, besides the names and derived values CasePublic adds.
CASE_PUBLIC_COLUMNS = (
    "id",
    "child_id",
    "source",
    "source_lists",
    "birth_year",
    "birth_month",
    "age_at_extract",
    "gender",
    "ethnicity",
    "disability",
    "case_type",
    "legal_status",
    "primary_need",
    "category_of_abuse",
    "service_area_id",
    "team_id",
    "worker_name",
    "manager_name",
    "status",
    "start_date",
    "end_date",
    "referral_date",
    "assessment_start",
    "assessment_authorised",
    "child_seen",
    "seen_alone",
    "last_seen_date",
    "last_statutory_visit",
    "latest_review",
    "last_iro_contact",
    "last_health_check",
    "last_dental_check",
    "permanence_plan",
    "placements_12m",
    "missing_12m",
    "absent_12m",
    "return_interview_offered",
    "return_interview_accepted",
    "involvements",
    "updated_at",
    "version",
)


class CasePublic(BaseModel):
    """One child's case as the API returns it. Never any case notes: the register holds none."""

    id: int
    child_id: str
    source: str
    source_lists: list[str]
    birth_year: int | None
    birth_month: int | None
    age: int | None  # today, from month and year of birth
    age_at_extract: int | None
    gender: str | None
    ethnicity: str | None
    disability: bool | None
    case_type: str
    case_type_label: str
    legal_status: str | None
    primary_need: str | None
    category_of_abuse: str | None
    service_area_id: int | None
    service_area: str | None
    team_id: int | None
    team: str | None
    worker_name: str | None
    manager_name: str | None
    status: str
    start_date: date | None
    end_date: date | None
    referral_date: date | None
    assessment_start: date | None
    assessment_authorised: date | None
    child_seen: bool | None
    seen_alone: bool | None
    last_seen_date: date | None
    last_statutory_visit: date | None
    latest_review: date | None
    last_iro_contact: date | None
    last_health_check: date | None
    last_dental_check: date | None
    permanence_plan: str | None
    placements_12m: int | None
    missing_12m: int | None
    absent_12m: int | None
    return_interview_offered: bool | None
    return_interview_accepted: bool | None
    involvements: dict[str, Any]  # {"List 8": {"start": "2025-01-02", "end": null}, ...}
    updated_at: datetime
    version: int


# --- The HTML forms of the Workers page (neither is refused as posted: the service names what is wrong).


class WorkerUnmapForm(BaseModel):
    key: str = ""  # the register worker's identity
    state: str = "attention"  # the list the page showed, to go back to


class WorkerMapForm(WorkerUnmapForm):
    user_id: ChosenId = None
