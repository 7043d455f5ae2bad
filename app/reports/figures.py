"""The reports page's figures for a selection of completed audits: grades, moderation changes, compliance and the
month-by-month trend.

Each figure is a few aggregate queries over the filter's audits (`filters.selected_audits`): the database groups
and counts, Python only folds the few grouped rows into dataclasses, so the cost does not grow with what Python
holds (a year is about 50,000 audits and 2,000,000 answers).

- The grade counted is `Audit.final_grade`: `moderation.service` sets it on completion, to the auditor's overall
  grade when the audit was not moderated (`moderation_on_submit`) and to the moderator's when a moderator accepted
  it (`moderation_decide`). An audit is completed only by one of those two moves, so the column is always "the
  moderated grade where moderated". Templates without an overall grade (the dip sample) leave it empty: those
  audits are counted as ungraded.
- Compliance counts the answers of the questions that count for compliance (`Question.counts_for_compliance`:
  yes/no/N/A, scored, not the safeguarding question), as the audit's own compliance rate does. Answers are JSON:
  the database groups by the stored value itself (the text `"yes"` on SQLite, jsonb on PostgreSQL: both group
  equal values exactly, and the few groups come back decoded), so no JSON function, which differs between the
  two, is needed. An answer left stored under a question the form later hid is still counted (the show_if
  conditions are not evaluated in SQL).
- Months are local calendar months in the configured time zone: their boundaries are worked out in Python and
  one CASE over the UTC column sorts rows into them (`recommendations.themes.month_index`), portable SQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.accounts.models import ServiceArea, Team
from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import Grade, TemplateDefinition
from app.audit_templates.service import template_definition
from app.audits.models import Audit, AuditAnswer
from app.cases.models import Case
from app.moderation.models import Moderation
from app.moderation.selectors import DECIDED
from app.moderation.service import ACCEPT
from app.recommendations.rules import local_day_start, months_before
from app.recommendations.themes import Month, month_index
from app.reports.filters import ReportFilter, selected_audits
from app.sampling.models import Sample

GRADES = tuple(g.value for g in Grade)  # best first
RANK = {g.value: g.rank for g in Grade}  # 0 (outstanding) .. 3 (inadequate)
YES, NO, NA = "yes", "no", "na"
ANSWER_VALUES = (YES, NO, NA)
UNKNOWN_AREA, UNKNOWN_TEAM = "No service area", "No team"


# --- Grades -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeTally:
    """Audits by final overall grade (every grade present, best first) and those without an overall grade."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GRADES, 0))
    ungraded: int = 0

    @property
    def graded(self) -> int:
        return sum(self.counts.values())

    @property
    def total(self) -> int:
        return self.graded + self.ungraded

    def percent(self, grade: str) -> float | None:
        """The grade's share of the graded audits, 0 to 100; None when none is graded."""
        return 100 * self.counts[grade] / self.graded if self.graded else None


def tally(pairs: Iterable[tuple[str | None, int]]) -> GradeTally:
    """A GradeTally from (grade, count) pairs (a grade outside the scale is counted as ungraded)."""
    counts, ungraded = dict.fromkeys(GRADES, 0), 0
    for grade, n in pairs:
        if grade in counts:
            counts[grade] += n
        else:
            ungraded += n
    return GradeTally(counts=counts, ungraded=ungraded)


@dataclass(frozen=True)
class GroupGrades:
    """One service area's or team's grades (id None: cases with no area or team in the register)."""

    id: int | None
    name: str
    grades: GradeTally


@dataclass(frozen=True)
class GradeCounts:
    overall: GradeTally
    by_service_area: list[GroupGrades]  # by name
    by_team: list[GroupGrades]  # by name


def grade_distribution(session: Session, flt: ReportFilter, zone: str) -> GradeCounts:
    """Final overall grades of the selection: in all, by service area and by team (one grouped query, and names)."""
    rows = session.execute(
        selected_audits(flt, zone, Case.service_area_id, Case.team_id, Audit.final_grade, func.count())
        .group_by(Case.service_area_id, Case.team_id, Audit.final_grade)).all()
    by_area: dict[int | None, list[tuple[str | None, int]]] = defaultdict(list)
    by_team: dict[int | None, list[tuple[str | None, int]]] = defaultdict(list)
    for area_id, team_id, grade, n in rows:
        by_area[area_id].append((grade, n))
        by_team[team_id].append((grade, n))
    area_names = _names(session, ServiceArea, by_area)
    team_names = _names(session, Team, by_team)
    return GradeCounts(
        overall=tally((grade, n) for *_, grade, n in rows),
        by_service_area=_groups(by_area, area_names, UNKNOWN_AREA),
        by_team=_groups(by_team, team_names, UNKNOWN_TEAM))


def _names(session: Session, model: Any, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(wanted))).all())


def _groups(pairs: dict[int | None, list[tuple[str | None, int]]], names: dict[int, str],
            unknown: str) -> list[GroupGrades]:
    groups = [GroupGrades(id=i, name=names.get(i, unknown) if i is not None else unknown, grades=tally(p))
              for i, p in pairs.items()]
    return sorted(groups, key=lambda g: (g.id is None, g.name.casefold()))


