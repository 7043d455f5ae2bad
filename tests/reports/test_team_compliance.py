"""Compliance by team: counted from the audits' codes, ranked (teams with too few answers never), and each team
compared with the other teams together only by non-overlapping intervals."""

from __future__ import annotations

from app.reports.figures import (
    Counts,
    TeamCompliance,
    monthly_coded_audits,
    team_compliance,
)
from app.reports.report import team_rows
from app.reports.stats import Difference
from tests.reports.conftest import ZONE
from tests.reports.test_figures import flt_for


def test_team_compliance_counts_every_compliance_answer_of_each_team(db, rw):
    # North: a1 yes yes, a2 no yes, a5 no + N/A; South: a3 yes no; Care: a4 N/A, a6 yes yes (its code worked out
    # from its answers). Facts and the safeguarding question do not count; a7 and a8 are not in the selection.
    found = team_compliance(db, flt_for(rw.lead), ZONE)
    # Each team's counts carry how its answers fall into audits (audits answering, Σyes², Σyes·n, Σn²), for the
    # interval: North's audits answered (yes, yes or no) (2, 2), (1, 2) and (0, 1).
    assert [(t.name, t.counts) for t in found] == [
        ("Care", Counts(yes=2, no=0, na=1, audits=1, yy=4, yn=4, nn=4)),
        ("North", Counts(yes=3, no=2, na=1, audits=3, yy=5, yn=6, nn=9)),
        ("South", Counts(yes=1, no=1, audits=1, yy=1, yn=2, nn=4)),
    ]


def test_the_codes_read_once_for_the_page_give_the_same_teams(db, rw):
    flt = flt_for(rw.lead)
    assert team_compliance(db, flt, ZONE, monthly_coded_audits(db, flt, ZONE)) == team_compliance(db, flt, ZONE)


def test_a_head_of_service_sees_only_their_areas_teams(db, rw):
    assert [t.name for t in team_compliance(db, flt_for(rw.hos), ZONE)] == ["North", "South"]


def team(name: str, yes: int, no: int) -> TeamCompliance:
    return TeamCompliance(id=len(name), name=name, counts=Counts(yes=yes, no=no))


def test_teams_are_ranked_and_compared_with_the_rest_only_when_the_intervals_do_not_overlap():
    rows = team_rows([team("Low", 50, 50), team("High", 95, 5), team("Middle", 70, 30), team("Tiny", 4, 1)], min_n=10)
    assert [(r.name, r.rank) for r in rows] == [("High", 1), ("Middle", 2), ("Low", 3), ("Tiny", None)]
    by_name = {r.name: r for r in rows}
    # High 95% [89-98%] against the rest 124/185 = 67%: higher. Low 50% against the rest 169/205: lower.
    assert by_name["High"].against_rest is Difference.HIGHER
    assert by_name["Low"].against_rest is Difference.LOWER
    # Middle 70% [61-78%] against the rest 149/205 = 73% [66-78%]: the intervals overlap.
    assert by_name["Middle"].against_rest is Difference.NO_CLEAR_DIFFERENCE
    assert by_name["Middle"].against_rest_text == "No clear difference"
    # Tiny has 5 answers: too few to judge, never ranked, and no claim about it.
    assert by_name["Tiny"].against_rest is Difference.CANNOT_TELL and by_name["Tiny"].note == "too few to judge"


def test_a_lone_team_cannot_be_compared_with_anyone():
    (row,) = team_rows([team("Only", 90, 10)], min_n=10)
    assert row.rank == 1 and row.against_rest is Difference.CANNOT_TELL


def test_the_reports_page_shows_the_teams_unranked_when_each_has_too_few(client, rw):
    from tests.reports.test_pages import get, table

    response = get(client, rw.lead)
    teams = table(response.text, "compliance-teams")
    assert "Not ranked Care 2 0 100%" in teams and "Not ranked North 3 2 60%" in teams
    assert "Cannot tell" in teams and "too few to judge" in teams


def test_the_single_read_gives_the_same_figures_as_the_grouped_queries(db, rw):
    from app.reports.figures import compliance, grade_distribution, monthly_trend

    for user in (rw.lead, rw.hos):
        for params in ({}, {"cycle": str(rw.cycle_a.id)}):  # cycle A is one sample: the frame is found
            flt = flt_for(user, **params)
            coded = monthly_coded_audits(db, flt, ZONE)
            assert grade_distribution(db, flt, ZONE, coded) == grade_distribution(db, flt, ZONE)
            assert compliance(db, flt, ZONE, coded) == compliance(db, flt, ZONE)
            assert monthly_trend(db, flt, ZONE, coded) == monthly_trend(db, flt, ZONE)
    assert (
        compliance(
            db,
            flt_for(rw.lead, cycle=str(rw.cycle_a.id)),
            ZONE,
            monthly_coded_audits(db, flt_for(rw.lead, cycle=str(rw.cycle_a.id)), ZONE),
        ).frame_size
        == 400
    )


def test_the_concatenated_codes_count_as_the_audits_one_by_one(db, rw):
    from app.reports.figures import _coded_audit_by_audit, coded_audits, trend_months

    flt = flt_for(rw.lead, cycle=str(rw.cycle_a.id))  # a1 to a3: all with codes, so the database concatenates
    month = trend_months(flt, ZONE)[1]
    grouped = coded_audits(db, flt, ZONE, month)
    assert sum(b.audits for b in grouped.blocks) == 3 and any(
        b.audits > 1 or len(grouped.blocks) == 3 for b in grouped.blocks
    )
    one_by_one = _coded_audit_by_audit(db, flt, ZONE, (month,), (), grouped.definitions)
    assert [b.audits for b in one_by_one.blocks] == [1, 1, 1]
    assert grouped.tallied == one_by_one.tallied
    everything = coded_audits(db, flt_for(rw.lead), ZONE)  # a6 has no code: read audit by audit
    assert all(b.audits == 1 for b in everything.blocks) and len(everything.blocks) == 6
