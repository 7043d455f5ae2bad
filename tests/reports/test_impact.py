"""The Impact section (issue 8): follow-up pairs of audits of the same case, the change in grade and compliance
between them, and whether the earlier audits' recommendations were closed before the follow-up was started.

The world is conftest.py's `rw` with follow-up audits of some of its cases (started through the services on the
same case, then completed as rows like the others), and recommendations raised from the earlier audits:

    follow-up  of (area)  template  cycle  started      completed    grade (earlier -> follow-up)     compliance
    f1         a1 North   CFA       C      06-01 09:00  06-05 12:00  good -> outstanding (improved)   2/2 -> 2/2 (same)
    f2         a2 North   CFA       C      06-01 09:00  06-06 12:00  RI -> good (improved)            1/2 -> 2/2 (up)
    f3         a3 South   CFA       C      06-02 09:00  06-08 12:00  outstanding -> outst. (same)     1/2 -> 1/2 (same)
    f4         a4 Care    CFA       C      06-01 09:00  06-07 12:00  inadequate -> RI (improved)      0/0 -> 1/1 (-)
    f5         a8 (2025)  CFA       -      06-01 09:00  06-09 12:00  good -> inadequate (worse)       0/1 -> 1/1 (up)
    f6         f1 North   DIP       -      06-09 09:00  06-10 12:00  outstanding -> - (not compared)  2/2 -> 1/2 (down)
    f7         a7 North   CFA       -      06-01 09:00  06-11 12:00  a7 was never completed: f7 is no follow-up
    (times are UTC in 2026; compliance is yes / (yes + no); "-": no rate to compare)

    recommendation  from  status     closed (UTC)      the follow-up started  counted as
    r1              a1    closed     2026-05-01 12:00  2026-06-01 09:00       closed before
    r2              a1    closed     2026-06-03 12:00  2026-06-01 09:00       closed later
    r3              a2    open       -                                        outstanding
    r4              a3    closed     2026-06-02 08:00  2026-06-02 09:00       closed before (an hour before)
    r5              a4    completed  -                                        outstanding (completed is not closed)
    r6              a8    closed     2025-03-01 12:00  2026-06-01 09:00       closed before
    r9              f1    closed     2026-06-09 10:00  2026-06-09 09:00       closed later (f1 is f6's earlier audit)
    never counted: r7 (a thematic finding of cycle A: no audit), r8 (from a5, never followed up)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.dialects import postgresql

from app.audits import selectors as audit_selectors
from app.audits.models import Audit
from app.cases.models import Case
from app.flows import audits as audit_flows
from app.recommendations.models import Recommendation
from app.reports.figures import Counts
from app.reports.filters import report_filter_from_query
from app.reports.impact import (
    NO_CYCLE,
    WAY_DOWN,
    WAY_SAME,
    WAY_UP,
    CycleFollowUp,
    PairGroup,
    _followed,
    _pair_statement,
    code_counts,
    compliance_change,
    cycle_follow_ups,
    fold,
    grade_change,
    impact_report,
    way_of,
)
from app.reports.stats import Difference, Spread, clustered_rate, rate
from app.sampling.models import Cycle
from tests.factories import login, make_audit
from tests.reports.conftest import CFA, DIP, TODAY, ZONE, ReportWorld, at

RI = "requires_improvement"


@dataclass
class ImpactWorld:
    rw: ReportWorld
    cycle_c: Cycle
    audits: dict[str, Audit]  # rw's audits and the follow-ups
    recommendations: dict[str, Recommendation]


def follow_up(
    db,
    rw: ReportWorld,
    earlier: Audit,
    *,
    template: str,
    started: str,
    completed: str,
    grade: str | None,
    answers: dict[str, str],
    cycle: Cycle | None = None,
) -> Audit:
    """A later audit of `earlier`'s case, started and answered through the services, then completed as a row."""
    case = db.get(Case, earlier.case_id)
    audit = make_audit(db, case=case, auditor=rw.auditor, template_key=template, today=TODAY)
    audit_flows.audit_answers_save(db, audit=audit, version=audit.version, answers=answers, actor=rw.auditor)
    audit.status, audit.final_grade = "completed", grade
    audit.created_at, audit.completed_at = at(started), at(completed)
    audit.compliance_answers = audit_selectors.audit_compliance_code(db, audit)
    audit.cycle_id = cycle.id if cycle else None
    db.add(audit)
    db.flush()
    return audit


