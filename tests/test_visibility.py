"""One visibility rule (issue 18): an answer to a hidden question counts as no answer, for the form, scoring and the
demo alike. The template below hides a whole section behind a question that is itself conditional, which the loader
accepts; a stale answer left under the hidden question must not bring the section back anywhere."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.audit_templates.answers import submission_errors
from app.audit_templates.conditions import condition_holds, visible_keys
from app.audit_templates.loader import check_file, load_template
from app.audit_templates.schema import Question, TemplateDefinition
from app.audit_templates.scoring import (
    Compliance,
    compliance_code,
    overall_compliance,
    section_compliance,
    section_grades,
)
from app.audits import form
from app.demo.completed import DemoCase, _Planner

TEMPLATE = """\
key: stale_answers
version: 1
title: Missing from care
kind: thematic
description: A section whose condition hangs on a conditional question.
sections:
  - key: about
    title: About the child
    questions:
      - key: in_care
        type: yes_no_na
        label: Is the child in care?
        scored: false
      - key: child_missing
        type: yes_no_na
        label: Has the child gone missing from care?
        scored: false
        show_if: {question: in_care, equals: "yes"}
  - key: missing
    title: Missing episodes
    judgement: true
    show_if: {question: child_missing, equals: "yes"}
    questions:
      - key: return_interview_held
        type: yes_no_na
        label: Was a return home interview held within 72 hours?
        explain_when_no: true
  - key: practice
    title: Practice
    questions:
      - key: chronology_up_to_date
        type: yes_no_na
        label: Is the chronology up to date?
"""

# The auditor first said the child is in care and went missing, answered the missing section, then found the child
# is not in care: "Has the child gone missing?" is hidden now, and its "yes" (and the section's answers) stay stored.
STALE = {
    "in_care": "no",
    "child_missing": "yes",
    "return_interview_held": "no",  # its explanation is missing: required, were the question shown
    "missing__grade": "inadequate",
    "chronology_up_to_date": "yes",
}
SHOWN = {"in_care", "chronology_up_to_date"}


@pytest.fixture
def definition(tmp_path: Path) -> TemplateDefinition:
    path = tmp_path / "stale_answers.v1.yaml"
    path.write_text(TEMPLATE)
    assert check_file(path) == []  # the loader accepts a section condition on a conditional question
    return load_template(path)


def _section(definition: TemplateDefinition, key: str):
    return next(s for s in definition.sections if s.key == key)


def test_the_stale_answer_would_show_the_section_if_read_raw(definition):
    missing = _section(definition, "missing")
    assert missing.show_if is not None and condition_holds(missing.show_if, STALE)  # what a raw test would say
    assert visible_keys(definition, STALE) == SHOWN


def test_the_form_does_not_show_the_section(definition):
    progress = form.sections_progress(definition, STALE)
    assert [(p.section.key, [q.key for q in p.questions]) for p in progress] == [
        ("about", ["in_care"]),
        ("practice", ["chronology_up_to_date"]),
    ]
    assert form.section_questions(definition, _section(definition, "missing"), STALE) == []
    assert form.next_section(definition, STALE, after="about") == _section(definition, "practice")
    assert submission_errors(definition, STALE) == {}  # no explanation asked for a question the auditor cannot see


def test_scoring_leaves_the_hidden_section_out(definition):
    assert section_compliance(definition, STALE) == {
        "about": Compliance(),
        "missing": Compliance(),
        "practice": Compliance(yes=1),
    }
    assert overall_compliance(definition, STALE) == Compliance(yes=1)
    assert compliance_code(definition, STALE) == "-y"  # return_interview_held hidden, chronology yes
    assert section_grades(definition, STALE) == {}  # the hidden section's stale grade is not a grade


def _demo_answers(definition: TemplateDefinition, says: dict[str, str]) -> dict[str, Any]:
    """The demo's answers to this template when its auditor would answer the yes/no questions as `says`."""
    case = DemoCase(
        id=1, case_type="cla", team_id=None, team="", start=date(2025, 1, 1), end=None, missing_12m=0, age=14
    )
    planner = _Planner(
        cases=[case], people=[], definitions={}, today=date(2026, 11, 26), seed=1, owner_of=lambda _: None
    )

    def yes_no(question: Question, *_: Any, **__: Any) -> str:
        return says[question.key]

    planner.yes_no = yes_no
    answers, _, _ = planner.answers(definition, case, month=0, quality=0.0)
    return answers


def test_the_demo_answers_what_the_form_shows(definition):
    # Given the same yes/no answers as the stale audit, the demo never reaches the hidden question or its section.
    says = {key: value for key, value in STALE.items() if not key.startswith("missing__")}
    answers = _demo_answers(definition, says)
    assert set(answers) == SHOWN == visible_keys(definition, answers) == visible_keys(definition, STALE)
    # In care and missing: the section shows, and the demo answers all of it (the No explained, the section graded).
    answers = _demo_answers(definition, {**says, "in_care": "yes"})
    assert (
        set(answers)
        == visible_keys(definition, answers)
        >= {
            "child_missing",
            "return_interview_held",
            "return_interview_held__explanation",
            "missing__grade",
        }
    )
    assert submission_errors(definition, answers) == {}
