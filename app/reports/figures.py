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

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import numpy as np
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.accounts.models import ServiceArea, Team
from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import Grade, TemplateDefinition
from app.audit_templates.scoring import CODE_NA, CODE_NO, CODE_YES, compliance_code
from app.audit_templates.scoring import compliance_questions as scoring_questions
from app.audit_templates.service import template_definition
from app.audit_templates.versions import newest_keys
from app.audits.models import Audit, AuditAnswer
from app.cases.models import Case
from app.dates import local_day_start, months_before
from app.moderation.models import Moderation
from app.moderation.selectors import DECIDED
from app.moderation.service import ACCEPT
from app.recommendations.themes.service import Month, month_index
from app.reports.filters import ReportFilter, selected_audits
from app.reports.stats import Rate, Spread, clustered_rate
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


def grade_distribution(session: Session, flt: ReportFilter, zone: str, coded: CodedAudits | None = None) -> GradeCounts:
    """Final overall grades of the selection: in all, by service area and by team (one grouped query, or the rows
    `monthly_coded_audits` read; and names)."""
    if coded is not None and coded.facts:
        found = coded.count_by(lambda b: (b.facts[0], b.group[1], b.facts[1]))  # (area, team, grade)
        rows = [(*key, n) for key, n in found.items()]
    else:
        rows = [
            tuple(r)
            for r in session.execute(
                selected_audits(
                    flt, zone, Case.service_area_id, Case.team_id, Audit.final_grade, func.count()
                ).group_by(Case.service_area_id, Case.team_id, Audit.final_grade)
            )
        ]
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
        by_team=_groups(by_team, team_names, UNKNOWN_TEAM),
    )


def _names(session: Session, model: Any, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(wanted))).all())


def _groups(
    pairs: dict[int | None, list[tuple[str | None, int]]], names: dict[int, str], unknown: str
) -> list[GroupGrades]:
    groups = [
        GroupGrades(id=i, name=names.get(i, unknown) if i is not None else unknown, grades=tally(p))
        for i, p in pairs.items()
    ]
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


def accepted_round() -> Any:
    """The condition on Moderation (with Audit) for the round that completed the audit: the audit's latest round,
    decided and accepted. An audit has at most one; the drill-down (app.reports.drill) uses it too."""
    later = aliased(Moderation)
    return and_(
        Moderation.audit_id == Audit.id,
        Moderation.status == DECIDED,
        Moderation.decision == ACCEPT,
        ~exists().where(later.audit_id == Moderation.audit_id, later.round > Moderation.round),
    )


def moderation_changes(session: Session, flt: ReportFilter, zone: str) -> ModerationChanges:
    """Among the selection's audits completed after moderation (their latest round accepted), how the final
    grade moved from the auditor's. One grouped query."""
    rows = session.execute(
        selected_audits(flt, zone, Moderation.auditor_overall_grade, Audit.final_grade, func.count())
        .join(Moderation, accepted_round())
        .group_by(Moderation.auditor_overall_grade, Audit.final_grade)
    ).all()
    found: dict[str, int] = {UP: 0, DOWN: 0, SAME: 0}
    unknown = 0
    for auditor, final, n in rows:
        way = direction(auditor, final)
        if way is None:
            unknown += n
        else:
            found[way] += n
    return ModerationChanges(
        moderated=sum(n for *_, n in rows), unknown=unknown, **found, moves={(a, f): n for a, f, n in rows}
    )


# --- Compliance ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Counts:
    """Yes / no / N/A answers. The rate is yes ÷ (yes + no): N/A is counted but not part of n. `audits` and the
    per-audit sums (`stats.Spread`) say how the answers fall into audits, for the interval; every field adds up
    over disjoint sets of audits."""

    yes: int = 0
    no: int = 0
    na: int = 0
    audits: int = 0  # audits with a yes or no answer here
    yy: int = 0  # Σ yes_i²
    yn: int = 0  # Σ yes_i · n_i
    nn: int = 0  # Σ n_i²

    @staticmethod
    def of_audit(yes: int, no: int, na: int = 0) -> Counts:
        """One audit's answers."""
        n = yes + no
        return Counts(yes, no, na, audits=1 if n else 0, yy=yes * yes, yn=yes * n, nn=n * n)

    @property
    def n(self) -> int:
        return self.yes + self.no

    @property
    def rate(self) -> float | None:
        return self.yes / self.n if self.n else None

    @property
    def spread(self) -> Spread:
        return Spread(audits=self.audits, yy=self.yy, yn=self.yn, nn=self.nn)

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.yes + other.yes,
            self.no + other.no,
            self.na + other.na,
            self.audits + other.audits,
            self.yy + other.yy,
            self.yn + other.yn,
            self.nn + other.nn,
        )

    def __sub__(self, other: Counts) -> Counts:
        """These answers without those of `other`, audits that are among these."""
        return Counts(
            self.yes - other.yes,
            self.no - other.no,
            self.na - other.na,
            self.audits - other.audits,
            self.yy - other.yy,
            self.yn - other.yn,
            self.nn - other.nn,
        )


