"""The reports page's Impact section (issue 8): for cases audited more than once, how the grade and compliance
changed between the audits, and whether the earlier audits' recommendations were closed before the follow-up.

A *follow-up pair* is two completed audits of the same case: the *later* one is an audit of the report's selection
(`filters.selected_audits`: completed in the period, of the cycle, template, area, team and case type asked for,
within the reader's scope), the *earlier* one is that case's latest audit completed before it, at any time (before
the period too), of any template or cycle. Every selected audit is paired with its own predecessor, so a case
audited three times gives two pairs when the last two are selected, and the middle audit is the "after" of one
pair and the "before" of the next. A selected audit of a case never audited (and completed) before is no pair.
The earlier audit is of the same case, so it is within the reader's scope whenever the later one is.

- **Grade change**: over pairs whose two audits both have an overall grade (`Audit.final_grade`, the moderated
  grade where moderated; the dip sample has none): improved, same or worse on Ofsted's scale, and the before → after
  counts behind them.
- **Compliance change**: each audit's own rate, yes ÷ (yes + no) over the answers to the questions that count for
  compliance in its template version, as the Compliance section counts them: read from the compliance code written
  on completion (`Audit.compliance_answers`, one letter per question: `scoring.compliance_code`, which leaves out
  questions the form hid). Pairs whose two audits both have such answers are compared: the rate went up, stayed
  the same or went down; and their answers are pooled, all earlier audits against all later ones, each with its
  95% interval allowing for answers within one audit moving together (`stats.clustered_rate`). A rise (or fall)
  is claimed only when the two intervals do not overlap (`stats.compare`): the pairs are the same cases twice, so
  the test ignores the pairing and errs towards "no clear difference". Different templates (a dip sample following
  a case file audit) are compared on their own questions: the rate is the audit's, whatever it asked.
- **Recommendations per cycle**: for the earlier audits of the pairs, by the earlier audit's cycle: how many
  follow-up audits, how many recommendations were raised from those earlier audits (`Recommendation.audit_id`;
  a cycle's thematic findings belong to no case and are left out), how many were closed (status closed,
  `closed_at`) before the follow-up audit was started (`Audit.created_at`: when it was allocated), how many were
  closed only later and how many are still outstanding. Closing is final (a verifier reopens only a completed
  recommendation), so "closed before" cannot be undone later.

Cost: one statement. The pairing is a correlated subquery (the case's latest earlier completed audit, by the
`case_id` index) run only for the selected audits of cases audited more than once (a GROUP BY on `case_id`, from
the index alone, finds those cases); each pair then counts its audits' yes and no letters in their compliance codes
(length less the length without the letter) and its earlier audit's recommendations (three counts by the
`audit_id` index). Both steps are MATERIALIZED CTEs, so each is worked out once per pair; the pairs are then
grouped by grade before, grade after, compliance up / same / down (the two rates compared by cross-multiplying)
and earlier cycle: tens of rows, which Python folds (`fold`). Portable SQL: SQLite 3.35+ and PostgreSQL 12+.
Measured on SQLite (a busy shared machine) with 50,000 selected audits: 50 to 110 ms when 1,000 of them are
follow-ups; 450 to 700 ms in the extreme of 20,000 follow-ups, where an index on audit (case_id, status,
completed_at) would cut the pairing itself from about 360 ms to about 95 ms.

A pair with an audit that has no code (none should have: completion and its migration write it) comes back as its
own row, and that audit's code is worked out from its answers, as `figures.coded_audits` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.audit_templates.scoring import CODE_NA, CODE_NO, CODE_YES
from app.audits.models import Audit
from app.audits.workflow import states as workflow
from app.recommendations import rules
from app.recommendations.models import Recommendation
from app.reports.figures import (
    DOWN,
    GRADES,
    SAME,
    UP,
    Counts,
    codes_from_answers,
    compliance_rate,
    direction,
    version_definitions,
)
from app.reports.filters import ReportFilter, selected_audits
from app.reports.stats import DEFAULT_MIN_N, Difference, Rate, compare
from app.sampling.models import Cycle

NO_CYCLE = "Not in a cycle"
# How an audit's compliance rate moved from the earlier audit's (None: one of them has no yes or no answer).
WAY_UP, WAY_SAME, WAY_DOWN = 1, 0, -1
DIFFERENCE_TEXT = {
    Difference.HIGHER: "Higher after the follow-up: the 95% intervals do not overlap",
    Difference.LOWER: "Lower after the follow-up: the 95% intervals do not overlap",
    Difference.NO_CLEAR_DIFFERENCE: "No clear difference: the 95% intervals overlap",
    Difference.CANNOT_TELL: "Cannot tell: too few answers to judge",
}


# --- What the section shows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairGroup:
    """Follow-up pairs with the same grades before and after, the same compliance move and the same earlier cycle,
    as the database groups them: `before` and `after` are the yes and no answers of their earlier and later
    audits; `raised`, `closed_before` and `closed` count the recommendations raised from their earlier audits."""

    earlier_grade: str | None
    later_grade: str | None
    way: int | None  # WAY_UP, WAY_SAME, WAY_DOWN; None: no rate to compare
    pairs: int
    before: Counts
    after: Counts
    cycle_id: int | None = None  # the earlier audits' cycle
    raised: int = 0
    closed_before: int = 0  # closed before the follow-up audit was started
    closed: int = 0  # closed by now (before the follow-up, or after it)


@dataclass(frozen=True)
class GradeChange:
    """Pairs whose two audits both have an overall grade, by how the grade moved."""

    improved: int = 0
    same: int = 0
    worse: int = 0
    not_compared: int = 0  # pairs where either audit has no overall grade
    matrix: dict[tuple[str, str], int] = field(default_factory=dict)  # (grade before, grade after) -> pairs

    @property
    def compared(self) -> int:
        return self.improved + self.same + self.worse

    def cell(self, before: str, after: str) -> int:
        return self.matrix.get((before, after), 0)

    def rows(self) -> list[tuple[str, list[int], int]]:
        """The before → after table: (grade before, pairs per grade after best first, pairs in all)."""
        found = []
        for before in GRADES:
            cells = [self.cell(before, after) for after in GRADES]
            found.append((before, cells, sum(cells)))
        return found


@dataclass(frozen=True)
class ComplianceChange:
    """Pairs whose two audits both have compliance answers: how each pair's rate moved, and all their answers
    pooled, before against after."""

    up: int
    same: int
    down: int
    not_compared: int  # pairs where either audit has no yes or no answer to a compliance question
    before: Rate
    after: Rate
    difference: Difference  # the after rate against the before rate (stats.compare)

    @property
    def compared(self) -> int:
        return self.up + self.same + self.down

    @property
    def difference_text(self) -> str:
        return DIFFERENCE_TEXT[self.difference]


@dataclass(frozen=True)
class CycleFollowUp:
    """The pairs whose earlier audit belongs to one cycle (id None: audits outside any cycle), and the
    recommendations raised from those earlier audits, by when they were closed."""

    cycle_id: int | None
    title: str
    follow_ups: int  # follow-up audits (pairs)
    raised: int  # recommendations raised from the earlier audits
    closed_before: int  # closed before the follow-up audit was started
    closed_later: int  # closed, but only after the follow-up audit was started

    @property
    def not_closed_before(self) -> int:
        return self.raised - self.closed_before

    @property
    def outstanding(self) -> int:
        """Not closed yet."""
        return self.raised - self.closed_before - self.closed_later


@dataclass(frozen=True)
class ImpactReport:
    pairs: int  # follow-up pairs: selected audits of a case completed before
    grades: GradeChange
    compliance: ComplianceChange
    cycles: list[CycleFollowUp]  # by earlier cycle: oldest cycle first, audits outside any cycle last

    @property
    def empty(self) -> bool:
        return self.pairs == 0

    @property
    def raised(self) -> int:
        return sum(c.raised for c in self.cycles)

    @property
    def closed_before(self) -> int:
        return sum(c.closed_before for c in self.cycles)


# --- Folding (pure) -----------------------------------------------------------------------------------------------


def code_counts(code: str) -> Counts:
    """The yes, no and N/A answers in an audit's compliance code (`scoring.compliance_code`)."""
    return Counts.of_audit(yes=code.count(CODE_YES), no=code.count(CODE_NO), na=code.count(CODE_NA))


