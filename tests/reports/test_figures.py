"""Report figures checked against the hand-built audits of conftest.py: grades (moderated grades taking
precedence), moderation changes, compliance per question and section, the monthly trend at a time-zone boundary,
every filter, and scope (a head of service never sees another area)."""

from __future__ import annotations

from datetime import date

import pytest

from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_templates.scoring import compliance_code
from app.errors import PermissionDenied
from app.moderation import service as moderation_service
from app.reports.figures import (
    Counts,
    compliance,
    direction,
    grade_distribution,
    moderation_changes,
    monthly_trend,
    months_between,
)
from app.reports.filters import ReportFilter, report_filter_from_query
from tests.conftest import TEST_NOW
from tests.factories import make_user
from tests.moderation.conftest import new_audit, submit
from tests.reports.conftest import CFA, DIP, FRAME_SIZE, TODAY, ZONE

G = ("outstanding", "good", "requires_improvement", "inadequate")


def grades(tally) -> tuple[int, ...]:
    """(outstanding, good, requires improvement, inadequate, ungraded)."""
    return (*(tally.counts[g] for g in G), tally.ungraded)


def flt_for(user, **params: str) -> ReportFilter:
    return report_filter_from_query(params, user=user, today=TODAY)


# --- The filter -----------------------------------------------------------------------------------------


def test_default_period_is_the_last_twelve_calendar_months(rw):
    flt = flt_for(rw.lead)
    assert (flt.date_from, flt.date_to) == (date(2025, 7, 1), TODAY)
    assert flt.errors == {} and flt.service_area_id is None and not flt.area_locked


def test_bad_values_are_named_and_dropped(rw):
    flt = flt_for(
        rw.lead,
        date_from="2026-02-30",
        date_to="soon",
        cycle="x",
        template="Not a key!",
        service_area="-1",
        team="99999999999",
        case_type="martian",
    )
    assert set(flt.errors) == {"date_from", "date_to", "cycle", "template", "service_area", "team", "case_type"}
    assert flt == ReportFilter(date_from=date(2025, 7, 1), date_to=TODAY)
    reversed_period = flt_for(rw.lead, date_from="2026-05-01", date_to="2026-04-01")
    assert "date_to" in reversed_period.errors and reversed_period.date_from == date(2025, 7, 1)


def test_good_values_round_trip_through_the_query(rw):
    params = {
        "date_from": "2026-01-01",
        "date_to": "2026-03-31",
        "cycle": str(rw.cycle_a.id),
        "template": CFA,
        "service_area": str(rw.care.service_area_id),
        "team": str(rw.care.id),
        "case_type": "cla",
    }
    flt = flt_for(rw.lead, **params)
    assert flt.errors == {} and flt.query() == params


def test_people_without_reports_are_refused(db, rw):
    with pytest.raises(PermissionDenied):
        flt_for(rw.auditor)
    no_area = make_user(db, username="hos-no-area", roles=(Role.HEAD_OF_SERVICE,))
    with pytest.raises(PermissionDenied):
        flt_for(no_area)


# --- Grades ---------------------------------------------------------------------------------------------


def test_grade_distribution_counts_final_grades_of_completed_audits_in_the_period(db, rw):
    found = grade_distribution(db, flt_for(rw.lead), ZONE)
    # a7 (not completed) and a8 (before the period) are left out; a5 and a6 (dip samples) have no overall grade.
    assert grades(found.overall) == (1, 1, 1, 1, 2)
    assert found.overall.total == 6 and found.overall.graded == 4
    assert found.overall.percent("good") == 25.0
    assert [(a.name, grades(a.grades)) for a in found.by_service_area] == [
        ("Children in care", (0, 0, 0, 1, 1)),
        ("Safeguarding", (1, 1, 1, 0, 1)),
    ]
    assert [(t.name, grades(t.grades)) for t in found.by_team] == [
        ("Care", (0, 0, 0, 1, 1)),
        ("North", (0, 1, 1, 0, 1)),
        ("South", (1, 0, 0, 0, 0)),
    ]


def test_moderated_grade_takes_precedence_through_the_real_services(db, mw):
    """An Inadequate audit is always moderated; the moderator's Requires improvement is the grade reported."""
    audit = new_audit(db, mw)
    submit(db, audit, mw.auditor, overall="inadequate", section="inadequate")
    assert audit.status == "in_moderation"
    moderation = moderation_service.latest_round(db, audit_id=audit.id)
    assert moderation.blind  # the cycle moderates blind: grade first, then decide
    _grade_and_accept(db, audit, moderation, db.get(User, moderation.moderator_id))
    today = TEST_NOW.date()
    flt = ReportFilter(date_from=today.replace(day=1), date_to=today, cycle_id=mw.cycle.id)
    zone = "UTC"
    assert grades(grade_distribution(db, flt, zone).overall) == (0, 0, 1, 0, 0)
    changes = moderation_changes(db, flt, zone)
    assert (changes.moderated, changes.up, changes.down, changes.same) == (1, 1, 0, 0)
    assert changes.moves == {("inadequate", "requires_improvement"): 1}
    db.refresh(audit)
    definition, answers = _definition_and_answers(db, audit)
    assert audit.compliance_answers == compliance_code(definition, answers)  # written on completion
    assert "y" in audit.compliance_answers


