"""Which questions the form shows, given the answers so far (`show_if`).

A condition tests an earlier answer: `equals`, `not_equals` or `in` a list; `all`/`any`
combine conditions. For a multi_choice answer, `equals: v` means "v was chosen",
`not_equals: v` "v was not chosen" and `in: [..]` "any of these was chosen".
A condition on a question with no answer, or whose question is hidden, is false
whatever it tests: answers the auditor can no longer see never drive the form.

`visible_questions` / `visible_keys` (built on `shown_as_answered`) are the one visibility rule: the form, scoring,
moderation and the demo use them, never a question's condition on raw stored answers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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


def _shown(question: Question, answers: Mapping[str, Any]) -> bool:
    """The question's own test: its condition holds on these answers (which must already leave out hidden ones)."""
    return question.show_if is None or condition_holds(question.show_if, answers)


def shown_as_answered(definition: TemplateDefinition, answers: Mapping[str, Any]) -> Iterator[Question]:
    """The questions the form shows, in order; an answer to a hidden question counts as no answer.

    Each question is tested on the answers to the shown questions before it, and its own answer is read from
    `answers` only after it has been yielded: a caller answering question by question (the demo) may fill
    `answers` in as it goes and sees exactly what the form would show."""
    seen: dict[str, Any] = {}
    for question in definition.questions:
        if _shown(question, seen):
            yield question
            if question.key in answers:
                seen[question.key] = answers[question.key]


def visible_questions(definition: TemplateDefinition, answers: Mapping[str, Any]) -> list[Question]:
    """The questions the form shows, in order; an answer to a hidden question counts as no answer."""
    return list(shown_as_answered(definition, answers))


def visible_keys(definition: TemplateDefinition, answers: Mapping[str, Any]) -> set[str]:
    """The keys of `visible_questions`: the one rule for what is shown."""
    return {q.key for q in shown_as_answered(definition, answers)}
