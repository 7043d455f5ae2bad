"""Response models of `GET /api/v1/reports/summary` (app.reports.api): the reports page's figures for BI tools."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class GradeShare(BaseModel):
    grade: str = Field(description="outstanding | good | requires_improvement | inadequate")
    label: str
    count: int
    share: float | None = Field(description="of the audits with an overall grade, 0 to 1; null when none is graded")


class GradeTallyOut(BaseModel):
    graded: int = Field(description="audits with an overall grade")
    ungraded: int = Field(description="audits of a template without an overall grade")
    grades: list[GradeShare] = Field(description="every grade, best first")


class GroupGradesOut(GradeTallyOut):
    id: int | None = Field(description="the service area's or team's id; null: cases with none in the register")
    name: str


class GradeDistributionOut(GradeTallyOut):
    """Final overall grades: the moderator's where the audit was moderated."""

    by_service_area: list[GroupGradesOut]
    by_team: list[GroupGradesOut]


class RateOut(BaseModel):
    yes: int
    no: int
    na: int = Field(description="not applicable: counted, but not part of n")
    n: int = Field(description="yes + no")
    rate: float | None = Field(description="yes / n, 0 to 1; null when n is 0")
    interval: list[float] | None = Field(
        description="95% interval [low, high]; null when n is 0. Wilson for a question (one answer per audit); for "
        "a section or all questions, Wilson on the effective sample size, allowing for answers within one case "
        "file moving together"
    )
    too_few: bool = Field(description="n is below min_n: too few to judge, never ranked")
    population: int | None = Field(
        description="the sampling frame the interval was corrected for (finite population correction, with the "
        "audited cases as the sample), or null"
    )
    audits: int = Field(description="audits with a yes or no answer here: the cases the answers come from")
    design_effect: float | None = Field(
        default=None,
        description="how many times wider than independent answers the variance is, the answers being clustered "
        "in audits (at least 1); null for a question, where each audit gives at most one answer",
    )


class TemplateRateOut(RateOut):
    """All the compliance questions of one template."""

    template_key: str


class SectionRateOut(RateOut):
    template_key: str
    section_key: str
    section_title: str


class QuestionRateOut(SectionRateOut):
    question_key: str
    label: str


class ComplianceOut(BaseModel):
    frame_size: int | None = Field(
        description="when every selected audit is from one sample: its frame's size, "
        "used for the finite population correction"
    )
    audits: int = Field(description="audits in the selection (the cases sampled, for that correction)")
    overall: list[TemplateRateOut] = Field(description="each template's compliance over all its questions")
    sections: list[SectionRateOut]
    questions: list[QuestionRateOut]


class ModerationOut(BaseModel):
    """Agreement between the auditor's and the moderator's overall grade, over every graded moderation round of
    the selected audits."""

    rounds: int = Field(description="graded moderation rounds of the selected audits")
    n: int = Field(description="pairs of overall grades (auditor's, moderator's)")
    agreed: int = Field(description="pairs with the same grade")
    exact_agreement: float | None = Field(description="agreed / n, 0 to 1; null when n is 0")
    weighted_kappa: float | None = Field(description="Cohen's kappa with quadratic weights; null when undefined")
    kappa_interval: list[float] | None = Field(description="95% interval [low, high] (Fleiss, Cohen and Everitt 1969)")
    too_few: bool = Field(description="n is below min_n: too few to judge")
    note: str | None = Field(description="why a figure is missing")
    method: str


class ThemeOut(BaseModel):
    id: int
    name: str
    count: int = Field(description="recommendations raised in the period with this theme")


class RecommendationsOut(BaseModel):
    """Narrowed by the cycle, service area and team (recommendations have no template or case type)."""

    raised: int = Field(description="raised in the period")
    closed: int = Field(description="closed in the period, whenever raised")
    outstanding: int = Field(description="open, in progress or completed awaiting verification, today")
    overdue: int = Field(description="outstanding and past the due date, today (local calendar)")
    median_days_to_close: float | None = Field(description="of those closed in the period; null when none was")
    top_themes: list[ThemeOut] = Field(description="the most common themes of those raised in the period (at most 5)")


class ReportSummary(BaseModel):
    date_from: date = Field(alias="from", description="completed on or after (local date)")
    date_to: date = Field(alias="to", description="completed on or before (local date)")
    cycle_id: int | None
    service_area: int | None = Field(description="the service area reported on (a head of service: their own)")
    team: int | None
    template: str | None
    case_type: str | None
    min_n: int = Field(description="fewer than this many answers (or pairs) are too few to judge")
    audits: int = Field(description="completed audits in the selection")
    grade_distribution: GradeDistributionOut
    compliance: ComplianceOut
    moderation: ModerationOut
    recommendations: RecommendationsOut

    model_config = {"populate_by_name": True}