def compliance_rate(counts: Counts, *, frame: int | None, sampled: int | None, min_n: int) -> Rate:
    """The rate of these answers with its interval: clustered by audit (`stats.clustered_rate`), corrected for
    `sampled` cases of a frame of `frame` when the selection is one sample."""
    return clustered_rate(counts.yes, counts.no, counts.spread, population=frame, sampled=sampled, min_n=min_n)


def question_counts(yes: np.ndarray, no: np.ndarray, na: np.ndarray) -> list[Counts]:
    """Counts per question from 0/1 grids (a row per audit, a column per question): one answer per audit, so an
    audit answering counts once and its squares are its answers."""
    return [
        Counts(y, n, a, y + n, y, y, y + n)
        for y, n, a in zip(yes.sum(axis=0).tolist(), no.sum(axis=0).tolist(), na.sum(axis=0).tolist(), strict=True)
    ]


def grid_counts(yes: np.ndarray, no: np.ndarray, na: np.ndarray) -> list[Counts]:
    """Counts per column from per-audit answer counts (a row per audit, a column per question or section)."""
    n = yes + no
    sums = [
        yes.sum(axis=0),
        no.sum(axis=0),
        na.sum(axis=0),
        (n > 0).sum(axis=0),
        (yes * yes).sum(axis=0),
        (yes * n).sum(axis=0),
        (n * n).sum(axis=0),
    ]
    return [Counts(*column) for column in zip(*(c.tolist() for c in sums), strict=True)]


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
    # All the compliance questions of each template (by key, in the order of `questions`), each audit's answers
    # added up first.
    overall: dict[str, Counts] = field(default_factory=dict)


QuestionKey = tuple[str, str]  # (template key, question key)


def compliance_questions(definitions: Iterable[TemplateDefinition]) -> dict[QuestionKey, QuestionRef]:
    """The questions that count for compliance in these definitions, by (template, question) under the key the
    newest version gives it (`versions.newest_keys`: a question renamed with `replaces` is one question); where
    versions differ, the newest version's section and titles."""
    definitions = list(definitions)
    names = newest_keys(definitions)
    found: dict[QuestionKey, QuestionRef] = {}
    for definition in sorted(definitions, key=lambda d: (d.key, d.version)):
        rename = names[(definition.key, definition.version)]
        for s, section in enumerate(definition.sections):
            for q, question in enumerate(section.questions):
                if question.counts_for_compliance:
                    key = rename.get(question.key, question.key)
                    found[(definition.key, key)] = QuestionRef(
                        template_key=definition.key,
                        section_key=section.key,
                        section_title=section.title,
                        question_key=key,
                        label=question.label,
                        order=(definition.version, s, q),
                    )
    return found


@dataclass(frozen=True)
class CodedBlock:
    """Audits of the selection sharing a group (e.g. month and team), facts and template version: how many, and
    their compliance codes end to end (each code is one character per compliance question of the version, so
    every code of a version has the same length)."""

    group: tuple[Any, ...]
    facts: tuple[Any, ...]
    version_id: int
    audits: int
    codes: str


@dataclass(frozen=True)
class CodedAudits:
    """The selection's compliance codes (`Audit.compliance_answers`) in blocks by group, and the definitions of
    the template versions they were written against. `facts` (from `monthly_coded_audits`): every block carries
    (service area id, final grade, sample id), so the grades, the trend's grades and the frame come from the
    same single read."""

    blocks: list[CodedBlock]
    definitions: dict[int, TemplateDefinition]  # by template version id
    facts: bool = False

    @cached_property
    def tallied(self) -> Tally:
        """`tally_codes` of these blocks, counted once however many figures read them."""
        return tally_codes(self)

    def count_by(self, key: Any) -> Counter[Any]:
        """Audits by `key(block)`."""
        found: Counter[Any] = Counter()
        for block in self.blocks:
            found[key(block)] += block.audits
        return found


