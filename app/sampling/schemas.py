"""What a QA lead asks for: a cycle, and a sample spec (the API body and the HTML form alike); a case added by hand."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.cases.facts import CaseType
from app.input_types import DateValue
from app.numbers import IdValue
from app.web.forms import BlankNone, Ticked, clip

CycleKind = Literal["dip_sample", "thematic", "deep_dive", "multi_agency"]
CYCLE_KINDS: dict[str, str] = {
    "dip_sample": "Dip sample",
    "thematic": "Thematic",
    "deep_dive": "Deep dive",
    "multi_agency": "Multi-agency",
}
Method = Literal["random", "stratified", "thematic"]
METHODS: dict[str, str] = {"random": "Simple random", "stratified": "Stratified", "thematic": "Thematic"}
StrataBy = Literal["team", "service_area", "case_type", "worker", "legal_status"]
STRATA_BY: dict[str, str] = {
    "team": "Team",
    "service_area": "Service area",
    "case_type": "Case type",
    "worker": "Allocated worker",
    "legal_status": "Legal status",
}
MAX_SAMPLE = 5000


class CycleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(title="title", min_length=1, max_length=200)
    kind: CycleKind = Field(title="kind of cycle")
    template_key: str = Field(title="template", min_length=1, max_length=60)
    due_date: DateValue = Field(title="due date")
    start_date: date | None = Field(default=None, title="start date")
    theme: str = Field(default="", title="theme or rationale", max_length=2000)
    moderation_rate: float = Field(default=0.1, title="moderation rate", ge=0, le=1)
    blind_moderation: bool = Field(default=True, title="blind moderation")


class SampleFilters(BaseModel):
    """The frame of a thematic sample: every filter given must hold (AND)."""

    model_config = ConfigDict(extra="forbid")

    case_types: list[CaseType] | None = Field(default=None, title="case types")
    team_ids: list[IdValue] | None = Field(default=None, title="teams")
    service_area_ids: list[IdValue] | None = Field(default=None, title="service areas")
    legal_statuses: list[str] | None = Field(default=None, title="legal statuses")
    missing_12m_at_least: int | None = Field(default=None, ge=0, le=1000, title="missing episodes (12 months)")
    absent_12m_at_least: int | None = Field(default=None, ge=0, le=1000, title="absences (12 months)")
    placements_12m_at_least: int | None = Field(default=None, ge=0, le=1000, title="placements (12 months)")
    open_longer_than_months: int | None = Field(default=None, ge=0, le=600, title="open for longer than (months)")
    visit_older_than_days: int | None = Field(
        default=None, ge=0, le=3650, title="last statutory visit older than (days)"
    )
    stepped_down_within_months: int | None = Field(
        default=None, ge=1, le=120, title="stepped down from referral to early help within (months)"
    )


class SampleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Method = Field(title="method")
    size: int = Field(title="sample size", ge=1, le=MAX_SAMPLE)
    strata_by: StrataBy | None = Field(default=None, title="strata")
    min_per_stratum: int = Field(default=0, ge=0, le=MAX_SAMPLE, title="minimum per stratum")
    filters: SampleFilters = Field(default_factory=SampleFilters)
    exclude_closed: bool = True
    exclude_audited_within_days: int | None = Field(
        default=365, ge=1, le=3650, title="exclude cases audited within (days)"
    )
    exclude_in_open_sample: bool = True
    seed: int | None = Field(default=None, ge=1, le=2**31 - 1, title="seed")


# --- The HTML forms: what a browser posts, read for the models above (which judge it) or for the page.


def _stripped(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _percent(value: object) -> object:
    """A moderation rate typed as a percentage ("10", "12.5 %"; blank is the default, 10), as a fraction."""
    if not isinstance(value, str):
        return value
    rate = value.strip().removesuffix("%").strip()
    try:
        percent = float(rate) if rate else 10.0
    except ValueError:
        percent = -1.0  # not a number: refused below
    if not 0 <= percent <= 100:
        raise ValueError("Moderation rate must be a number from 0 to 100, like 10")
    return percent / 100


class CycleForm(BaseModel):
    """A new cycle as the form posts it, read into CycleCreate's fields for CycleCreate to judge (as it judges the
    API's body): the text tidied, a kind not chosen as none, the dates as `date_from_parts` joins their boxes, the
    moderation rate as a percentage, and the blind-moderation box (unticked, it is not posted: open)."""

    title: Annotated[str, BeforeValidator(_stripped)] = ""
    kind: BlankNone = None
    template_key: str = ""
    theme: Annotated[str, BeforeValidator(_stripped)] = ""
    start_date: str | None = None
    due_date: str | None = None
    moderation_rate: Annotated[float, BeforeValidator(_percent)] = 0.1
    blind_moderation: Ticked = False


class SampleDrawForm(BaseModel):
    """Besides the sample's spec: preview the draw, or confirm it (`action=confirm`) against the register as it was
    previewed (`frame_hash`; when none is posted, the frame is not compared)."""

    action: str = ""
    frame_hash: str = ""


class SampleCaseAddForm(BaseModel):
    """A case added to a sample by hand, as typed, cut to length (the service checks both and words what is wrong)."""

    child_id: Annotated[str, BeforeValidator(clip(2000))]
    reason: Annotated[str, BeforeValidator(clip(2000))]