def recommendation(
    db,
    rw: ReportWorld,
    audit: Audit | None,
    *,
    status: str = "open",
    closed: str | None = None,
    cycle: Cycle | None = None,
) -> Recommendation:
    item = Recommendation(
        text="Update the chronology",
        audit_id=audit.id if audit else None,
        case_id=audit.case_id if audit else None,
        cycle_id=cycle.id if cycle else None,
        owner_id=rw.auditor.id,
        priority="medium",
        due_date=date(2026, 7, 1),
        status=status,
        raised_by_id=rw.lead.id,
        raised_at=at("2026-03-01 12:00"),
        evidence="Done" if status in ("completed", "closed") else "",
        closed_at=at(closed) if closed else None,
        closed_by_id=rw.lead.id if status == "closed" else None,
    )
    db.add(item)
    db.flush()
    return item


@pytest.fixture
def iw(db, rw) -> ImpactWorld:
    cycle_c = Cycle(
        title="Summer follow-up",
        kind="deep_dive",
        template_key=CFA,
        template_version=1,
        due_date=date(2026, 7, 31),
        moderation_rate=0.0,
    )
    db.add(cycle_c)
    db.flush()
    a = rw.audits
    both = {"chronology_up_to_date": "yes", "genogram_on_file": "yes"}
    f1 = follow_up(
        db,
        rw,
        a["a1"],
        template=CFA,
        started="2026-06-01 09:00",
        completed="2026-06-05 12:00",
        grade="outstanding",
        answers=both,
        cycle=cycle_c,
    )
    f2 = follow_up(
        db,
        rw,
        a["a2"],
        template=CFA,
        started="2026-06-01 09:00",
        completed="2026-06-06 12:00",
        grade="good",
        answers=both,
        cycle=cycle_c,
    )
    f3 = follow_up(
        db,
        rw,
        a["a3"],
        template=CFA,
        started="2026-06-02 09:00",
        completed="2026-06-08 12:00",
        grade="outstanding",
        answers={"chronology_up_to_date": "yes", "genogram_on_file": "no"},
        cycle=cycle_c,
    )
    f4 = follow_up(
        db,
        rw,
        a["a4"],
        template=CFA,
        started="2026-06-01 09:00",
        completed="2026-06-07 12:00",
        grade=RI,
        answers={"chronology_up_to_date": "yes"},
        cycle=cycle_c,
    )
    f5 = follow_up(
        db,
        rw,
        a["a8"],
        template=CFA,
        started="2026-06-01 09:00",
        completed="2026-06-09 12:00",
        grade="inadequate",
        answers={"chronology_up_to_date": "yes"},
    )
    f6 = follow_up(
        db,
        rw,
        f1,
        template=DIP,
        started="2026-06-09 09:00",
        completed="2026-06-10 12:00",
        grade=None,
        answers={"chronology_up_to_date": "no", "oversight_last_month": "yes"},
    )
    f7 = follow_up(
        db,
        rw,
        a["a7"],
        template=CFA,
        started="2026-06-01 09:00",
        completed="2026-06-11 12:00",
        grade="good",
        answers={"chronology_up_to_date": "yes"},
    )
    recs = {
        "r1": recommendation(db, rw, a["a1"], status="closed", closed="2026-05-01 12:00"),
        "r2": recommendation(db, rw, a["a1"], status="closed", closed="2026-06-03 12:00"),
        "r3": recommendation(db, rw, a["a2"]),
        "r4": recommendation(db, rw, a["a3"], status="closed", closed="2026-06-02 08:00"),
        "r5": recommendation(db, rw, a["a4"], status="completed"),
        "r6": recommendation(db, rw, a["a8"], status="closed", closed="2025-03-01 12:00"),
        "r7": recommendation(db, rw, None, cycle=rw.cycle_a),
        "r8": recommendation(db, rw, a["a5"], status="closed", closed="2026-06-01 08:00"),
        "r9": recommendation(db, rw, f1, status="closed", closed="2026-06-09 10:00"),
    }
    audits = {**a, "f1": f1, "f2": f2, "f3": f3, "f4": f4, "f5": f5, "f6": f6, "f7": f7}
    return ImpactWorld(rw=rw, cycle_c=cycle_c, audits=audits, recommendations=recs)


def impact_for(db, user, **params: str):
    return impact_report(db, report_filter_from_query(params, user=user, today=TODAY), ZONE)


def cycles(report) -> list[tuple[str, int, int, int, int, int]]:
    """(title, follow-ups, raised, closed before, not closed before, still outstanding) per earlier cycle."""
    return [
        (c.title, c.follow_ups, c.raised, c.closed_before, c.not_closed_before, c.outstanding) for c in report.cycles
    ]


