"""Answer validation: one answer at a time, and everything that stops a submission."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.audit_templates.answers import (
    answer_errors,
    submission_errors,
    validate_answer,
)
from app.audit_templates.loader import load_template
from app.audit_templates.schema import Question

SHIPPED = Path(__file__).parents[2] / "audit_templates"
DIP = load_template(SHIPPED / "dip_sample.v1.yaml")
FULL = load_template(SHIPPED / "case_file_audit.v1.yaml")

CHECKLIST = [
    "chronology_up_to_date",
    "assessment_within_45_days",
    "oversight_last_month",
    "supervision_within_6_weeks",
    "child_voice_recorded",
    "plan_reviewed_on_time",
    "seen_alone_last_visit",
]


def question(type_: str, **extra) -> Question:
    return Question.model_validate({"key": "q", "type": type_, "label": "Date of the last visit", **extra})


@pytest.mark.parametrize(
    ("type_", "value", "message"),
    [
        ("yes_no_na", "maybe", 'Select Yes, No or Not applicable for "Date of the last visit"'),
        (
            "grade",
            "satisfactory",
            'Select Outstanding, Good, Requires improvement to be good or Inadequate for "Date of the last visit"',
        ),
        ("date", "26/11/2026", 'Enter a date in the form 2026-11-26 for "Date of the last visit"'),
        ("date", "2026-02-30", 'Enter a date in the form 2026-11-26 for "Date of the last visit"'),
        ("number", "three", 'Enter a number for "Date of the last visit"'),
        ("number", True, 'Enter a number for "Date of the last visit"'),
        ("text", 12, 'Enter text for "Date of the last visit"'),
        ("text", "x" * 10_001, '"Date of the last visit" must be 10,000 characters or fewer'),
    ],
)
def test_invalid_answers_say_what_to_do(type_, value, message):
    assert validate_answer(question(type_), value) == message


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        ("yes_no_na", "na"),
        ("grade", "requires_improvement"),
        ("date", "2026-11-26"),
        ("number", 3),
        ("number", 2.5),
        ("text", "Seen alone at school."),
        ("date", None),
        ("text", "  "),
    ],
)
def test_valid_or_empty_answers_pass(type_, value):
    assert validate_answer(question(type_), value) is None


@pytest.mark.parametrize(
    ("bounds", "value", "message"),
    [
        ({"min": 0, "max": 50}, -3, '"Date of the last visit" must be between 0 and 50'),
        ({"min": 0, "max": 50}, 99_999_999, '"Date of the last visit" must be between 0 and 50'),
        ({"min": 0, "max": 50}, 50.5, '"Date of the last visit" must be between 0 and 50'),
        ({"min": 0, "max": 50}, 0, None),
        ({"min": 0, "max": 50}, 50, None),
        ({"min": 0.5}, 0.25, '"Date of the last visit" must be 0.5 or more'),
        ({"max": 10_000}, 10_001, '"Date of the last visit" must be 10,000 or less'),
        ({"max": 10_000}, -(10**9), None),
        ({"min": 0, "max": 50}, "3", 'Enter a number for "Date of the last visit"'),  # not a number at all
    ],
)
def test_number_answers_keep_to_the_questions_min_and_max(bounds, value, message):
    assert validate_answer(question("number", **bounds), value) == message


def test_the_shipped_full_template_refuses_impossible_social_worker_counts():
    full = load_template(SHIPPED / "case_file_audit.v2.yaml")
    label = full.question("social_workers_12m").label
    for impossible in (-3, 99_999_999):
        assert answer_errors(full, {"social_workers_12m": impossible}) == {
            "social_workers_12m": f'"{label}" must be between 0 and 50'
        }
    assert answer_errors(full, {"social_workers_12m": 4}) == {}


def test_choice_answers_must_be_listed_options():
    options = [{"value": "police", "label": "Police"}, {"value": "health", "label": "Health"}]
    single, multi = question("single_choice", options=options), question("multi_choice", options=options)
    assert validate_answer(single, "health") is None
    assert validate_answer(single, "school") == 'Select one of the options for "Date of the last visit"'
    assert validate_answer(multi, ["police", "health"]) is None
    assert validate_answer(multi, "police") == 'Select only options listed for "Date of the last visit", each once'
    assert validate_answer(multi, ["police", "police"]) is not None


def test_submission_lists_every_unanswered_required_visible_question():
    errors = submission_errors(DIP, {"chronology_up_to_date": "yes"})
    assert errors["assessment_within_45_days"] == (
        'Select an answer for "Was the latest child and family assessment completed within 45 working days of referral?"'
    )
    assert "return_interview_within_72_hours" not in errors  # hidden: the child_missing_12m answer is not given
    assert "comments" not in errors  # optional
    assert set(errors) == {*CHECKLIST[1:], "child_missing_12m", "immediate_safeguarding_concern"}


def complete_dip(**changes: str) -> dict[str, str]:
    answers = dict.fromkeys(CHECKLIST, "yes") | {"child_missing_12m": "no", "immediate_safeguarding_concern": "no"}
    return answers | changes


def test_a_complete_dip_sample_submits():
    assert submission_errors(DIP, complete_dip()) == {}


def test_explanations_are_required_for_no_and_for_a_safeguarding_yes():
    errors = submission_errors(DIP, complete_dip(chronology_up_to_date="no", immediate_safeguarding_concern="yes"))
    assert errors == {
        "chronology_up_to_date__explanation": 'You answered No to "Is the chronology up to date (updated within the '
        'last 3 months)?": explain why',
        "immediate_safeguarding_concern__explanation": 'You answered Yes to "Is there an immediate safeguarding '
        'concern for this child?": describe the concern, who you told '
        "and when",
    }
    explained = complete_dip(
        chronology_up_to_date="no",
        chronology_up_to_date__explanation="Last updated 2024.",
        immediate_safeguarding_concern="yes",
        immediate_safeguarding_concern__explanation="Told K. Jones (TM) at 14:10.",
    )
    assert submission_errors(DIP, explained) == {}


def test_answers_to_hidden_questions_are_ignored_but_unknown_keys_are_not():
    answers = complete_dip(return_interview_within_72_hours="nonsense", chronology="yes")
    assert submission_errors(DIP, answers) == {"chronology": "This template has no question 'chronology'"}


def test_a_conditional_question_becomes_required_when_shown():
    errors = submission_errors(DIP, complete_dip(child_missing_12m="yes"))
    assert list(errors) == ["return_interview_within_72_hours"]


def test_partial_save_checks_values_given_but_not_what_is_missing():
    assert answer_errors(DIP, {"chronology_up_to_date": "yes"}) == {}
    assert answer_errors(DIP, {"chronology_up_to_date": "Y", "nope": "yes"}) == {
        "chronology_up_to_date": 'Select Yes, No or Not applicable for "Is the chronology up to date '
        '(updated within the last 3 months)?"',
        "nope": "This template has no question 'nope'",
    }


def test_judgement_sections_need_a_grade_strengths_and_development():
    errors = submission_errors(FULL, {})
    assert errors["assessment__grade"] == 'Select an answer for "Grade for D. Assessment"'
    assert errors["assessment__strengths"] == 'Enter an answer for "Strengths: D. Assessment"'
    assert errors["assessment__development"] == 'Enter an answer for "Areas for development: D. Assessment"'
    assert "permanence__grade" not in errors  # section J shows only for children in care
