"""The audits behind a figure of the reports page (issue 8: "every figure links to the audits behind it").

A figure is the report filter (`filters.ReportFilter`, with its scope rules) narrowed by what the figure counts:
`Narrowing` is read from the page's query parameters by `narrowing_from_query`, a value that makes no sense
dropped and named in `errors` as the filter does. `narrowed_filter` and `narrowing_conditions` turn both into WHERE
clauses on Audit joined to Case, built from the same pieces as the figures (`filters.report_conditions`,
`figures.accepted_round`, the grade scale `figures.GRADES`), so the list and the figure count the same audits:

- grade: `Audit.final_grade` is the grade (`none`: no overall grade, or one off the scale, as `figures.tally`
  counts them; `graded`: any grade on the scale, the n of a grade target);
- move: the audit's accepted moderation round, comparing its `auditor_overall_grade` with the final grade as
  `figures.direction` does (`unknown`: either is missing);
- question and answer: the audit's template and its stored answer (`yes`, `no`, `na`; no answer: yes or no, the
  n of the rate);
- month: the period cut to one local calendar month, as the trend's months are.

`audits_page` gives one page of `DrillRow`s. Listing is not a view of a child's record, so nothing is recorded;
the case reference is shown, and the audit linked, only where the reader may open the audit itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import case, exists, literal, or_, select
from sqlmodel import Session

from app.accounts.models import ServiceArea, Team, User
from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import GRADE_LABELS, KEY_PATTERN, Grade
from app.audit_templates.service import template_definition
from app.audit_templates.versions import all_versions, key_aliases
from app.audits.models import Audit, AuditAnswer
from app.audits.permissions import may_read_audit
from app.cases.models import Case
from app.cases.selectors import case_type_label
from app.dates import long_date, months_before
from app.db import JSONType
from app.moderation.audit_access import audit_accesses
from app.moderation.models import Moderation
from app.pagination import Page, paginate
from app.reports.figures import (
    ANSWER_VALUES,
    DOWN,
    GRADES,
    NA,
    NO,
    RANK,
    SAME,
    UP,
    YES,
    accepted_round,
)
from app.reports.filters import ReportFilter, selected_audits
from app.sampling.models import Cycle
from app.web.query import EARLIEST_DAY, LATEST_DAY, QueryReader

PAGE_SIZE = 50
NONE, GRADED = "none", "graded"  # grade: no overall grade; any grade on the scale
UNKNOWN = "unknown"  # move: moderated, but no grade to compare
GRADE_CHOICES = (*GRADES, NONE, GRADED)
MOVES = (UP, DOWN, SAME, UNKNOWN)
NARROWING_ORDER = ["grade", "move", "question", "answer", "month"]
ANSWER_WORDS = {YES: "Yes", NO: "No", NA: "Not applicable"}
MOVE_WORDS = {
    UP: "moved up by moderation",
    DOWN: "moved down by moderation",
    SAME: "left unchanged by moderation",
    UNKNOWN: "moderated with no grade to compare",
}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Narrowing:
    """What a figure counts among the filter's audits. Query parameters: grade (a grade, `none` or `graded`),
    move (up, down, same, unknown), question (`template_key:question_key`) with answer (yes, no, na), and month
    (YYYY-MM, a local calendar month of the period)."""

    grade: str | None = None
    move: str | None = None
    template_key: str | None = None
    question_key: str | None = None
    answer: str | None = None
    month: date | None = None  # the month's first day
    errors: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def question(self) -> str | None:
        return f"{self.template_key}:{self.question_key}" if self.template_key and self.question_key else None

    def query(self) -> dict[str, str]:
        """The query parameters that give this narrowing (add the filter's own: `ReportFilter.query()`)."""
        pairs = {
            "grade": self.grade,
            "move": self.move,
            "question": self.question,
            "answer": self.answer,
            "month": self.month.strftime("%Y-%m") if self.month else None,
        }
        return {k: v for k, v in pairs.items() if v}


def audits_href(flt: ReportFilter, **narrowing: str) -> str:
    """The link to the audits behind a figure, e.g. `audits_href(flt, grade="good", team="3")` (the templates of the
    reports page build the same links from `ReportFilter.query()`)."""
    return "/reports/audits?" + urlencode({**flt.query(), **narrowing})


def month_last(first: date) -> date:
    return months_before(first, -1) - timedelta(days=1)


def narrowing_from_query(params: Mapping[str, str], *, flt: ReportFilter) -> Narrowing:
    """Read a Narrowing; a bad value is left out and named in `errors`. A month must overlap the filter's period."""
    read = QueryReader(params)
    errors = read.errors
    grade = read.choice(
        "grade", GRADE_CHOICES, "Grade must be one of " + ", ".join(GRADE_CHOICES) + " (none: no overall grade)"
    )
    move = read.choice("move", MOVES, "Move must be one of " + ", ".join(MOVES))

    template_key = question_key = None
    question = read.text("question")
    if question:
        template_key, _, question_key = question.partition(":")
        if not (_is_key(template_key) and _is_key(question_key)):
            errors["question"] = "Question must be a template's key and a question's key, as template_key:question_key"
            template_key = question_key = None
    answer = read.choice("answer", ANSWER_VALUES, "Answer must be one of " + ", ".join(ANSWER_VALUES))
    if answer and not question_key:
        if "question" not in errors:
            errors["answer"] = "An answer needs a question: give question as template_key:question_key"
        answer = None

    month = None
    text = read.text("month")
    if text:
        found = _MONTH.match(text)
        first = None
        if found and EARLIEST_DAY.year <= int(found.group(1)) <= LATEST_DAY.year and 1 <= int(found.group(2)) <= 12:
            first = date(int(found.group(1)), int(found.group(2)), 1)
        if first is None:
            errors["month"] = "Month must be a month as YYYY-MM, for example 2026-06"
        elif (
            flt.date_from is not None
            and flt.date_to is not None
            and not (first <= flt.date_to and month_last(first) >= flt.date_from)
        ):
            errors["month"] = f"Month must be within the period, {long_date(flt.date_from)} to {long_date(flt.date_to)}"
        else:
            month = first
    return Narrowing(
        grade=grade,
        move=move,
        template_key=template_key,
        question_key=question_key,
        answer=answer,
        month=month,
        errors=errors,
    )


def _is_key(value: str) -> bool:
    return 0 < len(value) <= 60 and re.fullmatch(KEY_PATTERN, value) is not None


def narrowed_filter(flt: ReportFilter, narrowing: Narrowing) -> ReportFilter:
    """The filter with its period cut to the narrowing's month (the trend's month: the part inside the period)."""
    if narrowing.month is None:
        return flt
    first, last = narrowing.month, month_last(narrowing.month)
    return replace(
        flt,
        date_from=max(first, flt.date_from) if flt.date_from else first,
        date_to=min(last, flt.date_to) if flt.date_to else last,
    )


def _rank(column: Any) -> Any:
    """A grade's rank (0 Outstanding .. 3 Inadequate); NULL for no grade or one off the scale."""
    return case(RANK, value=column, else_=None)


def _json(value: str) -> Any:
    """An answer value typed as the JSON column is (jsonb on PostgreSQL), to compare with the stored value."""
    return literal(value, JSONType)


def narrowing_conditions(narrowing: Narrowing, question_keys: list[str] | None = None) -> list[Any]:
    """WHERE clauses on Audit (joined to Case, under `filters.report_conditions`) for the narrowing's grade, move and
    question (answered under any of `question_keys`, default its own key); its month is applied to the period by
    `narrowed_filter`."""
    conds: list[Any] = []
    if narrowing.grade == NONE:
        conds.append(or_(Audit.final_grade.is_(None), Audit.final_grade.not_in(GRADES)))
    elif narrowing.grade == GRADED:
        conds.append(Audit.final_grade.in_(GRADES))
    elif narrowing.grade is not None:
        conds.append(Audit.final_grade == narrowing.grade)
    if narrowing.move is not None:
        auditor, final = _rank(Moderation.auditor_overall_grade), _rank(Audit.final_grade)
        way = {
            UP: final < auditor,
            DOWN: final > auditor,
            SAME: final == auditor,
            UNKNOWN: or_(auditor.is_(None), final.is_(None)),
        }[narrowing.move]
        conds.append(exists().where(accepted_round(), way))
    if narrowing.template_key and narrowing.question_key:
        values = [narrowing.answer] if narrowing.answer else [YES, NO]
        conds.append(Audit.template_key == narrowing.template_key)
        conds.append(
            exists().where(
                AuditAnswer.audit_id == Audit.id,
                AuditAnswer.question_key.in_(question_keys or [narrowing.question_key]),
                or_(*[AuditAnswer.value == _json(v) for v in values]),
            )
        )
    return conds


def drill_select(
    flt: ReportFilter, narrowing: Narrowing, zone: str, *columns: Any, question_keys: list[str] | None = None
) -> Any:
    """SELECT `columns` for the audits behind the figure: the filter's (in the narrowed period) and the narrowing's
    (`question_keys`: every key the narrowing's question had in earlier versions, `versions.key_aliases`)."""
    conditions = narrowing_conditions(narrowing, question_keys)
    return selected_audits(narrowed_filter(flt, narrowing), zone, *columns).where(*conditions)


# --- The page's rows --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrillRow:
    audit_id: int
    template_title: str
    team: str
    service_area: str
    completed: date  # local date of completion
    grade: str | None
    may_open: bool  # the reader may open the audit's pages: link it and show the case reference
    case_reference: str | None  # only when may_open

    @property
    def grade_label(self) -> str:
        try:
            return GRADE_LABELS[Grade(self.grade)] if self.grade else "No overall grade"
        except ValueError:
            return self.grade or "No overall grade"


def drill_rows(session: Session, audits: list[Audit], *, user: User, zone: str) -> list[DrillRow]:
    """Rows for a page of audits, in a fixed number of queries whatever the page size (the access facts, for the
    links, included: `app.moderation.audit_access.audit_accesses`)."""
    if not audits:
        return []
    cases = {
        i: (ref, team, area)
        for i, ref, team, area in session.execute(
            select(Case.id, Case.child_id, Case.team_id, Case.service_area_id).where(
                Case.id.in_({a.case_id for a in audits})
            )
        ).all()
    }
    team_ids = {c[1] for c in cases.values() if c[1] is not None}
    area_ids = {c[2] for c in cases.values() if c[2] is not None}
    teams = dict(session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids))).all()) if team_ids else {}
    areas = (
        dict(session.execute(select(ServiceArea.id, ServiceArea.name).where(ServiceArea.id.in_(area_ids))).all())
        if area_ids
        else {}
    )
    titles = dict(
        session.execute(
            select(TemplateVersion.id, TemplateVersion.title).where(
                TemplateVersion.id.in_({a.template_version_id for a in audits})
            )
        ).all()
    )
    tz = ZoneInfo(zone)
    accesses = audit_accesses(session, audits)
    rows = []
    for a in audits:
        ref, team_id, area_id = cases.get(a.case_id, ("", None, None))
        opens = a.id in accesses and may_read_audit(user, accesses[a.id])
        assert a.id is not None and a.completed_at is not None  # completed audits only
        rows.append(
            DrillRow(
                audit_id=a.id,
                template_title=titles.get(a.template_version_id, a.template_key),
                team=teams.get(team_id, "No team") if team_id is not None else "No team",
                service_area=areas.get(area_id, "No service area") if area_id is not None else "No service area",
                completed=a.completed_at.astimezone(tz).date(),
                grade=a.final_grade,
                may_open=opens,
                case_reference=ref if opens else None,
            )
        )
    return rows