# --- Moderation changes -------------------------------------------------------------------------------------


UP, DOWN, SAME = "up", "down", "same"


def direction(auditor: str | None, final: str | None) -> str | None:
    """How moderation moved the grade: "up" (the final grade is better than the auditor's), "down" or "same";
    None when either grade is missing or off the scale."""
    if auditor not in RANK or final not in RANK:
        return None
    return SAME if RANK[final] == RANK[auditor] else UP if RANK[final] < RANK[auditor] else DOWN


@dataclass(frozen=True)
class ModerationChanges:
    """Audits of the selection completed after moderation, by how the moderator's final grade compares with the
    auditor's own overall grade (as the accepting round recorded it)."""

    moderated: int = 0
    up: int = 0
    down: int = 0
    same: int = 0
    unknown: int = 0  # no grade to compare (a template without an overall grade)
    # (auditor's grade, final grade) -> audits: the moves behind the counts
    moves: dict[tuple[str | None, str | None], int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return self.up + self.down


def moderation_changes(session: Session, flt: ReportFilter, zone: str) -> ModerationChanges:
    """Among the selection's audits completed after moderation (their latest round accepted), how the final
    grade moved from the auditor's. One grouped query."""
    later = aliased(Moderation)
    accepted = and_(Moderation.audit_id == Audit.id, Moderation.status == DECIDED, Moderation.decision == ACCEPT,
                    ~exists().where(later.audit_id == Moderation.audit_id, later.round > Moderation.round))
    rows = session.execute(
        selected_audits(flt, zone, Moderation.auditor_overall_grade, Audit.final_grade, func.count())
        .join(Moderation, accepted)
        .group_by(Moderation.auditor_overall_grade, Audit.final_grade)).all()
    found: dict[str, int] = {UP: 0, DOWN: 0, SAME: 0}
    unknown = 0
    for auditor, final, n in rows:
        way = direction(auditor, final)
        if way is None:
            unknown += n
        else:
            found[way] += n
    return ModerationChanges(moderated=sum(n for *_, n in rows), unknown=unknown, **found,
                             moves={(a, f): n for a, f, n in rows})


# --- Compliance ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """Yes / no / N/A answers. The rate is yes ÷ (yes + no): N/A is counted but not part of n."""

    yes: int = 0
    no: int = 0
    na: int = 0

    @property
    def n(self) -> int:
        return self.yes + self.no

    @property
    def rate(self) -> float | None:
        return self.yes / self.n if self.n else None

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.yes + other.yes, self.no + other.no, self.na + other.na)


@dataclass(frozen=True)
class QuestionRef:
    """Where a compliance question sits: its template, section and titles (from the newest version that has it)."""

    template_key: str
    section_key: str
    section_title: str
    question_key: str
    label: str
    order: tuple[int, int, int]  # template version, section index, question index: for sorting


@dataclass(frozen=True)
class QuestionCompliance:
    template_key: str
    section_key: str
    section_title: str
    question_key: str
    label: str
    counts: Counts


@dataclass(frozen=True)
class SectionCompliance:
    template_key: str
    section_key: str
    section_title: str
    counts: Counts  # the sum over the section's questions


@dataclass(frozen=True)
class ComplianceReport:
    questions: list[QuestionCompliance]  # in template order
    sections: list[SectionCompliance]  # in template order
    # The sampling frame's size when every audit of the selection comes from one sample (for the finite population
    # correction); None otherwise.
    frame_size: int | None
    audits: int  # audits in the selection


QuestionKey = tuple[str, str]  # (template key, question key)


def compliance_questions(definitions: Iterable[TemplateDefinition]) -> dict[QuestionKey, QuestionRef]:
    """The questions that count for compliance in these definitions, by (template, question); where versions
    differ, the newest version's section and titles."""
    found: dict[QuestionKey, QuestionRef] = {}
    for definition in sorted(definitions, key=lambda d: (d.key, d.version)):
        for s, section in enumerate(definition.sections):
            for q, question in enumerate(section.questions):
                if question.counts_for_compliance:
                    found[(definition.key, question.key)] = QuestionRef(
                        template_key=definition.key, section_key=section.key, section_title=section.title,
                        question_key=question.key, label=question.label, order=(definition.version, s, q))
    return found


def _definitions(session: Session, flt: ReportFilter, zone: str) -> list[TemplateDefinition]:
    """The definitions of the template versions the selection's audits were completed on."""
    ids = selected_audits(flt, zone, Audit.template_version_id).distinct()
    versions = session.execute(select(TemplateVersion).where(TemplateVersion.id.in_(ids))).scalars()
    return [template_definition(v) for v in versions]


