"""Which questions the form shows: show_if on earlier answers, section conditions, hidden answers ignored."""

from __future__ import annotations

from pathlib import Path

from app.audit_templates.conditions import (
    condition_holds,
    shown_as_answered,
    visible_keys,
    visible_questions,
)
from app.audit_templates.loader import load_template
from app.audit_templates.schema import Condition

SHIPPED = Path(__file__).parents[2] / "audit_templates"
FULL = load_template(SHIPPED / "case_file_audit.v1.yaml")
DIP = load_template(SHIPPED / "dip_sample.v1.yaml")


def shown(definition, answers) -> set[str]:
    keys = visible_keys(definition, answers)
    assert keys == {q.key for q in visible_questions(definition, answers)}  # one rule, two shapes
    return keys


def test_equals_not_equals_and_in():
    assert condition_holds(Condition(question="a", equals="yes"), {"a": "yes"})
    assert not condition_holds(Condition(question="a", equals="yes"), {"a": "no"})
    assert condition_holds(Condition(question="a", not_equals="yes"), {"a": "na"})
    assert condition_holds(Condition.model_validate({"question": "a", "in": ["cp", "cla"]}), {"a": "cla"})
    assert not condition_holds(Condition.model_validate({"question": "a", "in": ["cp", "cla"]}), {"a": "cin"})


def test_a_condition_on_an_unanswered_question_is_false_whatever_it_tests():
    assert not condition_holds(Condition(question="a", not_equals="yes"), {})
    assert not condition_holds(Condition(question="a", not_equals="yes"), {"a": ""})


def test_multi_choice_answers_test_what_was_chosen():
    chosen = {"a": ["police", "health"]}
    assert condition_holds(Condition(question="a", equals="police"), chosen)
    assert not condition_holds(Condition(question="a", not_equals="police"), chosen)
    assert condition_holds(Condition.model_validate({"question": "a", "in": ["health", "housing"]}), chosen)
    assert not condition_holds(Condition(question="a", equals="police"), {"a": []})


def test_all_and_any():
    both = Condition.model_validate({"all": [{"question": "a", "equals": "yes"}, {"question": "b", "equals": "no"}]})
    either = Condition.model_validate({"any": [{"question": "a", "equals": "yes"}, {"question": "b", "equals": "no"}]})
    assert condition_holds(both, {"a": "yes", "b": "no"}) and not condition_holds(both, {"a": "yes", "b": "yes"})
    assert condition_holds(either, {"a": "no", "b": "no"}) and not condition_holds(either, {"a": "no"})


def test_return_interview_questions_show_only_when_the_child_has_gone_missing():
    assert "return_interview_within_72_hours" not in shown(DIP, {"child_missing_12m": "no"})
    assert "return_interview_within_72_hours" in shown(DIP, {"child_missing_12m": "yes"})
    missing = {"missing_risk_assessed", "return_interview_offered", "return_interview_within_72_hours"}
    assert missing <= shown(FULL, {"child_missing_12m": "yes"})
    assert not missing & shown(FULL, {"child_missing_12m": "no"})


def test_explanation_shows_when_the_answer_is_the_one_to_explain():
    assert "chronology_up_to_date__explanation" in shown(DIP, {"chronology_up_to_date": "no"})
    assert "chronology_up_to_date__explanation" not in shown(DIP, {"chronology_up_to_date": "yes"})
    assert "immediate_safeguarding_concern__explanation" in shown(DIP, {"immediate_safeguarding_concern": "yes"})
    assert "immediate_safeguarding_concern__explanation" not in shown(DIP, {"immediate_safeguarding_concern": "no"})


def test_a_section_condition_hides_its_questions_and_judgement_fields():
    in_care = shown(FULL, {"case_type": "cla"})
    in_need = shown(FULL, {"case_type": "cin"})
    assert {"permanence_plan_recorded", "permanence__grade", "permanence__strengths"} <= in_care
    assert not {"permanence_plan_recorded", "permanence__grade", "permanence__strengths"} & in_need
    assert "pathway_plan_in_place" not in shown(FULL, {"case_type": "adoption"})


def test_an_answer_to_a_hidden_question_does_not_drive_later_questions():
    # plan_in_place_needed shows only with no plan; its stale "yes" must not reveal its explanation.
    answers = {"plan_type": "cp_plan", "plan_in_place_needed": "yes"}
    assert "plan_in_place_needed" not in shown(FULL, answers)
    assert "plan_in_place_needed__explanation" not in shown(FULL, answers)
    assert "plan_in_place_needed__explanation" in shown(FULL, {**answers, "plan_type": "no_plan"})


def test_answering_question_by_question_sees_what_the_form_shows():
    """`shown_as_answered` reads each answer only once its question is passed: filled in as it goes (as the demo
    does), it yields exactly the questions the form shows for the finished answers."""
    answers: dict[str, str] = {}
    given = {"child_missing_12m": "yes", "return_interview_within_72_hours": "no"}
    asked = []
    for question in shown_as_answered(DIP, answers):
        asked.append(question.key)
        if question.key in given:
            answers[question.key] = given[question.key]
    assert set(asked) == shown(DIP, answers)
    assert {"return_interview_within_72_hours", "return_interview_within_72_hours__explanation"} <= set(asked)