def way_of(before: Counts, after: Counts) -> int | None:
    """How one pair's compliance rate moved (None: either audit has no yes or no answer). Rates are compared
    exactly, by cross-multiplying the counts (the database does the same in `_pair_groups`)."""
    if not before.n or not after.n:
        return None
    left, right = after.yes * before.n, before.yes * after.n
    return WAY_SAME if left == right else WAY_UP if left > right else WAY_DOWN


def grade_change(groups: Iterable[PairGroup]) -> GradeChange:
    found = {UP: 0, SAME: 0, DOWN: 0}
    matrix: dict[tuple[str, str], int] = {}
    not_compared = 0
    for g in groups:
        way = direction(g.earlier_grade, g.later_grade)  # up: the later grade is better
        if way is None:
            not_compared += g.pairs
            continue
        found[way] += g.pairs
        key = (str(g.earlier_grade), str(g.later_grade))
        matrix[key] = matrix.get(key, 0) + g.pairs
    return GradeChange(
        improved=found[UP], same=found[SAME], worse=found[DOWN], not_compared=not_compared, matrix=matrix
    )


def compliance_change(groups: Iterable[PairGroup], *, min_n: int = DEFAULT_MIN_N) -> ComplianceChange:
    ways = {WAY_UP: 0, WAY_SAME: 0, WAY_DOWN: 0}
    not_compared = 0
    before, after = Counts(), Counts()
    for g in groups:
        if g.way is None:
            not_compared += g.pairs
            continue
        ways[g.way] += g.pairs
        before, after = before + g.before, after + g.after
    was = compliance_rate(before, frame=None, sampled=None, min_n=min_n)
    now = compliance_rate(after, frame=None, sampled=None, min_n=min_n)
    return ComplianceChange(
        up=ways[WAY_UP],
        same=ways[WAY_SAME],
        down=ways[WAY_DOWN],
        not_compared=not_compared,
        before=was,
        after=now,
        difference=compare(now, was),
    )