def audits_page(
    session: Session,
    flt: ReportFilter,
    narrowing: Narrowing,
    *,
    zone: str,
    user: User,
    page: int | None = 1,
    page_size: int | None = PAGE_SIZE,
) -> Page[DrillRow]:
    """One page of the audits behind the figure, most recently completed first (past the end: the last page)."""
    keys = None
    if narrowing.template_key and narrowing.question_key:
        versions = all_versions(session, [narrowing.template_key])
        keys = key_aliases(versions, narrowing.template_key, narrowing.question_key)
    stmt = drill_select(flt, narrowing, zone, Audit, question_keys=keys)
    stmt = stmt.order_by(Audit.completed_at.desc(), Audit.id.desc())
    found = paginate(session, stmt, page=page, page_size=page_size, clamp_to_last=True)
    return replace(found, items=drill_rows(session, found.items, user=user, zone=zone))


# --- What the list is, in words -----------------------------------------------------------------------------------


def question_label(session: Session, template_key: str, question_key: str) -> str | None:
    """The question's label in the newest published version of the template that has it."""
    versions = session.execute(
        select(TemplateVersion).where(TemplateVersion.key == template_key).order_by(TemplateVersion.version.desc())
    ).scalars()
    for version in versions:
        for section in template_definition(version).sections:
            for question in section.questions:
                if question.key == question_key:
                    return question.label
    return None