# --- Folding (pure) ---------------------------------------------------------------------------------------------


def group(
    before_grade,
    after_grade,
    way,
    pairs=1,
    before=(0, 0),
    after=(0, 0),
) -> PairGroup:
    return PairGroup(
        earlier_grade=before_grade,
        later_grade=after_grade,
        way=way,
        pairs=pairs,
        before=Counts(*before),
        after=Counts(*after),
    )


def test_a_pairs_compliance_move_compares_the_two_rates_exactly():
    assert way_of(Counts(1, 2), Counts(2, 4)) == WAY_SAME  # 1/3 and 2/6
    assert way_of(Counts(1, 2), Counts(3, 4)) == WAY_UP  # 1/3 -> 3/7
    assert way_of(Counts(2, 0), Counts(1, 1)) == WAY_DOWN
    assert way_of(Counts(0, 0, 3), Counts(1, 0)) is None  # N/A only: no rate before
    assert way_of(Counts(1, 0), Counts()) is None
    assert code_counts("yyna-n") == Counts(yes=2, no=2, na=1, audits=1, yy=4, yn=8, nn=16)


def test_grade_change_counts_moves_on_the_scale_and_leaves_out_ungraded_pairs():
    found = grade_change(
        [
            group("good", "outstanding", None, 2),
            group(RI, "good", None),
            group("good", "good", None, 3),
            group("outstanding", "inadequate", None),
            group("good", None, None, 4),
            group(None, None, None),
            group("good", "excellent", None),
        ]
    )
    assert (found.improved, found.same, found.worse, found.not_compared, found.compared) == (3, 3, 1, 6, 7)
    assert found.cell("good", "outstanding") == 2 and found.cell("outstanding", "good") == 0
    assert found.rows()[1] == ("good", [2, 3, 0, 0], 5)  # earlier Good: 2 to Outstanding, 3 stayed Good
    assert [total for *_, total in found.rows()] == [1, 5, 1, 0]


def test_compliance_change_pools_only_the_pairs_with_a_rate_on_both_sides():
    found = compliance_change(
        [
            group(None, None, WAY_UP, 3, before=(30, 30), after=(50, 10)),
            group(None, None, WAY_SAME, 1, before=(5, 5), after=(5, 5)),
            group(None, None, WAY_DOWN, 1, before=(5, 0), after=(4, 1)),
            group(None, None, None, 2, before=(0, 0), after=(9, 0)),
        ]
    )
    assert (found.up, found.same, found.down, found.not_compared, found.compared) == (3, 1, 1, 2, 5)
    assert (found.before.yes, found.before.n, found.after.yes, found.after.n) == (40, 75, 59, 75)
    assert found.before == rate(40, 35) and found.after == rate(59, 16)
    assert found.difference is Difference.HIGHER  # 53% (42-64%) against 79% (68-86%): no overlap
    assert found.difference_text.startswith("Higher after the follow-up")
    close = compliance_change([group(None, None, WAY_UP, 1, before=(10, 10), after=(12, 8))])
    assert close.difference is Difference.NO_CLEAR_DIFFERENCE
    few = compliance_change([group(None, None, WAY_UP, 1, before=(1, 1), after=(2, 0))])
    assert few.difference is Difference.CANNOT_TELL and few.before.too_few
    assert (
        compliance_change([group(None, None, WAY_UP, 1, before=(1, 1), after=(2, 0))], min_n=2).difference
        is Difference.NO_CLEAR_DIFFERENCE
    )


def test_cycles_fold_with_titles_oldest_cycle_first_and_no_cycle_last():
    def at_cycle(cycle_id, pairs, raised, before, closed):
        return PairGroup(
            earlier_grade="good",
            later_grade="good",
            way=WAY_SAME,
            pairs=pairs,
            before=Counts(1, 1),
            after=Counts(1, 1),
            cycle_id=cycle_id,
            raised=raised,
            closed_before=before,
            closed=closed,
        )

    groups = [at_cycle(None, 2, 3, 1, 2), at_cycle(7, 1, 0, 0, 0), at_cycle(3, 3, 4, 2, 3), at_cycle(3, 1, 1, 0, 1)]
    found = cycle_follow_ups(groups, {3: "Spring", 7: "Summer"})
    assert found == [
        CycleFollowUp(3, "Spring", 4, 5, 2, 2),
        CycleFollowUp(7, "Summer", 1, 0, 0, 0),
        CycleFollowUp(None, NO_CYCLE, 2, 3, 1, 1),
    ]
    assert (found[0].not_closed_before, found[0].outstanding) == (3, 1)
    assert cycle_follow_ups([at_cycle(9, 1, 0, 0, 0)], {})[0].title == "Cycle 9"  # no title found
    report = fold(groups, {3: "Spring", 7: "Summer"})
    assert (report.pairs, report.raised, report.closed_before, report.empty) == (7, 8, 3, False)
    assert report.cycles == found and report.grades.same == 7 and report.compliance.same == 7
    assert fold([]).empty and fold([]).cycles == []