def coded_audits(
    session: Session, flt: ReportFilter, zone: str, *groups: Any, facts: tuple[Any, ...] = ()
) -> CodedAudits:
    """The selection's compliance codes grouped by the values of the `groups` column expressions (none: all in
    one group), the `facts` columns and the template version: the database concatenates each group's codes
    (string_agg / group_concat), so a year of audits comes back as a few hundred rows. An audit completed without
    a code (none should be: completion and the migration write it), or a group whose codes do not add up, has the
    selection read audit by audit instead, the missing codes worked out from the answers."""
    keys = (*groups, *facts, Audit.template_version_id)
    rows = session.execute(
        selected_audits(
            flt,
            zone,
            *keys,
            func.count(),
            func.count(Audit.compliance_answers),
            func.aggregate_strings(Audit.compliance_answers, ""),
        ).group_by(*keys)
    ).all()
    definitions = version_definitions(session, {row[len(keys) - 1] for row in rows}, with_other_versions=True)
    width = len(groups)
    code_length = {v: len(scoring_questions(d)) for v, d in definitions.items()}
    blocks = []
    for *values, version_id, audits, coded, codes in rows:
        blocks.append(
            CodedBlock(
                group=tuple(values[:width]),
                facts=tuple(values[width:]),
                version_id=version_id,
                audits=audits,
                codes=codes or "",
            )
        )
        if coded != audits or version_id not in code_length or len(codes or "") != code_length[version_id] * audits:
            return _coded_audit_by_audit(session, flt, zone, groups, facts, definitions)
    return CodedAudits(blocks=blocks, definitions=definitions, facts=bool(facts))


def version_definitions(
    session: Session, ids: Iterable[int], *, with_other_versions: bool = False
) -> dict[int, TemplateDefinition]:
    """The definitions of these template versions, by version id; `with_other_versions`: and of every other
    version of their templates (a later version's `replaces` renames their questions)."""
    wanted = TemplateVersion.id.in_(sorted(ids))
    if with_other_versions:
        wanted = TemplateVersion.key.in_(select(TemplateVersion.key).where(wanted))
    versions = session.execute(select(TemplateVersion).where(wanted)).scalars()
    return {v.id: template_definition(v) for v in versions if v.id is not None}


def _coded_audit_by_audit(
    session: Session,
    flt: ReportFilter,
    zone: str,
    groups: tuple[Any, ...],
    facts: tuple[Any, ...],
    definitions: dict[int, TemplateDefinition],
) -> CodedAudits:
    width = len(groups)
    rows = [
        (i, tuple(rest[:width]), tuple(rest[width:-2]), rest[-2], rest[-1])
        for i, *rest in session.execute(
            selected_audits(flt, zone, Audit.id, *groups, *facts, Audit.template_version_id, Audit.compliance_answers)
        )
    ]
    missing = [(i, v) for i, _, _, v, code in rows if code is None]
    worked_out = codes_from_answers(session, missing, definitions) if missing else {}
    return CodedAudits(
        blocks=[
            CodedBlock(group=g, facts=f, version_id=v, audits=1, codes=code if code is not None else worked_out[i])
            for i, g, f, v, code in rows
        ],
        definitions=definitions,
        facts=bool(facts),
    )


def codes_from_answers(
    session: Session, audits: list[tuple[int, int]], definitions: dict[int, TemplateDefinition]
) -> dict[int, str]:
    """The compliance codes of (audit id, template version id) pairs, from their answers."""
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    ids = [i for i, _ in audits]
    for start in range(0, len(ids), 1000):
        for audit_id, key, value in session.execute(
            select(AuditAnswer.audit_id, AuditAnswer.question_key, AuditAnswer.value).where(
                AuditAnswer.audit_id.in_(ids[start : start + 1000])
            )
        ):
            answers[audit_id][key] = value
    return {i: compliance_code(definitions[v], answers[i]) for i, v in audits}


@dataclass(frozen=True)
class Tally:
    """Yes / no / N/A answers counted from compliance codes, per group: per (group, template key, question key),
    per (group, template key, section key) and over all the template's questions per (group, template key). The
    section and template counts add each audit's answers up first, so they carry how answers fall into audits."""

    questions: dict[tuple[Any, str, str], Counts] = field(default_factory=dict)
    sections: dict[tuple[Any, str, str], Counts] = field(default_factory=dict)
    templates: dict[tuple[Any, str], Counts] = field(default_factory=dict)


