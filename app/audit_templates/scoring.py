"""Compliance rates and overall-grade flags from one audit's answers (pure).

Compliance is yes ÷ (yes + no): N/A and unanswered are left out, and only visible
yes_no_na questions that count for compliance (not `scored: false`, not the
safeguarding question) are counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.audit_templates.conditions import visible_keys, visible_questions
from app.audit_templates.schema import (
    Grade,
    NotBetterThanWorstSection,
    Question,
    SectionGradesNotInadequateForGood,
    TemplateDefinition,
)


@dataclass(frozen=True)
class Compliance:
    """Counts of yes / no / N/A answers and the rate; rate is None when nothing was answered yes or no."""

    yes: int = 0
    no: int = 0
    na: int = 0

    @property
    def counted(self) -> int:
        return self.yes + self.no

    @property
    def rate(self) -> float | None:
        return self.yes / self.counted if self.counted else None


def _tally(questions: Iterable[Question], answers: Mapping[str, Any]) -> Compliance:
    values = [answers.get(q.key) for q in questions if q.counts_for_compliance]
    return Compliance(yes=values.count("yes"), no=values.count("no"), na=values.count("na"))


def section_compliance(definition: TemplateDefinition, answers: Mapping[str, Any]) -> dict[str, Compliance]:
    """Compliance per section key, in template order (sections without compliance questions included)."""
    shown = visible_keys(definition, answers)
    return {
        section.key: _tally((q for q in section.form_questions if q.key in shown), answers)
        for section in definition.sections
    }


def overall_compliance(definition: TemplateDefinition, answers: Mapping[str, Any]) -> Compliance:
    """Compliance across the whole audit."""
    return _tally(visible_questions(definition, answers), answers)


# One character per compliance question in an audit's compliance code (see `compliance_code`).
CODE_YES, CODE_NO, CODE_NA, CODE_NONE = "y", "n", "a", "-"
_CODES = {"yes": CODE_YES, "no": CODE_NO, "na": CODE_NA}


def compliance_questions(definition: TemplateDefinition) -> list[Question]:
    """The questions that count for compliance, in form order: the positions of `compliance_code`."""
    return [q for q in definition.questions if q.counts_for_compliance]


def compliance_code(definition: TemplateDefinition, answers: Mapping[str, Any]) -> str:
    """The audit's compliance answers as one short string, one character per `compliance_questions` entry:
    y (yes), n (no), a (N/A), - (unanswered, or hidden by the form's conditions, so not counted).

    Written on the audit when it is completed (`Audit.compliance_answers`), so that reports over tens of
    thousands of audits read one short column per audit instead of every answer row."""
    shown = visible_keys(definition, answers)

    def code(question: Question) -> str:
        value = answers.get(question.key) if question.key in shown else None
        return _CODES.get(value, CODE_NONE) if isinstance(value, str) else CODE_NONE

    return "".join(code(q) for q in compliance_questions(definition))


def _grade(value: Any) -> Grade | None:
    return Grade(value) if value in Grade._value2member_map_ else None


def section_grades(definition: TemplateDefinition, answers: Mapping[str, Any]) -> dict[str, Grade]:
    """The grade of each visible judgement section that has one, by section key."""
    shown = visible_keys(definition, answers)
    grades: dict[str, Grade] = {}
    for section in definition.judgement_sections:
        grade = _grade(answers.get(section.grade_key)) if section.grade_key in shown else None
        if grade is not None:
            grades[section.key] = grade
    return grades


def overall_grade_flags(definition: TemplateDefinition, answers: Mapping[str, Any]) -> list[str]:
    """Plain-English warnings where the overall grade sits uneasily with the section grades.

    The overall grade stays the auditor's judgement; these flags ask them (and the moderator) to look again.
    """
    if definition.overall is None:
        return []
    overall = _grade(answers.get(definition.overall.grade_question))
    graded = section_grades(definition, answers)
    if overall is None or not graded:
        return []
    titles = {section.key: section.title for section in definition.sections}
    flags: list[str] = []
    for rule in definition.overall.rules:
        if isinstance(rule, SectionGradesNotInadequateForGood):
            inadequate = [titles[key] for key, grade in graded.items() if grade is Grade.INADEQUATE]
            if inadequate and overall.rank <= Grade.GOOD.rank:
                flags.append(
                    f"The overall grade is {overall.label}, but {_join(inadequate)} "
                    f"{'is' if len(inadequate) == 1 else 'are'} graded Inadequate. "
                    "An audit with an Inadequate section is not usually Good or better overall."
                )
        elif isinstance(rule, NotBetterThanWorstSection):
            worst_key = max(graded, key=lambda key: graded[key].rank)
            worst = graded[worst_key]
            if worst.rank - overall.rank > rule.steps:
                flags.append(
                    f"The overall grade ({overall.label}) is {_grades(worst.rank - overall.rank)} better than "
                    f"the lowest section grade ({worst.label}, {titles[worst_key]}). "
                    f"Check the overall grade: it is usually {_no_better_than(rule.steps)} the lowest section grade."
                )
    return flags


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _grades(n: int) -> str:
    return f"{n} grade{'' if n == 1 else 's'}"


def _no_better_than(steps: int) -> str:
    return "no better than" if steps == 0 else f"no more than {_grades(steps)} better than"