def _answer_counts(session: Session, flt: ReportFilter, zone: str, questions: dict[QuestionKey, QuestionRef],
                   *extra: Any) -> list[tuple[Any, ...]]:
    """(template key, question key, *extra, value, count) for the compliance answers of the selection."""
    if not questions:
        return []
    keys = sorted({q for _, q in questions})
    columns = (Audit.template_key, AuditAnswer.question_key, *extra, AuditAnswer.value)
    rows = session.execute(
        selected_audits(flt, zone, *columns, func.count())
        .join(AuditAnswer, AuditAnswer.audit_id == Audit.id)
        .where(AuditAnswer.question_key.in_(keys), AuditAnswer.value.is_not(None))
        .group_by(*columns)).all()
    return [tuple(row) for row in rows if (row[0], row[1]) in questions and row[-2] in ANSWER_VALUES]


def counts_of(rows: Iterable[tuple[Any, ...]]) -> dict[tuple[Any, ...], Counts]:
    """Fold (key..., value, count) rows into Counts by key."""
    found: dict[tuple[Any, ...], Counts] = {}
    for *key, value, n in rows:
        add = Counts(yes=n if value == YES else 0, no=n if value == NO else 0, na=n if value == NA else 0)
        found[tuple(key)] = found.get(tuple(key), Counts()) + add
    return found


def compliance(session: Session, flt: ReportFilter, zone: str) -> ComplianceReport:
    """Yes / no / N/A answers per compliance question and section of the selection's template(s), and the frame
    size when the whole selection is one sample. Four small queries; the answers are counted by the database."""
    questions = compliance_questions(_definitions(session, flt, zone))
    counts = counts_of(_answer_counts(session, flt, zone, questions))
    ordered = sorted(questions.values(), key=lambda r: (r.template_key, r.order[1:], r.order[0]))
    per_question = [QuestionCompliance(template_key=r.template_key, section_key=r.section_key,
                                       section_title=r.section_title, question_key=r.question_key, label=r.label,
                                       counts=counts.get((r.template_key, r.question_key), Counts()))
                    for r in ordered]
    sections: dict[tuple[str, str], SectionCompliance] = {}
    for q in per_question:
        key = (q.template_key, q.section_key)
        before = sections.get(key)
        sections[key] = SectionCompliance(template_key=q.template_key, section_key=q.section_key,
                                          section_title=q.section_title,
                                          counts=q.counts + before.counts if before else q.counts)
    audits, frame = _frame(session, flt, zone)
    return ComplianceReport(questions=per_question, sections=list(sections.values()), frame_size=frame, audits=audits)


def _frame(session: Session, flt: ReportFilter, zone: str) -> tuple[int, int | None]:
    """How many audits are selected, and the frame size of their one sample (None: several, or none)."""
    total, in_samples, low, high = session.execute(selected_audits(
        flt, zone, func.count(), func.count(Audit.sample_id), func.min(Audit.sample_id),
        func.max(Audit.sample_id))).one()
    if not total or in_samples != total or low != high:
        return total, None
    size = session.execute(select(Sample.frame_size).where(Sample.id == low)).scalar_one_or_none()
    return total, size if size else None


# --- Month by month -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendMonth:
    month: Month
    audits: int  # completed audits behind this month's figures
    grades: GradeTally
    answers: dict[QuestionKey, Counts]  # compliance answers per (template, question)


@dataclass(frozen=True)
class Trend:
    months: list[TrendMonth]  # oldest first, every month of the period (empty ones included)
    questions: dict[QuestionKey, QuestionRef]  # the questions the answers refer to


def months_between(first: date, last: date) -> list[Month]:
    """The local calendar months from `first`'s to `last`'s, oldest first (the ends are whole months)."""
    found, start = [], first.replace(day=1)
    while start <= last:
        following = months_before(start, -1)
        found.append(Month(first=start, last=following - timedelta(days=1)))
        start = following
    return found


def monthly_trend(session: Session, flt: ReportFilter, zone: str) -> Trend:
    """Per local month of completion: audits, grades and compliance answers. The filter must have a period
    (`report_filter_from_query` always gives one). Two grouped queries, and the template definitions."""
    if flt.date_from is None or flt.date_to is None:
        raise ValueError("a trend needs a period: date_from and date_to")
    months = months_between(flt.date_from, flt.date_to)
    index = month_index(Audit.completed_at, [local_day_start(m.first, zone) for m in months]).label("month")
    grade_rows = session.execute(
        selected_audits(flt, zone, index, Audit.final_grade, func.count()).group_by(index, Audit.final_grade)).all()
    questions = compliance_questions(_definitions(session, flt, zone))
    answers = counts_of((i, t, q, v, n) for t, q, i, v, n in _answer_counts(session, flt, zone, questions, index))
    grades: dict[int, list[tuple[str | None, int]]] = defaultdict(list)
    for i, grade, n in grade_rows:
        grades[i].append((grade, n))
    per_month: dict[int, dict[QuestionKey, Counts]] = defaultdict(dict)
    for (i, t, q), c in answers.items():
        per_month[i][(t, q)] = c
    points = []
    for i, month in enumerate(months):
        tallied = tally(grades.get(i, []))
        points.append(TrendMonth(month=month, audits=tallied.total, grades=tallied, answers=per_month.get(i, {})))
    return Trend(months=points, questions=questions)