def cycle_follow_ups(groups: Iterable[PairGroup], titles: dict[int, str]) -> list[CycleFollowUp]:
    """Follow-ups and their earlier audits' recommendations per earlier cycle (titles by cycle id): oldest cycle
    first, audits outside any cycle last."""
    sums: dict[int | None, list[int]] = {}
    for g in groups:
        total = sums.setdefault(g.cycle_id, [0, 0, 0, 0])
        for i, n in enumerate((g.pairs, g.raised, g.closed_before, g.closed)):
            total[i] += n
    found = [
        CycleFollowUp(
            cycle_id=cycle_id,
            title=titles.get(cycle_id, f"Cycle {cycle_id}") if cycle_id is not None else NO_CYCLE,
            follow_ups=pairs,
            raised=raised,
            closed_before=before,
            closed_later=closed - before,
        )
        for cycle_id, (pairs, raised, before, closed) in sums.items()
    ]
    return sorted(found, key=lambda c: (c.cycle_id is None, c.cycle_id or 0))


def fold(groups: list[PairGroup], titles: dict[int, str] | None = None, *, min_n: int = DEFAULT_MIN_N) -> ImpactReport:
    """The section from the database's groups of pairs (and the earlier cycles' titles): no database."""
    return ImpactReport(
        pairs=sum(g.pairs for g in groups),
        grades=grade_change(groups),
        compliance=compliance_change(groups, min_n=min_n),
        cycles=cycle_follow_ups(groups, titles or {}),
    )


# --- Queries --------------------------------------------------------------------------------------------------------