def _add(found: dict[Any, Counts], key: Any, counts: Counts) -> None:
    found[key] = found[key] + counts if key in found else counts


@dataclass(frozen=True)
class _Layout:
    """A template version's compliance questions in code order, its sections, and which section each counts in
    (a 0/1 matrix, question by section: each audit's section counts are one product)."""

    template_key: str
    keys: list[str]
    sections: list[str]
    member: np.ndarray


def _layouts(definitions: dict[int, TemplateDefinition]) -> dict[int, _Layout]:
    placed = compliance_questions(definitions.values())
    names = newest_keys(definitions.values())
    found = {}
    for version_id, definition in definitions.items():
        rename = names[(definition.key, definition.version)]
        keys = [rename.get(q.key, q.key) for q in scoring_questions(definition)]
        if not keys:
            continue
        where = [placed[(definition.key, key)].section_key for key in keys]
        sections = list(dict.fromkeys(where))
        member = np.zeros((len(keys), len(sections)), dtype=np.float64)
        member[np.arange(len(keys)), [sections.index(s) for s in where]] = 1
        found[version_id] = _Layout(definition.key, keys, sections, member)
    return found


def tally_codes(coded: CodedAudits) -> Tally:
    """The codes counted with numpy: each group's codes of one template version are a grid, a row per audit and a
    column per compliance question. A question counts in the section the newest version puts it in."""
    joined: dict[tuple[Any, int], list[str]] = defaultdict(list)
    for block in coded.blocks:
        joined[(block.group, block.version_id)].append(block.codes)
    layouts = _layouts(coded.definitions)
    found = Tally()
    for (group, version_id), parts in joined.items():
        layout = layouts.get(version_id)
        text = "".join(parts)
        if layout is None or not text or len(text) % len(layout.keys):
            continue
        t, keys, sections = layout.template_key, layout.keys, layout.sections
        grid = np.frombuffer(text.encode("ascii", "replace"), dtype=np.uint8).reshape(-1, len(keys))
        yes, no, na = ((grid == ord(c)).astype(np.int32) for c in (CODE_YES, CODE_NO, CODE_NA))
        for key, counts in zip(keys, question_counts(yes, no, na), strict=True):
            _add(found.questions, (group, t, key), counts)
        # Each audit's answers per section: a float product runs on BLAS (exact for these small whole numbers).
        per_section = tuple((m @ layout.member).astype(np.int64) for m in (yes, no, na))
        for section_key, counts in zip(sections, grid_counts(*per_section), strict=True):
            _add(found.sections, (group, t, section_key), counts)
        _add(found.templates, (group, t), grid_counts(*(m.sum(axis=1, keepdims=True) for m in per_section))[0])
    return found


def compliance(session: Session, flt: ReportFilter, zone: str, coded: CodedAudits | None = None) -> ComplianceReport:
    """Yes / no / N/A answers per compliance question and section of the selection's template(s), and the frame
    size when the whole selection is one sample. The audits' compliance codes are read (one short column per
    audit; `coded`: already read, in any groups) and counted in Python with numpy."""
    coded = coded if coded is not None else coded_audits(session, flt, zone)
    questions = compliance_questions(coded.definitions.values())
    tallied = coded.tallied
    counts: dict[QuestionKey, Counts] = {}
    for (_, t, q), c in tallied.questions.items():
        _add(counts, (t, q), c)
    section_counts: dict[tuple[str, str], Counts] = {}
    for (_, t, key), c in tallied.sections.items():
        _add(section_counts, (t, key), c)
    overall: dict[str, Counts] = {}
    for (_, t), c in tallied.templates.items():
        _add(overall, t, c)
    ordered = sorted(questions.values(), key=lambda r: (r.template_key, r.order[1:], r.order[0]))
    per_question = [
        QuestionCompliance(
            template_key=r.template_key,
            section_key=r.section_key,
            section_title=r.section_title,
            question_key=r.question_key,
            label=r.label,
            counts=counts.get((r.template_key, r.question_key), Counts()),
        )
        for r in ordered
    ]
    sections = {
        (q.template_key, q.section_key): SectionCompliance(
            template_key=q.template_key,
            section_key=q.section_key,
            section_title=q.section_title,
            counts=section_counts.get((q.template_key, q.section_key), Counts()),
        )
        for q in per_question
    }
    audits, frame = _frame(session, flt, zone, coded)
    return ComplianceReport(
        questions=per_question,
        sections=list(sections.values()),
        frame_size=frame,
        audits=audits,
        overall={t: overall.get(t, Counts()) for t in dict.fromkeys(q.template_key for q in per_question)},
    )