def _definition_and_answers(db, audit):
    from app.audits.selectors import audit_answers, audit_template

    return audit_template(db, audit)[1], audit_answers(db, audit=audit)


def _grade_and_accept(db, audit, moderation, moderator):
    """Blind moderation: grade first, then agree (or not) and accept."""
    definition, answers = _definition_and_answers(db, audit)
    sections = moderation_service.sections_to_grade(definition, answers)
    moderation_service.moderation_grade(
        db,
        moderation=moderation,
        audit=audit,
        section_grades={s.key: "requires_improvement" for s in sections},
        overall_grade="requires_improvement",
        version=moderation.version,
        actor=moderator,
    )
    agreement = {s.key: False for s in sections} | {"overall": False}
    moderation_service.moderation_decide(
        db,
        moderation=moderation,
        audit=audit,
        agreement=agreement,
        rationale="Better than graded",
        learning="",
        decision="accept",
        feedback="",
        version=moderation.version,
        actor=moderator,
    )


# --- Moderation changes -------------------------------------------------------------------------------


def test_moderation_changes_use_the_accepted_round_and_the_auditors_own_grade(db, rw):
    found = moderation_changes(db, flt_for(rw.lead), ZONE)
    # Only an audit's latest round counts: not a2's first (returned), nor a4's first (accepted, then the QA lead
    # added the audit to moderation again).
    assert (found.moderated, found.up, found.down, found.same, found.unknown) == (3, 1, 1, 1, 0)
    assert found.changed == 2
    assert found.moves == {
        ("good", "requires_improvement"): 1,
        ("good", "outstanding"): 1,
        ("inadequate", "inadequate"): 1,
    }


def test_direction_follows_the_grade_scale():
    assert direction("good", "outstanding") == "up"
    assert direction("good", "inadequate") == "down"
    assert direction("requires_improvement", "requires_improvement") == "same"
    assert direction(None, "good") is None and direction("good", "bogus") is None


def yes_no_na(c: Counts) -> tuple[int, int, int]:
    """Yes, no and N/A: what these tests count by hand (the per-audit sums are tested in test_interval_coverage
    and test_team_compliance)."""
    return (c.yes, c.no, c.na)


# --- Compliance ---------------------------------------------------------------------------------------


def test_compliance_counts_yes_no_and_na_per_question_and_section(db, rw):
    report = compliance(db, flt_for(rw.lead), ZONE)
    by_key = {(q.template_key, q.question_key): q for q in report.questions}
    assert yes_no_na(by_key[(CFA, "chronology_up_to_date")].counts) == (2, 1, 1)
    assert by_key[(CFA, "chronology_up_to_date")].counts.rate == 2 / 3
    assert yes_no_na(by_key[(CFA, "genogram_on_file")].counts) == (2, 1, 0)
    assert yes_no_na(by_key[(DIP, "chronology_up_to_date")].counts) == (1, 1, 0)
    assert yes_no_na(by_key[(DIP, "oversight_last_month")].counts) == (1, 0, 1)
    # Questions nobody answered are listed with no answers; facts and the safeguarding question are not listed.
    assert yes_no_na(by_key[(DIP, "supervision_within_6_weeks")].counts) == (0, 0, 0) and Counts().rate is None
    assert (CFA, "child_missing_12m") not in by_key and (DIP, "immediate_safeguarding_concern") not in by_key
    chronology = by_key[(CFA, "chronology_up_to_date")]
    assert (chronology.section_key, chronology.section_title) == ("history_chronology", "B. History and chronology")
    assert chronology.label.startswith("Is there a chronology on file")
    sections = {(s.template_key, s.section_key): s.counts for s in report.sections}
    assert yes_no_na(sections[(CFA, "history_chronology")]) == (4, 2, 1)
    assert yes_no_na(sections[(DIP, "compliance")]) == (2, 1, 1)
    # Template order: sections and questions as the form shows them.
    cfa = [q.question_key for q in report.questions if q.template_key == CFA]
    assert cfa.index("chronology_up_to_date") < cfa.index("genogram_on_file") < cfa.index("threshold_decision_right")
    assert report.audits == 6 and report.frame_size is None


def test_frame_size_is_given_only_when_the_selection_is_one_sample(db, rw):
    one_sample = compliance(db, flt_for(rw.lead, cycle=str(rw.cycle_a.id)), ZONE)
    assert (one_sample.audits, one_sample.frame_size) == (3, FRAME_SIZE)
    no_sample = compliance(db, flt_for(rw.lead, cycle=str(rw.cycle_b.id)), ZONE)
    assert (no_sample.audits, no_sample.frame_size) == (2, None)


# --- Month by month -----------------------------------------------------------------------------------