def _followed(flt: ReportFilter, zone: str) -> Any:
    """A CTE of (later_id, earlier_id): every selected audit of a case audited more than once, with its case's latest
    audit completed before it (completed at the same moment: the lower id first), earlier_id NULL when there is
    none. Materialized, so the
    correlated subquery runs once per selected audit however often the statement refers to its result."""
    earlier = aliased(Audit)
    before = or_(
        earlier.completed_at < Audit.completed_at,
        and_(earlier.completed_at == Audit.completed_at, earlier.id < Audit.id),
    )
    predecessor = (
        select(earlier.id)
        .where(
            earlier.case_id == Audit.case_id,
            earlier.status == workflow.COMPLETED,
            earlier.completed_at.is_not(None),
            before,
        )
        .order_by(earlier.completed_at.desc(), earlier.id.desc())
        .limit(1)
        .correlate(Audit)
        .scalar_subquery()
    )
    # Only a case with more than one audit can have a follow-up: counted from the case_id index alone, this spares
    # the subquery for the (usual) audits of cases audited once.
    other = aliased(Audit)
    repeated = select(other.case_id).group_by(other.case_id).having(func.count() > 1)
    return (
        selected_audits(flt, zone, Audit.id.label("later_id"), predecessor.label("earlier_id"))
        .where(Audit.case_id.in_(repeated))
        .cte("followed")
        .prefix_with("MATERIALIZED")
    )


def _answered(code: Any, letter: str) -> Any:
    """How many times `letter` occurs in the compliance code `code` (0 when there is no code): portable SQL."""
    return func.coalesce(func.length(code) - func.length(func.replace(code, letter, "")), 0)


def _pairs(followed: Any) -> Any:
    """A CTE with one row per follow-up pair: the two grades, the earlier audit's cycle, each audit's yes and no
    answers (from its compliance code), the recommendations raised from the earlier audit and how many of them
    were closed before the later one was started and by now, and the two ids when either audit has no code.
    Materialized, so each count is worked out once (the grouping query refers to them several times)."""
    earlier, later = aliased(Audit), aliased(Audit)
    uncoded = or_(earlier.compliance_answers.is_(None), later.compliance_answers.is_(None))
    raised = Recommendation.audit_id == followed.c.earlier_id
    closed = and_(raised, Recommendation.status == rules.CLOSED)

    def recommendations(*conditions: Any) -> Any:
        return select(func.count()).select_from(Recommendation).where(*conditions).scalar_subquery()

    return (
        select(
            earlier.final_grade.label("earlier_grade"),
            later.final_grade.label("later_grade"),
            earlier.cycle_id.label("cycle_id"),
            _answered(earlier.compliance_answers, CODE_YES).label("yes_was"),
            _answered(earlier.compliance_answers, CODE_NO).label("no_was"),
            _answered(later.compliance_answers, CODE_YES).label("yes_now"),
            _answered(later.compliance_answers, CODE_NO).label("no_now"),
            case((uncoded, earlier.id), else_=None).label("uncoded_earlier"),
            case((uncoded, later.id), else_=None).label("uncoded_later"),
            recommendations(raised).label("raised"),
            recommendations(closed, Recommendation.closed_at < later.created_at).label("closed_before"),
            recommendations(closed).label("closed"),
        )
        .select_from(followed)
        .join(earlier, earlier.id == followed.c.earlier_id)
        .join(later, later.id == followed.c.later_id)
        .cte("pairs")
        .prefix_with("MATERIALIZED")
    )


