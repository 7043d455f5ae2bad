"""A year of completed audits in the demo, so the reports page (issue 8) has something to show after `make run`.

Entirely synthetic (no person or child is named; free text is generic), and the same seed gives the same history.
Over the 12 local months ending this month it adds:

- a monthly dip sample cycle (15 cases, stratified by team with at least one from each, drawn from the open cases
  not audited yet, as `sample_create` draws: each sample keeps its frame size, so a report on one cycle shows the
  finite population correction);
- a quarterly case file audit cycle (36 cases, at least two per team, completed in three monthly batches),
  moderated at 20% plus every audit its auditor graded Inadequate; from the second quarter on, cases still below
  Good are added to the sample by hand and re-audited, mostly better (a change of grade for the same case);
- a follow-up: the fourth month's dip sample is larger (40 cases) and its failed checks raised recommendations
  (some closed before the follow-up, some after, some still open); four months later a follow-up dip sample
  re-audits 30 of its cases, passing the checks whose recommendations were closed, much as before where not;
- the closed cases those audits need: the demo register is a snapshot of open cases, where referrals and
  assessments are all recent, so about 90 cases open during the year and closed since are added to it.

Compliance differs by team (Children in Care clearly above the rest, Safeguarding Team 2 clearly below, the others
within sampling error of each other), each question has its own level, and practice improves a little over the
year. Grades follow the answers and keep to the template's overall-grade rules. Moderation rounds are whole (blind
grades, the auditor's grades as they stood, agreement, an accept decision, a few returned once first), and a
minority change the grade, so the moderation agreement page has data too.

`plan_history` is pure (cases, people and templates in; cycles, samples, audits and recommendations out);
`demo_completed_audits` reads what it needs and writes the plan. Rows carry the columns the workflow would have set
(`audit_start`, `audit_answers_save`, `audit_submit`, `moderation_on_submit` / `moderation_decide`): status
completed, submitted_at, completed_at, final_grade and version. Random moderation is chosen by the real rule
(`selection.selection_draw` of the stored audit below the cycle's rate), so it is decided once the audits have ids.
Like the demo recommendations, none of this history is in the audit trail.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import Team, TrainingRecord, User
from app.accounts.roles import Role, TrainingKind
from app.audit_templates.conditions import shown_as_answered
from app.audit_templates.schema import (
    Grade,
    Question,
    QuestionType,
    Section,
    TemplateDefinition,
)
from app.audit_templates.scoring import compliance_code
from app.audit_templates.selectors import template_latest
from app.audit_templates.service import template_definition
from app.audits.models import Audit, AuditAnswer
from app.audits.workflow import states as workflow
from app.cases.models import Case
from app.dates import months_before
from app.db import bulk_insert, refresh_statistics
from app.demo.cases import demo_case_rows
from app.demo.generator import DEMO_TEAMS
from app.moderation import selection
from app.moderation.models import Moderation
from app.moderation.selectors import DECIDED
from app.recommendations import rules
from app.recommendations.models import (
    Recommendation,
    RecommendationEvent,
    RecommendationTheme,
    Theme,
)
from app.recommendations.service import default_owner
from app.sampling.frame import NO_VALUE
from app.sampling.methods import draw_positions, draw_stratified, frame_hash
from app.sampling.models import Cycle, Sample, SampleCase
from app.sampling.schemas import SampleSpec

DEMO_SEED = 2027
HISTORY_MONTHS = 12
MAX_CASES = 3000  # the history is drawn from at most this many cases, so a big register does not slow the demo
DIP, CFA = "dip_sample", "case_file_audit"
DIP_SIZE, CFA_SIZE = 15, 36
# Closed cases added for the history, each month, by case type (see `history_case_rows`).
HISTORY_CASES = {"referral": 2, "assessment": 2, "early_help": 2, "cin": 1, "cp": 1}
BASELINE_MONTH, FOLLOW_UP_MONTH = 3, 7  # months after the first month of the history
BASELINE_SIZE, FOLLOW_UP_SIZE = 40, 30
RE_AUDITS_PER_QUARTER = 5
CFA_MODERATION_RATE = 0.2

GRADES = [g.value for g in Grade]  # best first: a larger index is a worse grade
OUTSTANDING, GOOD, RI, INADEQUATE = GRADES

# The mean share of yes answers (among yes and no) in each team: two clearly apart, the rest close together.
TEAM_COMPLIANCE = {
    "MASH": 0.79,
    "Assessment Team 1": 0.76,
    "Early Help North": 0.78,
    "Early Help South": 0.75,
    "Safeguarding Team 1": 0.79,
    "Safeguarding Team 2": 0.63,
    "Children in Care Team": 0.89,
    "Leaving Care Team": 0.77,
}
OTHER_TEAM_COMPLIANCE = 0.76
# How much easier (+) or harder (-) each question is than the team's usual standard.
QUESTION_LEVEL = {
    "allocated_to_social_worker": 0.14,
    "register_details_accurate": 0.05,
    "chronology_up_to_date": -0.10,
    "genogram_on_file": -0.06,
    "case_summary_current": -0.04,
    "history_understood": -0.02,
    "referral_decision_timely": 0.08,
    "assessment_within_45_days": 0.06,
    "child_seen_in_assessment": 0.15,
    "child_seen_alone_in_assessment": 0.02,
    "assessment_authorised": 0.12,
    "analysis_supports_conclusion": -0.05,
    "wishes_and_feelings_recorded": 0.03,
    "child_voice_recorded": 0.03,
    "direct_work_evident": -0.06,
    "seen_alone_last_visit": -0.03,
    "advocacy_offered": -0.04,
    "plan_smart": -0.13,
    "plan_contingency": -0.08,
    "plan_reviewed_on_time": 0.04,
    "risks_identified": 0.05,
    "exploitation_considered": -0.03,
    "return_interview_within_72_hours": -0.06,
    "return_interview_completed_72_hours": -0.14,  # held, not just offered, within 72 hours: harder (dip sample v2)
    "missing_risk_assessed": 0.02,
    "oversight_last_month": -0.04,
    "supervision_within_6_weeks": -0.12,
    "supervision_reflective": -0.15,
    "supervision_actions_followed": -0.07,
    "statutory_visits_on_time": 0.06,
    "health_assessment_on_time": 0.03,
    "dental_check_on_time": -0.06,
    "life_story_work": -0.16,
    "permanence_plan_recorded": 0.02,
    "circumstances_improved": -0.02,
}
TREND = 0.06  # how much compliance rises from the first month of the history to the last
AUDIT_SPREAD = 0.08  # the spread of quality between audits of the same team (standard deviation)

# Questions a case type usually makes not applicable, with how often.
_FRONT_DOOR = ("threshold_decision_right", "referral_decision_timely", "consent_recorded", "allocation_timely")
_ASSESSMENT = (
    "assessment_within_45_days",
    "child_seen_in_assessment",
    "child_seen_alone_in_assessment",
    "assessment_uses_history",
    "assessment_identity_considered",
    "analysis_supports_conclusion",
    "assessment_authorised",
)
_LONG_TERM = ("cla", "care_leaver", "adoption")
NA_CHANCE: dict[str, dict[str, float]] = {
    **{key: dict.fromkeys(_LONG_TERM, 0.6) for key in _FRONT_DOOR},
    **{
        key: {"referral": 0.8, "early_help": 0.5, "care_leaver": 0.7, "adoption": 0.6, "cla": 0.3}
        for key in _ASSESSMENT
    },
    "early_help_offered": {"": 0.6},
    "strategy_discussion_timely": {"": 0.5, "cp": 0.05},
    "escalation_used": {"": 0.7},
    "missing_over_5_days_escalated": {"": 0.6},
    "participation_in_reviews": {"referral": 0.7, "assessment": 0.6, "early_help": 0.4},
    "life_story_work": {"care_leaver": 0.5},
    "plan_reviewed_on_time": {"referral": 0.8, "assessment": 0.7},
    "register_details_accurate": {"": 0.0},
    "allocated_to_social_worker": {"early_help": 0.3},
}
BASE_NA_CHANCE = 0.03

PLAN_TYPE = {
    "early_help": "early_help_plan",
    "cin": "cin_plan",
    "cp": "cp_plan",
    "cla": "care_plan",
    "adoption": "care_plan",
    "care_leaver": "pathway_plan",
    "referral": "no_plan",
    "assessment": "no_plan",
}
AGENCIES = (
    "education",
    "health",
    "police",
    "mental_health",
    "housing",
    "adult_services",
    "voluntary_sector",
    "youth_justice",
    "probation",
)

# Free text, all of it generic: no person or child is named anywhere.
STRENGTHS = {
    True: (
        "The child's views are recorded in their own words and shape the plan.",
        "Recording is clear, up to date and easy to follow.",
        "Management oversight gives clear direction at key decisions.",
        "Partners contribute to the plan and attend its meetings.",
    ),
    False: (
        "The worker knows the child and family well.",
        "Some recent visits are recorded in detail.",
        "Key documents are on the file.",
    ),
}
DEVELOPMENT = {
    True: (
        "Keep the chronology updated after each significant event.",
        "Record the reasons for decisions as well as the decisions.",
    ),
    False: (
        "Bring the chronology up to date and use it in planning.",
        "Evidence management oversight and reflective supervision on the file.",
        "Make the plan specific, with timescales and outcomes for the child.",
        "Record direct work with the child and what it says about their daily life.",
    ),
}
EXPLAIN_NO = (
    "Not found on the file at the time of the audit.",
    "Last done outside the timescale.",
    "Recorded, but more than three months ago.",
    "No record on the file; raised with the team manager.",
)
EXPLAIN_YES = {
    "drift_or_delay": "The plan was not reviewed for several months, so actions for the child were delayed.",
    "plan_in_place_needed": "The child's needs call for a plan; none has been agreed yet.",
}
DIFFERENCE_MADE = (
    "School attendance has improved and the child says they feel safer at home.",
    "Risks are lower since the family engaged with the plan; the child is settled.",
    "Little change yet: the plan is recent and its actions are still being put in place.",
    "The child's health needs are now met and family time happens regularly.",
)
RATIONALE = {
    OUTSTANDING: "Consistently strong practice: the child's experience is understood and improving.",
    GOOD: "Practice is good overall, with minor gaps in recording.",
    RI: "Some important gaps: oversight and planning need to improve for this child.",
    INADEQUATE: "Serious gaps in planning and oversight leave the child's needs unmet.",
}
LEARNING = (
    "Share this example of direct work at the team's practice meeting.",
    "The chronology template is not used consistently across the service.",
)
COMMENTS = ("Chronology updated on the day of the audit.", "Supervision is booked for next week.")
MODERATION_RATIONALE = (
    "The evidence on the file supports a different grade for the child's experience.",
    "The plan's gaps weigh more heavily than the audit allowed.",
    "The strengths recorded outweigh the gaps the audit found.",
)

# Recommendations the follow-up checks: the failed question, what must be done, its priority and theme.
FOLLOW_UP_ACTIONS: dict[str, tuple[str, str, str]] = {
    "chronology_up_to_date": (
        "Bring the chronology up to date, including the latest significant events",
        "high",
        "Chronology",
    ),
    "oversight_last_month": (
        "Record management oversight on the file at least monthly",
        "high",
        "Management oversight",
    ),
    "supervision_within_6_weeks": (
        "Hold and record supervision about this child within two weeks",
        "urgent",
        "Supervision",
    ),
    "child_voice_recorded": (
        "Record the child's wishes and feelings from the next visit, in their own words",
        "normal",
        "Child's voice",
    ),
    "plan_reviewed_on_time": ("Review the child's plan with the family and record the outcome", "high", "Planning"),
    "seen_alone_last_visit": (
        "See the child alone at the next visit and record what they said, or why not",
        "normal",
        "Direct work",
    ),
    "assessment_within_45_days": ("Complete and authorise the outstanding assessment", "urgent", "Assessment"),
    "return_interview_within_72_hours": (
        "Offer a return home interview within 72 hours of every missing episode",
        "urgent",
        "Timeliness",
    ),
}
# What became of the baseline's recommendations by the follow-up (and by today), and how often.
OUTCOMES = (("closed_before", 0.55), ("closed_after", 0.15), ("completed", 0.12), ("in_progress", 0.10), ("open", 0.08))


# --- What the plan is made from, and what it makes -------------------------------------------------------------


@dataclass(frozen=True)
class DemoCase:
    id: int
    case_type: str
    team_id: int | None
    team: str  # the team's name ("" when none)
    start: date
    end: date | None
    missing_12m: int
    age: int

    def open_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or self.end >= day)


@dataclass(frozen=True)
class Person:
    """A demo user who audits or moderates, with the days their training covers."""

    id: int
    team_id: int | None
    audits_from: date | None = None  # None: not an auditor
    audits_until: date | None = None
    moderates_from: date | None = None  # None: not a moderator
    moderates_until: date | None = None
    weight: float = 1.0  # how much of the auditing they do

    def audits_on(self, day: date) -> bool:
        return (
            self.audits_from is not None
            and self.audits_from <= day
            and (self.audits_until is None or day <= self.audits_until)
        )

    def moderates_on(self, day: date) -> bool:
        return (
            self.moderates_from is not None
            and self.moderates_from <= day
            and (self.moderates_until is None or day <= self.moderates_until)
        )


@dataclass(frozen=True)
class PlannedCycle:
    title: str
    kind: str
    template_key: str
    start: date
    due: date
    status: str
    moderation_rate: float
    theme: str = ""


@dataclass(frozen=True)
class PlannedSample:
    cycle: int  # index into Plan.cycles
    method: str
    params: dict[str, Any]
    seed: int
    size: int
    frame_size: int
    frame_hash: str
    exclusions: dict[str, int]
    drawn: tuple[int, ...]  # case IDs
    added: tuple[tuple[int, str], ...] = ()  # (case ID, reason): added by hand
    created: date = date.min
    strata: tuple[tuple[str, int, int], ...] = ()  # (team, frame size, sample size) of a stratified draw
    stratum_of: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModeratorView:
    """How the moderator would grade the audit if it is selected (drawn in advance, so the plan is pure)."""

    moderator_id: int
    sections: dict[str, str]
    overall: str
    returned_first: bool  # returned once before being accepted
    submit_lag: int  # days from submission to the moderator's grades
    decide_lag: int  # days from the grades to the decision


@dataclass(frozen=True)
class PlannedAudit:
    case_id: int
    template_key: str
    cycle: int
    sample: int
    auditor_id: int
    completed_at: datetime
    work_days: int  # from allocation to submission
    saves: int  # answer saves after the first
    answers: dict[str, Any]
    section_grades: dict[str, str]
    overall: str | None
    moderator: ModeratorView | None  # None: nobody could moderate it (or a template without grades)


@dataclass(frozen=True)
class PlannedRecommendation:
    audit: int  # index into Plan.audits
    question_key: str
    owner_id: int
    text: str
    priority: str
    theme: str
    raised: date
    steps: tuple[tuple[str, date], ...]  # ("start" | "complete" | "close", day)

    @property
    def status(self) -> str:
        last = self.steps[-1][0] if self.steps else "raise"
        return {"raise": rules.OPEN, "start": rules.IN_PROGRESS, "complete": rules.COMPLETED, "close": rules.CLOSED}[
            last
        ]


@dataclass
class Plan:
    cycles: list[PlannedCycle] = field(default_factory=list)
    samples: list[PlannedSample] = field(default_factory=list)
    audits: list[PlannedAudit] = field(default_factory=list)
    recommendations: list[PlannedRecommendation] = field(default_factory=list)


@dataclass(frozen=True)
class CompletedHistory:
    """What `demo_completed_audits` added."""

    audits: int = 0
    moderated: int = 0
    cycles: int = 0
    recommendations: int = 0
    closed_cases: int = 0  # added to the register: cases open during the year, closed since


# --- The plan (pure) ----------------------------------------------------------------------------------------------


def _month_end(first: date) -> date:
    return months_before(first, -1) - timedelta(days=1)


def _clamp(p: float, low: float = 0.03, high: float = 0.98) -> float:
    return min(high, max(low, p))


def _step(grade: str, steps: int) -> str:
    return GRADES[min(len(GRADES) - 1, max(0, GRADES.index(grade) + steps))]


# The lowest score for Outstanding, Good and Requires improvement: a blend of the answers' compliance and the
# practice level of the audit (team, month and the audit's own quality), with some of the auditor's judgement.
SECTION_CUTS = (0.92, 0.70, 0.50)
OVERALL_CUTS = (0.93, 0.72, 0.60)


def _grade_of(score: float, cuts: tuple[float, float, float]) -> str:
    for grade, cut in zip(GRADES, cuts, strict=False):
        if score >= cut:
            return grade
    return INADEQUATE


class _Planner:
    def __init__(
        self,
        *,
        cases: list[DemoCase],
        people: list[Person],
        definitions: Mapping[str, TemplateDefinition],
        today: date,
        seed: int,
        owner_of: Callable[[int], int | None],
    ) -> None:
        self.rng = random.Random(seed)
        self.cases = {c.id: c for c in cases}
        self.ordered = sorted(self.cases)
        self.people = people
        self.definitions = definitions
        self.today = today
        self.owner_of = owner_of
        self.first = months_before(today.replace(day=1), HISTORY_MONTHS - 1)
        self.plan = Plan()
        self.audited: set[int] = set()  # cases audited (or sampled) so far in the history
        self.baseline: list[int] = []  # the audits of the dip sample the follow-up returns to

    # Time

    def month(self, index: int) -> date:
        return months_before(self.first, -index)

    def window(self, start: date, end: date) -> list[date]:
        """The days audits can be completed on between `start` and `end`: weekdays before today."""
        last = min(end, self.today - timedelta(days=1))
        days = [start + timedelta(days=i) for i in range((last - start).days + 1)]
        return [d for d in days if d.weekday() < 5] or days

    def when(self, days: list[date]) -> datetime:
        day = self.rng.choice(days)
        return datetime.combine(day, time(self.rng.randint(9, 16), self.rng.randint(0, 59)), tzinfo=UTC)

    # Cycles and samples

    def cycle(
        self, title: str, kind: str, template_key: str, start: date, due: date, rate: float, theme: str = ""
    ) -> int:
        status = "closed" if due < self.today else "in_progress"
        self.plan.cycles.append(
            PlannedCycle(
                title=title,
                kind=kind,
                template_key=template_key,
                start=start,
                due=due,
                status=status,
                moderation_rate=rate,
                theme=theme,
            )
        )
        return len(self.plan.cycles) - 1

    def drop_last_cycle(self) -> None:
        """Forget the cycle (and its sample) just planned: there was nothing to draw."""
        self.plan.samples.pop()
        self.plan.cycles.pop()

    def sample(
        self,
        cycle: int,
        size: int,
        day: date,
        *,
        frame: list[int] | None = None,
        minimum: int = 0,
        added: tuple[tuple[int, str], ...] = (),
    ) -> int:
        """Draw `size` cases as `sample_create` would (`draw_positions`; stratified by team with at least `minimum`
        from each when `minimum` is set) from the open cases not audited yet; when too few are left, from every open
        case. `frame`: draw at random from these cases instead."""
        by_hand = {case_id for case_id, _ in added}
        opened = [i for i in self.ordered if self.cases[i].open_on(day) and i not in by_hand]
        closed = sum(1 for i in self.ordered if self.cases[i].start <= day) - len(opened)
        exclude_audited: int | None = 365
        if frame is not None:
            pool, exclusions, exclude_audited = sorted(frame), {}, None
        else:
            pool = [i for i in opened if i not in self.audited]
            exclusions = {"closed": closed, "audited_recently": len(opened) - len(pool), "in_open_sample": 0}
            if len(pool) < size:  # a small register: audit some cases again
                pool, exclude_audited = opened, None
                exclusions = {"closed": closed}
        seed = self.rng.randint(1, 2**31 - 1)
        strata: tuple[tuple[str, int, int], ...] = ()
        stratum_of: dict[int, str] = {}
        if minimum and len({self.cases[i].team for i in pool}) * minimum > size:
            minimum = 0  # more teams than the sample has room for: a simple random sample
        if minimum:
            stratum_of = {i: self.cases[i].team or NO_VALUE for i in pool}
            chosen, found = draw_stratified(stratum_of, size, seed, minimum=minimum)
            drawn, strata = tuple(chosen), tuple((s.value, s.frame_size, s.sample_size) for s in found)
            stratum_of = {i: stratum_of[i] for i in drawn}
        else:
            drawn = tuple(pool[p] for p in draw_positions(len(pool), size, seed))
        spec = SampleSpec(
            method="stratified" if minimum else "random",
            size=size,
            strata_by="team" if minimum else None,
            min_per_stratum=minimum,
            exclude_audited_within_days=exclude_audited,
            exclude_in_open_sample=frame is None,
        )
        self.plan.samples.append(
            PlannedSample(
                cycle=cycle,
                method=spec.method,
                params=spec.model_dump(mode="json", exclude={"seed"}),
                seed=seed,
                size=size,
                frame_size=len(pool),
                frame_hash=frame_hash(pool),
                exclusions=exclusions,
                drawn=drawn,
                added=added,
                created=day,
                strata=strata,
                stratum_of=stratum_of,
            )
        )
        self.audited.update(drawn)
        self.audited.update(case_id for case_id, _ in added)
        return len(self.plan.samples) - 1

    # People

    def auditor_for(self, case: DemoCase, day: date, *, moderated: bool) -> tuple[Person, list[Person]]:
        """An auditor from outside the case's team (and, for a graded template, the moderators who could then
        moderate the audit: never its auditor, never in the case's team)."""
        auditors = [p for p in self.people if p.audits_on(day) and (p.team_id is None or p.team_id != case.team_id)]
        moderators = [p for p in self.people if p.moderates_on(day) and p.team_id != case.team_id]
        if moderated:
            auditors = [p for p in auditors if any(m.id != p.id for m in moderators)] or auditors
        if not auditors:
            auditors = [p for p in self.people if p.audits_from is not None] or list(self.people)
        chosen = self.rng.choices(auditors, weights=[p.weight for p in auditors])[0]
        return chosen, [m for m in moderators if m.id != chosen.id]

    # Answers

    def chance_of_yes(self, case: DemoCase, key: str, month: int, quality: float) -> float:
        base = TEAM_COMPLIANCE.get(case.team, OTHER_TEAM_COMPLIANCE)
        return _clamp(base + QUESTION_LEVEL.get(key, 0.0) + TREND * (month / (HISTORY_MONTHS - 1) - 0.5) + quality)

    def na_chance(self, case: DemoCase, key: str) -> float:
        if key in ("seen_alone_last_visit", "child_seen_alone_in_assessment") and case.age < 4:
            return 0.8
        if key == "exploitation_considered" and case.age < 10:
            return 0.7
        if key == "pathway_plan_in_place" and case.age < 16:
            return 0.9
        chances = NA_CHANCE.get(key, {})
        return chances.get(case.case_type, chances.get("", BASE_NA_CHANCE))

    def missing(self, case: DemoCase) -> str:
        if case.missing_12m:
            return "yes"
        return "yes" if case.age >= 10 and case.case_type not in _LONG_TERM and self.rng.random() < 0.2 else "no"

    def answers(
        self,
        definition: TemplateDefinition,
        case: DemoCase,
        *,
        month: int,
        quality: float,
        overrides: Mapping[str, float] | None = None,
    ) -> tuple[dict[str, Any], dict[str, str], str | None]:
        """Answers to every question the form shows, question by question in form order (`shown_as_answered`: the
        form's own rule, so `show_if` sees the answers before it), the section grades and the overall grade (graded
        from the answers, within the template's rules)."""
        rng, answers = self.rng, {}
        sections: dict[str, str] = {}
        section_of = {q.key: section for section in definition.sections for q in section.form_questions}
        tallies = {section.key: Counter[str]() for section in definition.sections}  # compliance yes / no
        for question in shown_as_answered(definition, answers):
            section = section_of[question.key]
            value: Any = None
            if question.explains:
                explained = answers.get(question.explains)
                value = (
                    EXPLAIN_YES.get(question.explains, EXPLAIN_NO[0]) if explained == "yes" else rng.choice(EXPLAIN_NO)
                )
            elif question.type is QuestionType.YES_NO_NA:
                value = self.yes_no(question, case, month=month, quality=quality, overrides=overrides or {})
                if question.counts_for_compliance:
                    tallies[section.key][value] += 1
            elif question.type is QuestionType.GRADE:
                level = self.chance_of_yes(case, "", month, quality)
                if question.key == section.grade_key:
                    mine = tallies[section.key]
                    value = self.section_grade(mine["yes"], mine["no"], level)
                    sections[section.key] = value
                else:  # the overall grade, from the answers of the sections before its own
                    before = sum((t for key, t in tallies.items() if key != section.key), Counter[str]())
                    value = self.overall_grade(before["yes"], before["no"], sections, level)
            else:
                value = self.other(question, section, case, sections, quality)
            if value is not None:
                answers[question.key] = value
        overall = answers.get(definition.overall.grade_question) if definition.overall else None
        return answers, sections, overall

    def yes_no(
        self, question: Question, case: DemoCase, *, month: int, quality: float, overrides: Mapping[str, float]
    ) -> str:
        key, rng = question.key, self.rng
        if question.safeguarding:
            return "no"
        if key == "child_missing_12m":
            return self.missing(case)
        if key == "drift_or_delay":
            return "yes" if rng.random() < (0.5 if quality < -0.06 else 0.08) else "no"
        if key == "plan_in_place_needed":
            return "yes" if rng.random() < 0.2 else "no"
        if rng.random() < self.na_chance(case, key):
            return "na"
        chance = overrides.get(key, self.chance_of_yes(case, key, month, quality))
        return "yes" if rng.random() < chance else "no"

    def section_grade(self, yes: int, no: int, level: float) -> str:
        share = yes / (yes + no) if yes + no else level
        return _grade_of((share + level) / 2 + self.rng.gauss(0, 0.05), SECTION_CUTS)

    def overall_grade(self, yes: int, no: int, sections: Mapping[str, str], level: float) -> str:
        """The auditor's judgement from all the answers, kept within the rules: not Good or better with an Inadequate
        section, and at most one grade better than the worst section."""
        share = yes / (yes + no) if yes + no else level
        grade = _grade_of((share + level) / 2 + self.rng.gauss(0, 0.03), OVERALL_CUTS)
        if sections:
            worst = max(GRADES.index(g) for g in sections.values())
            rank = max(GRADES.index(grade), worst - 1)
            if worst == GRADES.index(INADEQUATE):
                rank = max(rank, GRADES.index(RI))
            grade = GRADES[rank]
        return grade

    def other(
        self, question: Question, section: Section, case: DemoCase, sections: Mapping[str, str], quality: float
    ) -> Any:
        rng, key = self.rng, question.key
        if question.type is QuestionType.SINGLE_CHOICE:
            if key == "case_type":
                return case.case_type
            if key == "plan_type":
                return PLAN_TYPE.get(case.case_type, "no_plan")
            return question.option_values[0]
        if question.type is QuestionType.MULTI_CHOICE:
            options = [v for v in AGENCIES if v in question.option_values]
            return sorted(rng.sample(options, k=rng.randint(1, 4)), key=options.index)
        if question.type is QuestionType.NUMBER:
            return rng.choices((1, 2, 3, 4), (45, 30, 15, 10))[0] if rng.random() < 0.85 else None
        if question.type is not QuestionType.TEXT:
            return None
        good = GRADES.index(sections.get(section.key, GOOD)) <= GRADES.index(GOOD)
        if key == section.strengths_key:
            return rng.choice(STRENGTHS[good])
        if key == section.development_key:
            return rng.choice(DEVELOPMENT[good])
        if key == "difference_made":
            return DIFFERENCE_MADE[2] if quality < -0.05 else rng.choice(DIFFERENCE_MADE)
        if key == "overall_rationale":
            return None  # written once the overall grade is known (see `finish`)
        if key == "learning_for_the_service":
            return rng.choice(LEARNING) if rng.random() < 0.3 else None
        if key == "comments":
            return rng.choice(COMMENTS) if rng.random() < 0.15 else None
        return "Seen on the file." if question.required else None

    # Audits

    def audit(
        self,
        case_id: int,
        template_key: str,
        cycle: int,
        sample: int,
        days: list[date],
        month: int,
        *,
        quality_boost: float = 0.0,
        overrides: Mapping[str, float] | None = None,
    ) -> int:
        rng, case = self.rng, self.cases[case_id]
        definition = self.definitions[template_key]
        graded = definition.overall is not None
        if graded:  # time for moderation between the cycle's start and completion, should the audit be picked
            earliest = self.plan.cycles[cycle].start + timedelta(days=14)
            days = [d for d in days if d >= earliest] or days
        completed_at = self.when(days)
        auditor, moderators = self.auditor_for(case, completed_at.date(), moderated=graded)
        quality = rng.gauss(0, AUDIT_SPREAD) + quality_boost
        answers, sections, overall = self.answers(definition, case, month=month, quality=quality, overrides=overrides)
        if overall is not None:
            answers["overall_rationale"] = RATIONALE[overall]
        moderator = None
        if graded and overall is not None and moderators:
            if overall == INADEQUATE:
                theirs = RI if rng.random() < 0.2 else INADEQUATE
            elif rng.random() < 0.72:
                theirs = overall
            else:
                theirs = _step(overall, 1 if rng.random() < 0.65 else -1)
            moderator = ModeratorView(
                moderator_id=rng.choice(moderators).id,
                sections={k: g if rng.random() < 0.85 else _step(g, rng.choice((-1, 1))) for k, g in sections.items()},
                overall=theirs,
                returned_first=rng.random() < 0.08,
                submit_lag=rng.randint(2, 8),
                decide_lag=rng.randint(0, 2),
            )
        self.plan.audits.append(
            PlannedAudit(
                case_id=case_id,
                template_key=template_key,
                cycle=cycle,
                sample=sample,
                auditor_id=auditor.id,
                completed_at=completed_at,
                work_days=rng.randint(3, 20),
                saves=rng.randint(0, 4),
                answers=answers,
                section_grades=sections,
                overall=overall,
                moderator=moderator,
            )
        )
        return len(self.plan.audits) - 1

    def below_good(self, index: int) -> bool:
        """Below Good whether or not moderation picks it (the final grade is the auditor's or the moderator's)."""
        audit = self.plan.audits[index]
        grades = [audit.overall] + ([audit.moderator.overall] if audit.moderator else [])
        return all(g in (RI, INADEQUATE) for g in grades)

    # The programme

    def build(self) -> Plan:
        cfa_by_quarter: list[list[int]] = []
        for quarter in range(HISTORY_MONTHS // 3):
            cfa_by_quarter.append(self.case_file_audits(quarter, cfa_by_quarter[-1] if cfa_by_quarter else []))
            for month in range(3 * quarter, 3 * quarter + 3):
                if month == FOLLOW_UP_MONTH:
                    self.follow_up(month)
                self.dip_sample(month)
        return self.plan

    def case_file_audits(self, quarter: int, previous: list[int]) -> list[int]:
        start = self.month(3 * quarter)
        end = _month_end(self.month(3 * quarter + 2))
        days = self.window(start, end)
        if start >= self.today or not days:
            return []
        label = f"{start:%b}–{end:%b %Y}" if start.year == end.year else f"{start:%b %Y}–{end:%b %Y}"
        cycle = self.cycle(
            f"Case file audit, {label}",
            "deep_dive",
            CFA,
            start,
            end,
            CFA_MODERATION_RATE,
            theme="The quarterly case file audit across every service area",
        )
        again = [self.plan.audits[i].case_id for i in previous if self.below_good(i)]
        again = list(dict.fromkeys(again))[:RE_AUDITS_PER_QUARTER]
        reason = "Re-audit: practice was below Good in the last quarter's case file audit"
        sample = self.sample(cycle, CFA_SIZE, start, minimum=2, added=tuple((case_id, reason) for case_id in again))
        found: list[int] = []
        planned = self.plan.samples[sample]
        if not planned.drawn and not again:
            self.drop_last_cycle()
            return found
        # In three monthly batches, so every month has graded audits to show.
        batches = [self.window(self.month(m), _month_end(self.month(m))) for m in range(3 * quarter, 3 * quarter + 3)]
        batches = [
            b for b, m in zip(batches, range(3 * quarter, 3 * quarter + 3), strict=True) if self.month(m) < self.today
        ] or [days]
        boosts = [0.0] * len(planned.drawn) + [0.07] * len(again)  # re-audits: the recommendations helped, mostly
        for n, (case_id, boost) in enumerate(zip(planned.drawn + tuple(again), boosts, strict=True)):
            batch = n % len(batches)
            found.append(
                self.audit(case_id, CFA, cycle, sample, batches[batch], 3 * quarter + batch, quality_boost=boost)
            )
        return found

    def dip_sample(self, month: int) -> None:
        start = self.month(month)
        days = self.window(start, _month_end(start))
        if start >= self.today - timedelta(days=1) or not days:
            return
        baseline = month == BASELINE_MONTH
        cycle = self.cycle(
            f"Dip sample, {start:%B %Y}",
            "dip_sample",
            DIP,
            start,
            _month_end(start),
            0.0,
            theme="Monthly compliance dip sample" + ("; its cases are followed up four months on" if baseline else ""),
        )
        sample = self.sample(cycle, BASELINE_SIZE if baseline else DIP_SIZE, start, minimum=2 if baseline else 1)
        if not self.plan.samples[sample].drawn:
            self.drop_last_cycle()
            return
        audits = [self.audit(case_id, DIP, cycle, sample, days, month) for case_id in self.plan.samples[sample].drawn]
        if baseline:
            self.baseline = audits
            self.recommend(audits)

    def recommend(self, audits: list[int]) -> None:
        """Recommendations from the baseline's failed checks, and what became of them by the follow-up and today."""
        rng = self.rng
        follow_up = self.month(FOLLOW_UP_MONTH)
        for index in audits:
            audit = self.plan.audits[index]
            failed = [k for k in FOLLOW_UP_ACTIONS if audit.answers.get(k) == "no"]
            owner = self.owner_of(audit.case_id) if failed else None
            if owner is None:
                continue
            for key in failed[:2]:
                text, priority, theme = FOLLOW_UP_ACTIONS[key]
                raised = audit.completed_at.date() + timedelta(days=rng.randint(0, 2))
                outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
                started = raised + timedelta(days=rng.randint(1, 10))
                steps: list[tuple[str, date]] = []
                if outcome == "closed_before":
                    done = min(started + timedelta(days=rng.randint(5, 50)), follow_up - timedelta(days=12))
                    done = max(done, started)
                    steps = [
                        ("start", started),
                        ("complete", done),
                        ("close", min(done + timedelta(days=rng.randint(1, 10)), follow_up - timedelta(days=1))),
                    ]
                elif outcome == "closed_after":
                    done = follow_up + timedelta(days=rng.randint(5, 40))
                    closed = done + timedelta(days=rng.randint(2, 14))
                    steps = [("start", started), ("complete", done), ("close", closed)]
                elif outcome == "completed":
                    steps = [("start", started), ("complete", follow_up + timedelta(days=rng.randint(10, 80)))]
                elif outcome == "in_progress":
                    steps = [("start", started)]
                steps = [(step, min(day, self.today - timedelta(days=1))) for step, day in steps]
                self.plan.recommendations.append(
                    PlannedRecommendation(
                        audit=index,
                        question_key=key,
                        owner_id=owner,
                        text=text,
                        priority=priority,
                        theme=theme,
                        raised=raised,
                        steps=tuple(steps),
                    )
                )

    def follow_up(self, month: int) -> None:
        """Re-audit cases of the baseline dip sample, those with recommendations first."""
        start = self.month(month)
        days = self.window(start, _month_end(start))
        baseline = self.baseline
        if not baseline or start >= self.today - timedelta(days=1) or not days:
            return
        cases = list(dict.fromkeys(self.plan.audits[i].case_id for i in baseline))
        base = self.month(BASELINE_MONTH)
        cycle = self.cycle(
            f"Follow-up dip sample, {start:%B %Y}",
            "dip_sample",
            DIP,
            start,
            _month_end(start),
            0.0,
            theme=f"Re-audit of cases from the {base:%B %Y} dip sample after their recommendations were due",
        )
        # A random draw from the baseline's cases (its frame), so most of the cases with recommendations are in it.
        sample = self.sample(cycle, min(FOLLOW_UP_SIZE, len(cases)), start, frame=cases)
        for case_id in self.plan.samples[sample].drawn:
            overrides = {}
            for r in self.plan.recommendations:
                if self.plan.audits[r.audit].case_id != case_id:
                    continue
                closed = any(step == "close" and day < start for step, day in r.steps)
                overrides[r.question_key] = 0.92 if closed else 0.35
            self.audit(case_id, DIP, cycle, sample, days, month, overrides=overrides)


def plan_history(
    *,
    cases: list[DemoCase],
    people: list[Person],
    definitions: Mapping[str, TemplateDefinition],
    today: date,
    seed: int = DEMO_SEED,
    owner_of: Callable[[int], int | None] = lambda _: None,
) -> Plan:
    """The year of audit work to write: pure, so the same inputs and seed give the same plan. `owner_of` gives the
    owner of a case's recommendations (None: nobody, so none is raised)."""
    if not cases or not people or DIP not in definitions or CFA not in definitions:
        return Plan()
    return _Planner(
        cases=cases, people=people, definitions=definitions, today=today, seed=seed, owner_of=owner_of
    ).build()


# --- Reading the demo and writing the plan ------------------------------------------------------------------------


AUDITOR_WEIGHTS = {"auditor": 3.0, "t.brennan": 2.0, "r.kowalski": 2.0, "moderator": 1.5, "hos": 1.0, "qa.lead": 1.0}


def _people(session: Session) -> list[Person]:
    """The demo's auditors and moderators, with when their training covers them."""
    users = [
        u
        for u in session.execute(select(User).where(User.active.is_(True)).order_by(User.id)).unique().scalars()
        if u.has_role(Role.AUDITOR, Role.MODERATOR)
    ]
    training: dict[tuple[int, str], list[TrainingRecord]] = {}
    for record in session.execute(select(TrainingRecord).order_by(TrainingRecord.completed_on)).scalars():
        training.setdefault((record.user_id, record.kind), []).append(record)

    def span(user: User, role: Role, kind: TrainingKind) -> tuple[date | None, date | None]:
        records = training.get((user.id, kind.value), []) if user.has_role(role) else []
        if not records:
            return None, None
        return records[0].completed_on, max((r.expires_on or date.max) for r in records)

    people = []
    for user in users:
        audits_from, audits_until = span(user, Role.AUDITOR, TrainingKind.AUDITOR)
        moderates_from, moderates_until = span(user, Role.MODERATOR, TrainingKind.MODERATOR)
        if audits_from is None and moderates_from is None:
            continue
        people.append(
            Person(
                id=user.id,
                team_id=user.team_id,
                audits_from=audits_from,
                audits_until=audits_until,
                moderates_from=moderates_from,
                moderates_until=moderates_until,
                weight=AUDITOR_WEIGHTS.get(user.username, 1.0),
            )
        )
    return people


def _cases(session: Session, also: Sequence[str] = ()) -> list[DemoCase]:
    """The register's first MAX_CASES cases, and the cases with the child IDs `also`."""
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    columns = (
        Case.id,
        Case.case_type,
        Case.team_id,
        Case.start_date,
        Case.end_date,
        Case.missing_12m,
        Case.age_at_extract,
    )
    rows = {row[0]: row for row in session.execute(select(*columns).order_by(Case.id).limit(MAX_CASES))}
    for start in range(0, len(also), 500):
        rows.update(
            (row[0], row)
            for row in session.execute(select(*columns).where(Case.child_id.in_(also[start : start + 500])))
        )
    return [
        DemoCase(
            id=i,
            case_type=kind,
            team_id=team,
            team=teams.get(team, ""),
            start=start or date.min,
            end=end,
            missing_12m=missing or 0,
            age=age if age is not None else 10,
        )
        for i, kind, team, start, end, missing, age in (rows[i] for i in sorted(rows))
    ]


def history_case_rows(session: Session, *, today: date, seed: int) -> list[dict[str, Any]]:
    """Cases that were open during the year and have closed since, as a register holds them: the demo register is
    a snapshot of open cases, where referrals and assessments are all recent, so without these the front door teams
    would have nothing to audit before last month. Built by `demo_case_rows` as of the start of each month, then
    closed a few weeks to a few months later (before today)."""
    teams = {
        name: (team_id, area_id)
        for name, team_id, area_id in session.execute(select(Team.name, Team.id, Team.service_area_id))
    }
    if any(name not in teams for names in DEMO_TEAMS.values() for name in names):
        return []
    rng = random.Random(seed)
    first = months_before(today.replace(day=1), HISTORY_MONTHS - 1)
    rows: dict[str, dict[str, Any]] = {}
    for month in range(HISTORY_MONTHS - 1):
        as_of = months_before(first, -month)
        wanted = dict(HISTORY_CASES)
        for row in demo_case_rows(n=80, today=as_of, teams=teams, seed=seed * 100 + month):
            if row["status"] != "open" or wanted.get(row["case_type"], 0) <= 0 or row["child_id"] in rows:
                continue
            wanted[row["case_type"]] -= 1
            end = min(today - timedelta(days=1), as_of + timedelta(days=rng.randint(10, 120)))
            involvements = {
                name: {**span, "end": span["end"] or end.isoformat()} for name, span in row["involvements"].items()
            }
            row.update(status="closed", end_date=end, involvements=involvements)
            rows[row["child_id"]] = row
    taken = set()
    ids = list(rows)
    for start in range(0, len(ids), 500):
        taken.update(
            session.execute(select(Case.child_id).where(Case.child_id.in_(ids[start : start + 500]))).scalars()
        )
    return [row for child_id, row in rows.items() if child_id not in taken]


def demo_completed_audits(session: Session, *, today: date, seed: int = DEMO_SEED) -> CompletedHistory:
    """Add the year of completed audits (see the module docstring). Nothing when the case file audit and dip sample
    templates are not published, when there are no cases or auditors, or when any cycle or completed audit exists
    already (so loading twice adds nothing). The caller commits."""
    templates = {key: template_latest(session, key=key) for key in (CFA, DIP)}
    lead = session.execute(select(User).where(User.username == "qa.lead")).unique().scalar_one_or_none()
    if any(t is None for t in templates.values()) or lead is None:
        return CompletedHistory()
    if (
        session.execute(select(Cycle.id).limit(1)).first()
        or session.execute(select(Audit.id).where(Audit.status == workflow.COMPLETED).limit(1)).first()
    ):
        return CompletedHistory()
    owners: dict[int, int | None] = {}

    def owner_of(case_id: int) -> int | None:
        if case_id not in owners:
            case = session.get(Case, case_id)
            owner = default_owner(session, case=case) if case is not None else None
            owners[case_id] = owner.id if owner is not None else None
        return owners[case_id]

    definitions = {key: template_definition(t) for key, t in templates.items() if t is not None}
    people = _people(session)
    if not people or session.execute(select(Case.id).limit(1)).first() is None:
        return CompletedHistory()
    history = history_case_rows(session, today=today, seed=seed)
    bulk_insert(session.connection(), Case.__table__, history)
    plan = plan_history(
        cases=_cases(session, [row["child_id"] for row in history]),
        people=people,
        definitions=definitions,
        today=today,
        seed=seed,
        owner_of=owner_of,
    )
    if not plan.audits:
        return CompletedHistory(closed_cases=len(history))
    return replace(_write(session, plan, templates=templates, lead=lead, today=today), closed_cases=len(history))


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def _write(session: Session, plan: Plan, *, templates: Mapping[str, Any], lead: User, today: date) -> CompletedHistory:
    cycles = [
        Cycle(
            title=c.title,
            kind=c.kind,
            template_key=c.template_key,
            template_version=templates[c.template_key].version,
            theme=c.theme,
            owner_id=lead.id,
            start_date=c.start,
            due_date=c.due,
            moderation_rate=c.moderation_rate,
            blind_moderation=True,
            status=c.status,
            created_at=_at(c.start - timedelta(days=7)),
            updated_at=_at(min(c.due + timedelta(days=3), today)),
            version=2 if c.status == "closed" else 1,
        )
        for c in plan.cycles
    ]
    session.add_all(cycles)
    session.flush()
    samples = [
        Sample(
            cycle_id=cycles[s.cycle].id,
            method=s.method,
            params=s.params,
            seed=s.seed,
            size=s.size,
            frame_size=s.frame_size,
            frame_hash=s.frame_hash,
            exclusions=s.exclusions,
            allocated=True,
            strata=[{"value": v, "frame_size": f, "sample_size": n} for v, f, n in s.strata],
            created_by_id=lead.id,
            created_at=_at(s.created - timedelta(days=3)),
        )
        for s in plan.samples
    ]
    session.add_all(samples)
    session.flush()
    session.execute(
        SampleCase.__table__.insert(),
        [
            {
                "sample_id": samples[i].id,
                "case_id": case_id,
                "stratum": s.stratum_of.get(case_id),
                "manual_reason": reason,
            }
            for i, s in enumerate(plan.samples)
            for case_id, reason in [(c, None) for c in s.drawn] + list(s.added)
        ],
    )

    audits = []
    for p in plan.audits:
        template = templates[p.template_key]
        audits.append(
            Audit(
                case_id=p.case_id,
                cycle_id=cycles[p.cycle].id,
                sample_id=samples[p.sample].id,
                template_version_id=template.id,
                template_key=template.key,
                template_version=template.version,
                auditor_id=p.auditor_id,
                status=workflow.COMPLETED,
                started_by_id=lead.id,
                compliance_answers=compliance_code(template_definition(template), p.answers),
            )
        )
    session.add_all(audits)
    session.flush()

    moderations: list[Moderation] = []
    for p, audit in zip(plan.audits, audits, strict=True):
        cycle = cycles[p.cycle]
        draw = selection.selection_draw(cycle.id, audit.id, 1)
        chosen = selection.select_for_moderation(
            auditor_overall=p.overall, has_escalation=False, was_returned=False, draw=draw, rate=cycle.moderation_rate
        )
        # allocated, begun, each further save, submitted, then completed (or into moderation and accepted)
        version = 1 + 1 + p.saves + 1 + 1
        completed = p.completed_at
        submitted = completed - timedelta(seconds=1)
        final = p.overall
        if chosen.selected and p.moderator is not None:
            rounds = _rounds(p, audit, chosen)
            moderations.extend(rounds)
            submitted = rounds[0].created_at
            final = p.moderator.overall
            version += 1 + (4 if p.moderator.returned_first else 0)  # returned, reworked, resubmitted, moderated
        # Allocated once the cycle started (its sample drawn), some working days before submission.
        created = max(submitted - timedelta(days=p.work_days, hours=3), _at(cycle.start_date, 8))
        created = min(created, submitted - timedelta(hours=1))
        audit.status, audit.final_grade, audit.version = workflow.COMPLETED, final, version
        audit.created_at, audit.updated_at = created, completed
        audit.submitted_at, audit.completed_at = submitted, completed
        audit.due_date = (created + timedelta(days=21)).date()
    session.add_all(moderations)
    session.flush()

    rows = []
    for p, audit in zip(plan.audits, audits, strict=True):
        saved = audit.submitted_at - timedelta(minutes=5)
        rows.extend(
            {
                "audit_id": audit.id,
                "question_key": key,
                "value": value,
                "prefill_value": None,
                "prefill_explanation": None,
                "updated_by_id": p.auditor_id,
                "updated_at": saved,
            }
            for key, value in p.answers.items()
        )
    bulk_insert(session.connection(), AuditAnswer.__table__, rows)
    refresh_statistics(session.connection(), AuditAnswer.__table__)

    made = _recommendations(session, plan, audits, lead=lead)
    return CompletedHistory(
        audits=len(audits), moderated=len({m.audit_id for m in moderations}), cycles=len(cycles), recommendations=made
    )


def _rounds(p: PlannedAudit, audit: Audit, chosen: selection.Selection) -> list[Moderation]:
    """The decided moderation round(s) that completed the audit at `p.completed_at`, counted back from it."""
    view = p.moderator
    assert view is not None and chosen.reason is not None
    decided = p.completed_at
    graded = decided - timedelta(days=view.decide_lag, hours=2)
    allocated = graded - timedelta(days=view.submit_lag)
    agreement = {key: view.sections.get(key) == grade for key, grade in p.section_grades.items()}
    agreement["overall"] = view.overall == p.overall
    rationale = MODERATION_RATIONALE[
        0 if view.overall == p.overall else 1 if GRADES.index(view.overall) > GRADES.index(p.overall or GOOD) else 2
    ]
    common = {
        "audit_id": audit.id,
        "moderator_id": view.moderator_id,
        "status": DECIDED,
        "blind": True,
        "section_grades": dict(view.sections),
        "overall_grade": view.overall,
        "auditor_section_grades": dict(p.section_grades),
        "auditor_overall_grade": p.overall,
    }
    rounds = []
    if view.returned_first:
        first_decided = allocated - timedelta(days=1)
        first_allocated = first_decided - timedelta(days=view.submit_lag)
        rounds.append(
            Moderation(
                round=1,
                reason=chosen.reason,
                selection_draw=chosen.draw,
                selection_rate=chosen.rate,
                agreement=agreement,
                rationale=rationale if not all(agreement.values()) else "",
                decision="return",
                feedback="Add the evidence for the section grades before resubmitting.",
                created_at=first_allocated,
                graded_at=first_decided - timedelta(hours=3),
                decided_at=first_decided,
                version=3,
                **common,
            )
        )
        reason, draw = selection.RESUBMITTED, selection.selection_draw(audit.cycle_id, audit.id, 2)
    else:
        reason, draw = chosen.reason, chosen.draw
    rounds.append(
        Moderation(
            round=len(rounds) + 1,
            reason=reason,
            selection_draw=draw,
            selection_rate=chosen.rate,
            agreement=agreement,
            rationale=rationale if not all(agreement.values()) else "",
            decision="accept",
            created_at=allocated,
            graded_at=graded,
            decided_at=decided,
            version=3,
            **common,
        )
    )
    return rounds


def _recommendations(session: Session, plan: Plan, audits: list[Audit], *, lead: User) -> int:
    themes = dict(session.execute(select(Theme.name, Theme.id).where(Theme.active.is_(True))).all())
    cases = {
        c.id: c
        for c in session.execute(
            select(Case).where(Case.id.in_({audits[r.audit].case_id for r in plan.recommendations}))
        ).scalars()
    }
    items = []
    for r in plan.recommendations:
        audit = audits[r.audit]
        case = cases[audit.case_id]
        area = case.service_area_id
        if area is None and case.team_id is not None:
            team = session.get(Team, case.team_id)
            area = team.service_area_id if team else None
        closer = audit.auditor_id if audit.auditor_id != r.owner_id else lead.id
        item = Recommendation(
            text=r.text,
            audit_id=audit.id,
            case_id=case.id,
            section_key="compliance",
            cycle_id=audit.cycle_id,
            owner_id=r.owner_id,
            team_id=case.team_id,
            service_area_id=area,
            priority=r.priority,
            due_date=r.raised + timedelta(days=rules.DEFAULT_DAYS[r.priority]),
            status=r.status,
            raised_by_id=audit.auditor_id,
            raised_at=_at(r.raised, 11),
        )
        days = dict(r.steps)
        if "complete" in days:
            item.evidence = "Done and recorded on the child's file; see the case notes for the date."
            item.completed_at = _at(days["complete"], 14)
        if "close" in days:
            item.closed_at, item.closed_by_id = _at(days["close"], 15), closer
            item.days_to_close = (days["close"] - r.raised).days
        items.append((r, item, closer))
    session.add_all([item for _, item, _ in items])
    session.flush()
    links, events = [], []
    for r, item, closer in items:
        events.append(
            RecommendationEvent(
                recommendation_id=item.id,
                action="raise",
                to_status=rules.OPEN,
                new_due_date=item.due_date,
                actor_id=item.raised_by_id,
                created_at=item.raised_at,
            )
        )
        status = rules.OPEN
        for step, day in r.steps:
            to = {"start": rules.IN_PROGRESS, "complete": rules.COMPLETED, "close": rules.CLOSED}[step]
            events.append(
                RecommendationEvent(
                    recommendation_id=item.id,
                    action=step,
                    from_status=status,
                    to_status=to,
                    note=item.evidence if step == "complete" else "",
                    actor_id=closer if step == "close" else item.owner_id,
                    created_at=_at(day, {"start": 12, "complete": 14, "close": 15}[step]),
                )
            )
            status = to
        if r.theme in themes:
            links.append(RecommendationTheme(recommendation_id=item.id, theme_id=themes[r.theme]))
    session.add_all(events + links)
    session.flush()
    return len(items)
