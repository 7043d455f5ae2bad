"""Checking an audit's answers against its template: one answer, a partial save, a submission.

Messages are written for the auditor and name the question, e.g.
`Enter a date in the form 2026-11-26 for "Date of the last visit"`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any

from app.audit_templates.conditions import has_answer, visible_questions
from app.audit_templates.schema import (
    GRADE_LABELS,
    MAX_TEXT_LENGTH,
    YES_NO_NA_LABELS,
    Question,
    QuestionType,
    TemplateDefinition,
)

_FREE_TYPES = {QuestionType.TEXT, QuestionType.DATE, QuestionType.NUMBER}


def _choices(labels: list[str]) -> str:
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def validate_answer(question: Question, value: Any) -> str | None:
    """The problem with one answer, or None when it is valid or not given (required is checked on submit)."""
    if not has_answer(value):
        return None
    name = f'"{question.label}"'
    match question.type:
        case QuestionType.YES_NO_NA:
            ok = isinstance(value, str) and value in YES_NO_NA_LABELS  # a list or object is unhashable
            return None if ok else f"Select {_choices(list(YES_NO_NA_LABELS.values()))} for {name}"
        case QuestionType.GRADE:
            ok = isinstance(value, str) and value in GRADE_LABELS
            return None if ok else f"Select {_choices(list(GRADE_LABELS.values()))} for {name}"
        case QuestionType.SINGLE_CHOICE:
            ok = isinstance(value, str) and value in question.option_values
            return None if ok else f"Select one of the options for {name}"
        case QuestionType.MULTI_CHOICE:
            ok = (
                isinstance(value, list)
                and all(isinstance(v, str) and v in question.option_values for v in value)
                and len(set(value)) == len(value)
            )
            return None if ok else f"Select only options listed for {name}, each once"
        case QuestionType.TEXT:
            if not isinstance(value, str):
                return f"Enter text for {name}"
            ok = len(value) <= MAX_TEXT_LENGTH
            return None if ok else f"{name} must be {MAX_TEXT_LENGTH:,} characters or fewer"
        case QuestionType.DATE:
            return None if _is_iso_date(value) else f"Enter a date in the form 2026-11-26 for {name}"
        case QuestionType.NUMBER:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and _finite(value)
            if not ok:
                return f"Enter a number for {name}"
            return None if question.in_range(value) else f"{name} must be {question.number_range}"


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float (JSON allows any number of digits)
        return False


def _is_iso_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def missing_message(definition: TemplateDefinition, question: Question) -> str:
    """What to tell the auditor when a required question has no answer."""
    explained = definition.question(question.explains or "")
    if explained is not None and explained.explain_when:
        asked = explained.explain_label or "explain why"
        answer = YES_NO_NA_LABELS[explained.explain_when]
        return f'You answered {answer} to "{explained.label}": {asked[:1].lower()}{asked[1:]}'
    verb = "Enter" if question.type in _FREE_TYPES else "Select"
    return f'{verb} an answer for "{question.label}"'


def answer_errors(definition: TemplateDefinition, answers: Mapping[str, Any]) -> dict[str, str]:
    """Problems with the answers given (for a partial save): unknown questions and invalid values."""
    errors: dict[str, str] = {}
    for key, value in answers.items():
        question = definition.question(key)
        if question is None:
            errors[key] = f"This template has no question '{key}'"
        elif message := validate_answer(question, value):
            errors[key] = message
    return errors


def submission_errors(definition: TemplateDefinition, answers: Mapping[str, Any]) -> dict[str, str]:
    """Everything that stops a submission, by question key; answers to hidden questions are ignored."""
    errors: dict[str, str] = {}
    for question in visible_questions(definition, answers):
        value = answers.get(question.key)
        if not has_answer(value):
            if question.required:
                errors[question.key] = missing_message(definition, question)
        elif message := validate_answer(question, value):
            errors[question.key] = message
    for key in answers:
        if definition.question(key) is None:
            errors[key] = f"This template has no question '{key}'"
    return errors