def _pair_statement(flt: ReportFilter, zone: str) -> Any:
    """SELECT the pairs grouped by grade before, grade after, compliance move, earlier cycle (and, for a pair with
    an audit without a compliance code, the two ids), with their pairs, answers and recommendations summed."""
    pairs = _pairs(_followed(flt, zone))
    yes_was, no_was, yes_now, no_now = pairs.c.yes_was, pairs.c.no_was, pairs.c.yes_now, pairs.c.no_now
    n_was, n_now = yes_was + no_was, yes_now + no_now
    way = case(
        (or_(n_was == 0, n_now == 0), None),
        (yes_now * n_was > yes_was * n_now, WAY_UP),
        (yes_now * n_was < yes_was * n_now, WAY_DOWN),
        else_=WAY_SAME,
    )
    moved = select(pairs, way.label("way")).subquery("moved")
    # Grouped outside the subquery: PostgreSQL would not match a CASE with bound values in GROUP BY to the select's.
    keys = (
        moved.c.earlier_grade,
        moved.c.later_grade,
        moved.c.way,
        moved.c.cycle_id,
        moved.c.uncoded_earlier,
        moved.c.uncoded_later,
    )
    sums = [
        func.sum(moved.c[name])
        for name in ("yes_was", "no_was", "yes_now", "no_now", "raised", "closed_before", "closed")
    ]
    # How the answers fall into audits, for the intervals (`stats.Spread`): audits answering, Σy², Σy·n, Σn².
    spreads = []
    for yes, no in ((moved.c.yes_was, moved.c.no_was), (moved.c.yes_now, moved.c.no_now)):
        n = yes + no
        spreads += [func.sum(case((n > 0, 1), else_=0)), func.sum(yes * yes), func.sum(yes * n), func.sum(n * n)]
    return select(*keys, func.count(), *sums, *spreads).group_by(*keys)


def _pair_groups(session: Session, flt: ReportFilter, zone: str) -> list[PairGroup]:
    """The pairs grouped by grade before, grade after, compliance move and earlier cycle: one statement. A pair with
    an audit completed without a compliance code (none should be: completion and its migration write it) is its own
    group, named by its two audits' ids, and its answers are read here."""
    rows = session.execute(_pair_statement(flt, zone)).all()
    groups, uncoded = [], []
    for e, lt, w, cycle_id, earlier_id, later_id, n, yw, nw, yn, nn, raised, before, closed, *spread in rows:
        was, now = (tuple(int(v) for v in spread[i : i + 4]) for i in (0, 4))
        found = PairGroup(
            earlier_grade=e,
            later_grade=lt,
            way=w,
            pairs=n,
            before=Counts(int(yw), int(nw), 0, *was),
            after=Counts(int(yn), int(nn), 0, *now),
            cycle_id=cycle_id,
            raised=int(raised),
            closed_before=int(before),
            closed=int(closed),
        )
        if earlier_id is None:
            groups.append(found)
        else:
            uncoded.append((found, earlier_id, later_id))
    if uncoded:
        codes = _codes(session, {i for _, earlier_id, later_id in uncoded for i in (earlier_id, later_id)})
        for found, earlier_id, later_id in uncoded:
            before_counts, after_counts = code_counts(codes[earlier_id]), code_counts(codes[later_id])
            groups.append(
                replace(found, way=way_of(before_counts, after_counts), before=before_counts, after=after_counts)
            )
    return groups


def _codes(session: Session, ids: set[int]) -> dict[int, str]:
    """The compliance codes of these audits, worked out from their answers where the audit has none."""
    rows = session.execute(
        select(Audit.id, Audit.template_version_id, Audit.compliance_answers).where(Audit.id.in_(sorted(ids)))
    ).all()
    missing = [(i, v) for i, v, code in rows if code is None]
    worked_out: dict[int, str] = {}
    if missing:
        definitions = version_definitions(session, {v for _, v in missing})
        worked_out = codes_from_answers(session, missing, definitions)
    return {i: code if code is not None else worked_out[i] for i, _, code in rows}


def impact_report(session: Session, flt: ReportFilter, zone: str, *, min_n: int = DEFAULT_MIN_N) -> ImpactReport:
    """The Impact section for the selection `flt` (scope included): one grouped statement over the follow-up
    pairs, and the earlier cycles' titles."""
    groups = _pair_groups(session, flt, zone)
    wanted = sorted({g.cycle_id for g in groups if g.cycle_id is not None})
    titles = dict(session.execute(select(Cycle.id, Cycle.title).where(Cycle.id.in_(wanted))).all()) if wanted else {}
    return fold(groups, titles, min_n=min_n)
