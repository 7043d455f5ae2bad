"""Which questions the form shows, given the answers so far (`show_if`).

A condition tests an earlier answer: `equals`, `not_equals` or `in` a list; `all`/`any`
combine conditions. For a multi_choice answer, `equals: v` means "v was chosen",
`not_equals: v` "v was not chosen" and `in: [..]` "any of these was chosen".
A condition on a question with no answer, or whose question is hidden, is false
whatever it tests: answers the auditor can no longer see never drive the form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.audit_templates.schema import Condition, Question, TemplateDefinition


def has_answer(value: Any) -> bool:
    """False for no answer: missing, blank text or nothing chosen."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and value != []


def _comparable(value: Any) -> Any:
    if not has_answer(value):
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return sorted(map(str, value))
    return value


def same_answer(first: Any, second: Any) -> bool:
    """True when two answers say the same (blank equals none, surrounding spaces and choice order do not count)."""
    return bool(_comparable(first) == _comparable(second))


def condition_holds(condition: Condition, answers: Mapping[str, Any]) -> bool:
    """True when the answers meet the condition."""
    if condition.all is not None:
        return all(condition_holds(part, answers) for part in condition.all)
    if condition.any is not None:
        return any(condition_holds(part, answers) for part in condition.any)
    answer = answers.get(condition.question or "")
    if not has_answer(answer):
        return False
    chosen = set(answer) if isinstance(answer, list) else {answer}
    if condition.equals is not None:
        return condition.equals in chosen
    if condition.not_equals is not None:
        return condition.not_equals not in chosen
    return bool(chosen & set(condition.in_ or ()))


def is_visible(question: Question, answers: Mapping[str, Any]) -> bool:
    """True when the question is shown, given answers to the questions before it."""
    return question.show_if is None or condition_holds(question.show_if, answers)


def visible_questions(definition: TemplateDefinition, answers: Mapping[str, Any]) -> list[Question]:
    """The questions the form shows, in order; an answer to a hidden question counts as no answer."""
    shown: list[Question] = []
    seen: dict[str, Any] = {}
    for question in definition.questions:
        if is_visible(question, seen):
            shown.append(question)
            if question.key in answers:
                seen[question.key] = answers[question.key]
    return shown
