"""app.audit_templates.prefill: the answer the register suggests for a question, and the reason an auditor reads."""

from __future__ import annotations

from datetime import date

import pytest

from app.audit_templates.prefill import FACT_LABELS, Prefill, PrefillSuggestion, prefill_suggest
from app.cases.facts import FACT_FIELDS
from app.working_days import calendar_for

TODAY = date(2026, 11, 3)  # a Tuesday
ENGLAND = calendar_for("england_and_wales")
ASSESSMENT_IN_45 = {
    "fact": "assessment_authorised",
    "check": "within_working_days",
    "from": "referral_date",
    "days": 45,
}
REFERRAL = date(2026, 3, 2)  # a Monday; 45 working days later (Easter and 4 May skipped) is Thursday 7 May


def suggest(rule: dict, facts: dict, *, calendar=ENGLAND, source: str | None = None) -> PrefillSuggestion | None:
    return prefill_suggest(Prefill.model_validate(rule), facts, today=TODAY, calendar=calendar, source=source)


# within_working_days from another fact


def test_assessment_on_the_45th_working_day_is_in_time():
    found = suggest(ASSESSMENT_IN_45, {"referral_date": REFERRAL, "assessment_authorised": date(2026, 5, 7)})
    assert found == PrefillSuggestion(
        value="yes",
        explanation="Assessment authorised 45 working days after referral: 2 Mar 2026 to 7 May 2026, limit 45",
    )


def test_assessment_on_the_46th_working_day_is_late():
    found = suggest(ASSESSMENT_IN_45, {"referral_date": REFERRAL, "assessment_authorised": date(2026, 5, 8)})
    assert found is not None
    assert found.value == "no"
    assert found.explanation.startswith("Assessment authorised 46 working days after referral")


def test_the_source_of_the_facts_is_named():
    found = suggest(
        ASSESSMENT_IN_45,
        {"referral_date": REFERRAL, "assessment_authorised": date(2026, 5, 20)},
        source="the Annex A list 4 import on 3 Nov 2026",
    )
    assert found is not None
    assert found.explanation == (
        "Assessment authorised 54 working days after referral: 2 Mar 2026 to 20 May 2026, limit 45"
        " (from the Annex A list 4 import on 3 Nov 2026)"
    )


def test_the_jurisdiction_calendar_decides_a_borderline_case():
    rule = {"fact": "assessment_start", "check": "within_working_days", "from": "referral_date", "days": 1}
    facts = {"referral_date": date(2028, 5, 8), "assessment_start": date(2028, 5, 10)}  # Liberation Day between
    assert suggest(rule, facts).value == "no"
    jersey = suggest(rule, facts, calendar=calendar_for("jersey"))
    assert jersey is not None
    assert jersey.value == "yes"
    assert jersey.explanation.startswith("Assessment started 1 working day after referral")


def test_same_day_is_in_time_and_a_date_before_the_start_is_not():
    same = suggest(ASSESSMENT_IN_45, {"referral_date": REFERRAL, "assessment_authorised": REFERRAL})
    assert same == PrefillSuggestion(
        value="yes", explanation="Assessment authorised on the same day as referral: 2 Mar 2026"
    )
    before = suggest(ASSESSMENT_IN_45, {"referral_date": REFERRAL, "assessment_authorised": date(2026, 2, 27)})
    assert before == PrefillSuggestion(
        value="no", explanation="Assessment authorised on 27 Feb 2026, before referral on 2 Mar 2026"
    )


@pytest.mark.parametrize(
    "facts",
    [
        {"referral_date": REFERRAL},
        {"referral_date": REFERRAL, "assessment_authorised": None},
        {"assessment_authorised": date(2026, 5, 7)},
        {"referral_date": "not a date", "assessment_authorised": date(2026, 5, 7)},
        {},
    ],
)
def test_no_suggestion_without_both_dates(facts):
    assert suggest(ASSESSMENT_IN_45, facts) is None


def test_dates_stored_as_iso_text_are_read():
    found = suggest(ASSESSMENT_IN_45, {"referral_date": "2026-03-02", "assessment_authorised": "2026-05-07"})
    assert found is not None
    assert found.value == "yes"


# within_working_days / within_days from today

VISIT_IN_10 = {"fact": "last_statutory_visit", "check": "within_working_days", "from": "today", "days": 10}