def _template_title(session: Session, key: str) -> str:
    title = session.execute(
        select(TemplateVersion.title)
        .where(TemplateVersion.key == key)
        .order_by(TemplateVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    return title or key


def describe(session: Session, flt: ReportFilter, narrowing: Narrowing) -> str:
    """What the list is, e.g. "Audits graded Good, completed 1 March 2026 to 28 February 2027, Safeguarding"."""
    parts = []
    if narrowing.grade == NONE:
        parts.append("without an overall grade")
    elif narrowing.grade == GRADED:
        parts.append("with an overall grade")
    elif narrowing.grade is not None:
        parts.append(f"graded {GRADE_LABELS[Grade(narrowing.grade)]}")
    if narrowing.move is not None:
        parts.append(MOVE_WORDS[narrowing.move])
    if narrowing.template_key and narrowing.question_key:
        label = question_label(session, narrowing.template_key, narrowing.question_key)
        asked = (
            f"“{label}”" if label else f"question {narrowing.question_key}"
        ) + f" ({_template_title(session, narrowing.template_key)})"
        said = f"“{ANSWER_WORDS[narrowing.answer]}”" if narrowing.answer else "yes or no"
        parts.append(f"answering {said} to {asked}")
    period = narrowed_filter(flt, narrowing)
    if period.date_from and period.date_to:
        parts.append(f"completed {long_date(period.date_from)} to {long_date(period.date_to)}")
    if flt.cycle_id is not None:
        title = session.execute(select(Cycle.title).where(Cycle.id == flt.cycle_id)).scalar_one_or_none()
        parts.append(f"cycle “{title}”" if title else f"cycle {flt.cycle_id}")
    if flt.template_key and flt.template_key != narrowing.template_key:
        parts.append(_template_title(session, flt.template_key))
    if flt.service_area_id is not None:
        name = session.execute(select(ServiceArea.name).where(ServiceArea.id == flt.service_area_id)).scalar()
        parts.append(name or f"service area {flt.service_area_id}")
    if flt.team_id is not None:
        name = session.execute(select(Team.name).where(Team.id == flt.team_id)).scalar()
        parts.append(f"team {name}" if name else f"team {flt.team_id}")
    if flt.case_type:
        parts.append(f"{case_type_label(flt.case_type)} cases")
    first, *rest = parts or [""]
    return ", ".join([f"Audits {first}".strip(), *rest])