# --- Against the hand-built world --------------------------------------------------------------------------------


def test_follow_up_pairs_for_the_qa_lead(db, iw):
    found = impact_for(db, iw.rw.lead)
    # f1..f6 each follow an earlier completed audit of their case (a8's, in 2025, before the period, still
    # counts); f7 follows a7, which was never completed; a1..a6 have no earlier audit.
    assert found.pairs == 6
    g = found.grades
    assert (g.improved, g.same, g.worse, g.not_compared) == (3, 1, 1, 1)
    assert g.matrix == {
        ("good", "outstanding"): 1,
        (RI, "good"): 1,
        ("outstanding", "outstanding"): 1,
        ("inadequate", RI): 1,
        ("good", "inadequate"): 1,
    }
    c = found.compliance
    assert (c.up, c.same, c.down, c.not_compared) == (2, 2, 1, 1)
    # Earlier: a1 2/2, a2 1/2, a3 1/2, a8 0/1, f1 2/2; follow-ups: f1 2/2, f2 2/2, f3 1/2, f5 1/1, f6 1/2. Each
    # side's interval allows for the answers coming in five audits (Σyes², Σyes·n, Σn² over them).
    assert c.before == clustered_rate(6, 3, Spread(audits=5, yy=10, yn=12, nn=17))
    assert c.after == clustered_rate(7, 2, Spread(audits=5, yy=11, yn=13, nn=17))
    assert c.before.interval and c.before.interval.low < rate(6, 3).interval.low  # wider than independent answers
    assert c.difference is Difference.CANNOT_TELL  # 9 answers each: fewer than 10 are too few to judge
    assert cycles(found) == [
        ("Spring deep dive", 3, 4, 2, 2, 1),  # a1 (r1 before, r2 later), a2 (r3 open), a3 (r4 an hour before)
        ("May dip sample", 1, 1, 0, 1, 1),  # a4: r5 completed, not closed
        ("Summer follow-up", 1, 1, 0, 1, 0),  # f1, followed by f6: r9 closed an hour after f6 was started
        (NO_CYCLE, 1, 1, 1, 0, 0),  # a8 (2025): r6
    ]


def test_a_head_of_service_never_sees_another_areas_follow_ups(db, iw):
    found = impact_for(db, iw.rw.hos, service_area=str(iw.rw.care.service_area_id))
    # Safeguarding only: a4 -> f4 (Children in care) is left out, whatever the head of service asks for.
    assert found.pairs == 5
    assert (found.grades.improved, found.grades.same, found.grades.worse, found.grades.not_compared) == (2, 1, 1, 1)
    assert (found.compliance.up, found.compliance.same, found.compliance.down) == (2, 2, 1)
    assert [c[0] for c in cycles(found)] == ["Spring deep dive", "Summer follow-up", NO_CYCLE]


def test_filters_narrow_the_follow_ups_not_their_earlier_audits(db, iw):
    in_c = impact_for(db, iw.rw.lead, cycle=str(iw.cycle_c.id))  # f1..f4; their earlier audits are in A and B
    assert in_c.pairs == 4
    assert (in_c.grades.improved, in_c.grades.same, in_c.grades.worse) == (3, 1, 0)
    assert cycles(in_c) == [("Spring deep dive", 3, 4, 2, 2, 1), ("May dip sample", 1, 1, 0, 1, 1)]
    # From 9 June: f5 (of a8, completed in 2025) and f6 (of f1, completed before the period); f7 is no pair.
    late = impact_for(db, iw.rw.lead, date_from="2026-06-09")
    assert late.pairs == 2
    assert (late.grades.worse, late.grades.not_compared) == (1, 1)
    assert (late.compliance.up, late.compliance.down) == (1, 1)
    # Earlier a8 0/1 and f1 2/2; follow-ups f5 1/1 and f6 1/2.
    assert late.compliance.before == clustered_rate(2, 1, Spread(audits=2, yy=4, yn=4, nn=5))
    assert late.compliance.after == clustered_rate(2, 1, Spread(audits=2, yy=2, yn=3, nn=5))
    dip = impact_for(db, iw.rw.lead, template=DIP)  # f6 (a dip sample) following f1 (a case file audit)
    assert dip.pairs == 1 and dip.grades.compared == 0 and dip.compliance.down == 1
    none = impact_for(db, iw.rw.lead, date_from="2026-01-01", date_to="2026-05-31")  # a1..a5: first audits
    assert none.empty and none.cycles == [] and none.compliance.before.n == 0


