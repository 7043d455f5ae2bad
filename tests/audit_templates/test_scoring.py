"""Compliance rates (yes ÷ (yes + no), N/A excluded) and the overall-grade flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.audit_templates.loader import load_template
from app.audit_templates.scoring import (
    Compliance,
    compliance_code,
    compliance_questions,
    overall_compliance,
    overall_grade_flags,
    section_compliance,
    section_grades,
)

SHIPPED = Path(__file__).parents[2] / "audit_templates"
DIP = load_template(SHIPPED / "dip_sample.v1.yaml")
FULL = load_template(SHIPPED / "case_file_audit.v1.yaml")


def test_rate_is_yes_over_yes_and_no_with_na_left_out():
    answers = {
        "chronology_up_to_date": "yes",
        "assessment_within_45_days": "no",
        "oversight_last_month": "yes",
        "supervision_within_6_weeks": "na",
        "child_voice_recorded": "yes",
    }
    result = overall_compliance(DIP, answers)
    assert result == Compliance(yes=3, no=1, na=1)
    assert result.rate == pytest.approx(0.75)


def test_nothing_to_count_gives_no_rate():
    assert overall_compliance(DIP, {}).rate is None
    assert overall_compliance(DIP, {"chronology_up_to_date": "na"}).rate is None
    assert section_compliance(DIP, {})["safeguarding"] == Compliance()


def test_facts_the_safeguarding_question_and_hidden_questions_do_not_count():
    answers = {
        "chronology_up_to_date": "yes",
        "child_missing_12m": "yes",
        "immediate_safeguarding_concern": "yes",
        "return_interview_within_72_hours": "no",
    }
    assert overall_compliance(DIP, answers) == Compliance(yes=1, no=1)
    hidden = answers | {"child_missing_12m": "no"}
    assert overall_compliance(DIP, hidden) == Compliance(yes=1)
    assert overall_compliance(DIP, hidden).rate == 1.0


def test_compliance_per_section():
    answers = {
        "case_type": "cin",
        "chronology_up_to_date": "yes",
        "genogram_on_file": "no",
        "assessment_within_45_days": "no",
        "permanence_plan_recorded": "no",
    }
    by_section = section_compliance(FULL, answers)
    assert list(by_section) == [s.key for s in FULL.sections]
    assert by_section["history_chronology"].rate == 0.5
    assert by_section["assessment"].rate == 0.0
    assert by_section["permanence"] == Compliance()  # hidden for a child in need


def test_the_compliance_code_has_one_character_per_compliance_question_and_counts_as_the_rates_do():
    keys = [q.key for q in compliance_questions(DIP)]
    assert "child_missing_12m" not in keys and "immediate_safeguarding_concern" not in keys
    answers = {
        "chronology_up_to_date": "yes",
        "assessment_within_45_days": "no",
        "supervision_within_6_weeks": "na",
        "child_missing_12m": "no",
        "return_interview_within_72_hours": "no",
    }  # hidden: not missing
    code = compliance_code(DIP, answers)
    assert len(code) == len(keys)
    assert code[keys.index("chronology_up_to_date")] == "y"
    assert code[keys.index("assessment_within_45_days")] == "n"
    assert code[keys.index("supervision_within_6_weeks")] == "a"
    assert code[keys.index("return_interview_within_72_hours")] == "-"  # answered but hidden
    assert code[keys.index("oversight_last_month")] == "-"  # unanswered
    counted = overall_compliance(DIP, answers)
    assert (code.count("y"), code.count("n"), code.count("a")) == (counted.yes, counted.no, counted.na)


def test_a_value_that_is_not_yes_no_or_na_is_not_counted():
    code = compliance_code(DIP, {"chronology_up_to_date": ["yes"], "assessment_within_45_days": "maybe"})
    assert set(code) == {"-"}


def graded(overall: str, **sections: str) -> dict[str, str]:
    return {"overall_grade": overall} | {f"{key}__grade": grade for key, grade in sections.items()}


def test_no_flags_when_the_overall_grade_fits_the_sections():
    answers = graded("good", assessment="good", plan="requires_improvement", child_voice="outstanding")
    assert overall_grade_flags(FULL, answers) == []
    assert overall_grade_flags(FULL, {"assessment__grade": "inadequate"}) == []  # no overall grade yet


def test_good_overall_with_an_inadequate_section_is_flagged():
    flags = overall_grade_flags(FULL, graded("good", assessment="inadequate", plan="good"))
    assert flags[0] == (
        "The overall grade is Good, but D. Assessment is graded Inadequate. "
        "An audit with an Inadequate section is not usually Good or better overall."
    )


def test_overall_far_better_than_the_worst_section_is_flagged():
    flags = overall_grade_flags(FULL, graded("outstanding", assessment="requires_improvement", plan="good"))
    assert flags == [
        (
            "The overall grade (Outstanding) is 2 grades better than the lowest section grade "
            "(Requires improvement to be good, D. Assessment). "
            "Check the overall grade: it is usually no more than 1 grade better than the lowest section grade."
        )
    ]


def test_grades_of_hidden_sections_are_ignored():
    answers = graded("good", assessment="good", permanence="inadequate") | {"case_type": "cin"}
    assert section_grades(FULL, answers) == {"assessment": "good"}
    assert overall_grade_flags(FULL, answers) == []
    assert overall_grade_flags(DIP, answers) == []  # the dip sample has no overall grade