@dataclass(frozen=True)
class TeamCompliance:
    id: int | None  # None: cases with no team in the register
    name: str
    counts: Counts  # over every compliance question of the selection


def team_compliance(
    session: Session, flt: ReportFilter, zone: str, coded: CodedAudits | None = None
) -> list[TeamCompliance]:
    """Compliance answers per team, over all the compliance questions (`coded`: the codes already read by
    `monthly_coded_audits`, whose groups end with the team), by name."""
    coded = coded if coded is not None else coded_audits(session, flt, zone, Case.team_id)
    totals: dict[int | None, Counts] = {}
    for (group, _), c in coded.tallied.templates.items():
        _add(totals, group[-1], c)
    names = _names(session, Team, totals)
    rows = [
        TeamCompliance(id=i, name=names.get(i, UNKNOWN_TEAM) if i is not None else UNKNOWN_TEAM, counts=c)
        for i, c in totals.items()
    ]
    return sorted(rows, key=lambda r: (r.id is None, r.name.casefold()))


def _frame(session: Session, flt: ReportFilter, zone: str, coded: CodedAudits | None = None) -> tuple[int, int | None]:
    """How many audits are selected, and the frame size of their one sample (None: several, or none)."""
    if coded is not None and coded.facts:
        by_sample = coded.count_by(lambda b: b.facts[2])
        samples = [sample for sample in by_sample if sample is not None]
        total, in_samples = sum(by_sample.values()), sum(by_sample[sample] for sample in samples)
        low, high = (min(samples), max(samples)) if samples else (None, None)
    else:
        total, in_samples, low, high = session.execute(
            selected_audits(
                flt,
                zone,
                func.count(),
                func.count(Audit.sample_id),
                func.min(Audit.sample_id),
                func.max(Audit.sample_id),
            )
        ).one()
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


def trend_months(flt: ReportFilter, zone: str) -> tuple[list[Month], Any]:
    """The local months of the filter's period (it must have one: `report_filter_from_query` always gives one)
    and a column expression giving each audit's month index."""
    if flt.date_from is None or flt.date_to is None:
        raise ValueError("a trend needs a period: date_from and date_to")
    months = months_between(flt.date_from, flt.date_to)
    return months, month_index(Audit.completed_at, [local_day_start(m.first, zone) for m in months]).label("month")


def monthly_coded_audits(session: Session, flt: ReportFilter, zone: str) -> CodedAudits:
    """The selection's compliance codes grouped by (month index, team id): enough for the compliance, the trend
    and the compliance by team, read once."""
    return coded_audits(
        session,
        flt,
        zone,
        trend_months(flt, zone)[1],
        Case.team_id,
        facts=(Case.service_area_id, Audit.final_grade, Audit.sample_id),
    )


def monthly_trend(session: Session, flt: ReportFilter, zone: str, coded: CodedAudits | None = None) -> Trend:
    """Per local month of completion: audits, grades and compliance answers (`coded`: the codes already read by
    `monthly_coded_audits`). A grouped query for the grades, and the codes."""
    months, index = trend_months(flt, zone)
    if coded is not None and coded.facts:
        grade_rows = [(*key, n) for key, n in coded.count_by(lambda b: (b.group[0], b.facts[1])).items()]
    else:
        grade_rows = [
            tuple(r)
            for r in session.execute(
                selected_audits(flt, zone, index, Audit.final_grade, func.count()).group_by(index, Audit.final_grade)
            )
        ]
    coded = coded if coded is not None else coded_audits(session, flt, zone, index)  # groups start with the month
    questions = compliance_questions(coded.definitions.values())
    answers = coded.tallied.questions
    grades: dict[int, list[tuple[str | None, int]]] = defaultdict(list)
    for i, grade, n in grade_rows:
        grades[i].append((grade, n))
    per_month: dict[int, dict[QuestionKey, Counts]] = defaultdict(dict)
    for (group, t, q), c in answers.items():
        _add(per_month[group[0]], (t, q), c)
    points = []
    for i, month in enumerate(months):
        tallied = tally(grades.get(i, []))
        points.append(TrendMonth(month=month, audits=tallied.total, grades=tallied, answers=per_month.get(i, {})))
    return Trend(months=points, questions=questions)