def test_the_latest_earlier_audit_is_the_one_compared(db, iw):
    """a1 -> f1 -> f6: f6 is compared with f1, not a1; an audit completed after the follow-up is not its predecessor."""
    zone_flt = report_filter_from_query(
        {"template": DIP, "date_from": "2026-06-10", "date_to": "2026-06-10"}, user=iw.rw.lead, today=TODAY
    )
    followed = _followed(zone_flt, ZONE)
    rows = db.execute(followed.select()).all()
    assert [(row.later_id, row.earlier_id) for row in rows] == [(iw.audits["f6"].id, iw.audits["f1"].id)]
    first = report_filter_from_query({"date_from": "2026-03-10", "date_to": "2026-03-10"}, user=iw.rw.lead, today=TODAY)
    assert [tuple(r) for r in db.execute(_followed(first, ZONE).select()).all()] == [(iw.audits["a1"].id, None)]


def test_an_audit_without_a_compliance_code_has_it_worked_out_from_its_answers(db, iw):
    f2 = iw.audits["f2"]
    f2.compliance_answers = None  # as if completed before codes were written
    db.add(f2)
    db.flush()
    found = impact_for(db, iw.rw.lead)
    assert found.pairs == 6
    assert (found.compliance.up, found.compliance.same, found.compliance.down) == (2, 2, 1)
    assert found.compliance.before == clustered_rate(6, 3, Spread(audits=5, yy=10, yn=12, nn=17))
    assert found.compliance.after == clustered_rate(7, 2, Spread(audits=5, yy=11, yn=13, nn=17))
    assert (found.grades.improved, found.grades.same, found.grades.worse) == (3, 1, 1)


def test_the_statement_compiles_for_postgresql(iw):
    """The SQLite run executes it; PostgreSQL gets the same portable SQL (MATERIALIZED needs PostgreSQL 12)."""
    flt = report_filter_from_query({}, user=iw.rw.lead, today=TODAY)
    sql = str(_pair_statement(flt, ZONE).compile(dialect=postgresql.dialect()))
    assert sql.count("AS MATERIALIZED") == 2 and "LIMIT" in sql and "GROUP BY" in sql
    assert "jsonb" not in sql.lower()  # compliance comes from the codes, not JSON answers


# --- The page -----------------------------------------------------------------------------------------------------


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def table(html: str, table_id: str) -> str:
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.DOTALL)
    assert found, f"no table {table_id}"
    return text_of(found.group(0))


def test_the_page_shows_the_impact_section(client, iw):
    login(client, iw.rw.lead.username)
    response = client.get("/reports", params={"date_from": "2026-01-01", "date_to": "2026-06-30"})
    assert response.status_code == 200
    html = response.text
    assert 'id="impact"' in html and "6 follow-up audits in this selection" in text_of(html)
    assert table(html, "impact-grades").startswith("5 follow-ups with an overall grade on both audits")
    assert "Improved 3 Same grade 1 Worse 1 No overall grade on one of the audits 1" in table(html, "impact-grades")
    assert "Good 1 0 0 1 2" in table(html, "impact-grade-moves")  # earlier Good: to Outstanding, to Inadequate
    assert "Higher 2 The same 2 Lower 1" in table(html, "impact-compliance-moves")
    compliance = table(html, "impact-compliance")
    assert "Cannot tell: too few answers to judge" in compliance
    assert "Earlier audits 6 3 67%" in compliance and "Follow-ups 7 2 78%" in compliance
    recs = table(html, "impact-recommendations")
    assert recs.startswith("3 recommendations of 7 closed before the follow-up")
    assert "Spring deep dive 3 4 2 2 1" in recs and f"{NO_CYCLE} 1 1 1 0 0" in recs
    section = html.split('id="impact"', 1)[1].split("<h2", 1)[0]
    assert " None " not in text_of(section) and "Undefined" not in section


def test_the_page_says_when_no_case_was_audited_before(client, iw):
    login(client, iw.rw.lead.username)
    response = client.get("/reports", params={"date_from": "2026-01-01", "date_to": "2026-05-31"})
    assert response.status_code == 200
    assert 'id="impact-none"' in response.text
    assert "No case in this selection was audited before" in text_of(response.text)
    assert 'id="impact-recommendations"' not in response.text