def test_trend_buckets_by_local_month_at_the_time_zone_boundary(db, rw):
    trend = monthly_trend(db, flt_for(rw.lead), ZONE)
    assert [p.month.first for p in trend.months] == [date(2025, m, 1) for m in range(7, 13)] + [
        date(2026, m, 1) for m in range(1, 7)
    ]
    per_month = {p.month.first: p for p in trend.months}
    assert [per_month[date(2026, m, 1)].audits for m in (1, 2, 3, 4, 5, 6)] == [0, 0, 1, 1, 2, 2]
    may, june = per_month[date(2026, 5, 1)], per_month[date(2026, 6, 1)]
    # a3, completed 2026-05-31 23:30 UTC, is 00:30 on 1 June in London; a5 at 22:30 UTC is still 31 May.
    assert grades(may.grades) == (0, 0, 0, 1, 1) and grades(june.grades) == (1, 0, 0, 0, 1)
    assert yes_no_na(may.answers[(DIP, "chronology_up_to_date")]) == (0, 1, 0)
    assert yes_no_na(june.answers[(CFA, "chronology_up_to_date")]) == (1, 0, 0)
    assert yes_no_na(may.answers[(CFA, "chronology_up_to_date")]) == (0, 0, 1)
    assert sum(p.audits for p in trend.months) == 6
    assert (CFA, "genogram_on_file") in trend.questions


def test_trend_in_utc_puts_the_late_audit_in_may(db, rw):
    trend = monthly_trend(db, ReportFilter(date_from=date(2026, 5, 1), date_to=date(2026, 6, 30)), "UTC")
    assert [p.audits for p in trend.months] == [3, 1]


def test_months_between_gives_whole_calendar_months():
    months = months_between(date(2025, 12, 15), date(2026, 2, 3))
    assert [(m.first, m.last) for m in months] == [
        (date(2025, 12, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
    ]


# --- Filters and scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"cycle": "cycle_a"}, (1, 1, 1, 0, 0)),
        ({"cycle": "cycle_b"}, (0, 0, 0, 1, 1)),
        ({"template": DIP}, (0, 0, 0, 0, 2)),
        ({"team": "south"}, (1, 0, 0, 0, 0)),
        ({"case_type": "cla"}, (0, 0, 0, 1, 1)),
        ({"service_area": "care"}, (0, 0, 0, 1, 1)),
        ({"date_from": "2026-06-01"}, (1, 0, 0, 0, 1)),  # a3 (00:30 on 1 June, local) and a6
        ({"date_to": "2026-05-31"}, (0, 1, 1, 1, 1)),  # a1, a2, a4 and a5 (23:30 on 31 May, local)
        ({"date_from": "2024-01-01", "date_to": "2025-12-31"}, (0, 1, 0, 0, 0)),  # a8 only
    ],
)
def test_each_filter_narrows_every_figure(db, rw, params, expected):
    ids = {"cycle_a": rw.cycle_a.id, "cycle_b": rw.cycle_b.id, "south": rw.south.id, "care": rw.care.service_area_id}
    flt = flt_for(rw.lead, **{k: str(ids.get(v, v)) for k, v in params.items()})
    assert flt.errors == {}
    assert grades(grade_distribution(db, flt, ZONE).overall) == expected
    total = sum(expected)
    assert compliance(db, flt, ZONE).audits == total
    assert sum(p.audits for p in monthly_trend(db, flt, ZONE).months) == total


def test_a_head_of_service_sees_their_own_area_whatever_they_ask(db, rw):
    own = rw.north.service_area_id
    for params in ({}, {"service_area": str(rw.care.service_area_id)}, {"service_area": str(own)}):
        flt = flt_for(rw.hos, **params)
        assert flt.service_area_id == own and flt.area_locked
        found = grade_distribution(db, flt, ZONE)
        assert grades(found.overall) == (1, 1, 1, 0, 1)  # a1, a2, a3, a5
        assert [a.name for a in found.by_service_area] == ["Safeguarding"]
        assert {t.name for t in found.by_team} == {"North", "South"}
        assert moderation_changes(db, flt, ZONE).moderated == 2
        assert compliance(db, flt, ZONE).audits == 4
        assert sum(p.audits for p in monthly_trend(db, flt, ZONE).months) == 4
    assert "service_area" in flt_for(rw.hos, service_area=str(rw.care.service_area_id)).errors
    # Another area's team gives nothing rather than that team's audits.
    other_team = flt_for(rw.hos, team=str(rw.care.id))
    assert grade_distribution(db, other_team, ZONE).overall.total == 0
    assert "service_area" not in flt_for(rw.hos).query()


def test_viewer_and_qa_lead_see_every_area(db, rw):
    for user in (rw.viewer, rw.lead):
        flt = flt_for(user, service_area=str(rw.care.service_area_id))
        assert flt.errors == {} and not flt.area_locked
        assert grades(grade_distribution(db, flt, ZONE).overall) == (0, 0, 0, 1, 1)