def test_visit_10_working_days_ago_is_in_time_and_11_is_not():
    in_time = suggest(VISIT_IN_10, {"last_statutory_visit": date(2026, 10, 20)})
    assert in_time == PrefillSuggestion(
        value="yes", explanation="Last statutory visit 10 working days ago: 20 Oct 2026, limit 10"
    )
    late = suggest(VISIT_IN_10, {"last_statutory_visit": date(2026, 10, 19)})
    assert late == PrefillSuggestion(
        value="no", explanation="Last statutory visit 11 working days ago: 19 Oct 2026, limit 10"
    )


def test_visit_today_is_in_time_and_a_visit_in_the_future_suggests_nothing():
    today = suggest(VISIT_IN_10, {"last_statutory_visit": TODAY})
    assert today == PrefillSuggestion(value="yes", explanation="Last statutory visit today: 3 Nov 2026")
    assert suggest(VISIT_IN_10, {"last_statutory_visit": date(2026, 11, 4)}) is None
    assert suggest(VISIT_IN_10, {}) is None


def test_calendar_days_count_weekends():
    rule = {"fact": "last_statutory_visit", "check": "within_days", "from": "today", "days": 42}  # 6 weeks
    assert suggest(rule, {"last_statutory_visit": date(2026, 9, 22)}).value == "yes"
    late = suggest(rule, {"last_statutory_visit": date(2026, 9, 21)})
    assert late == PrefillSuggestion(value="no", explanation="Last statutory visit 43 days ago: 21 Sep 2026, limit 42")


# recorded, true, at_most, at_least

PLAN_RECORDED = {"fact": "permanence_plan", "check": "recorded"}


def test_recorded_fact_suggests_yes_with_its_value():
    found = suggest(PLAN_RECORDED, {"permanence_plan": "Adoption"})
    assert found == PrefillSuggestion(value="yes", explanation="Permanence plan recorded in the register: Adoption")


@pytest.mark.parametrize("facts", [{}, {"permanence_plan": None}, {"permanence_plan": "  "}])
def test_nothing_recorded_suggests_no(facts):
    assert suggest(PLAN_RECORDED, facts) == PrefillSuggestion(
        value="no", explanation="No permanence plan recorded in the register"
    )


def test_recorded_keeps_the_capitals_of_an_abbreviation_and_shows_dates_as_people_write_them():
    rule = {"fact": "last_iro_contact", "check": "recorded"}
    assert suggest(rule, {}).explanation == "No last IRO contact recorded in the register"
    assert suggest(rule, {"last_iro_contact": date(2026, 11, 3)}).explanation == (
        "Last IRO contact recorded in the register: 3 Nov 2026"
    )


def test_true_follows_a_yes_no_fact_and_suggests_nothing_when_unknown():
    rule = {"fact": "seen_alone", "check": "true"}
    assert suggest(rule, {"seen_alone": True}) == PrefillSuggestion(
        value="yes", explanation="Child seen alone: yes in the register"
    )
    assert suggest(rule, {"seen_alone": False}) == PrefillSuggestion(
        value="no", explanation="Child seen alone: no in the register"
    )
    assert suggest(rule, {"seen_alone": None}) is None
    assert suggest(rule, {}) is None


def test_at_most_is_inclusive():
    rule = {"fact": "placements_12m", "check": "at_most", "value": 2}
    assert suggest(rule, {"placements_12m": 2}) == PrefillSuggestion(
        value="yes", explanation="Placements in the last 12 months: 2; at most 2 expected"
    )
    assert suggest(rule, {"placements_12m": 3}).value == "no"
    assert suggest(rule, {"placements_12m": None}) is None


def test_at_least_is_inclusive():
    rule = {"fact": "missing_12m", "check": "at_least", "value": 1}
    assert suggest(rule, {"missing_12m": 1}).value == "yes"
    assert suggest(rule, {"missing_12m": 0}) == PrefillSuggestion(
        value="no", explanation="Missing episodes in the last 12 months: 0; at least 1 expected"
    )
    assert suggest(rule, {"missing_12m": True}) is None  # a yes/no is not a count


def test_every_register_fact_has_a_label():
    assert set(FACT_LABELS) == set(FACT_FIELDS)
