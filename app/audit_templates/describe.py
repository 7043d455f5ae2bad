"""Template rules in plain English, for the QA lead's preview: `show_if` conditions, prefill rules, answer labels.

Pure functions of a definition; the wording matches what the auditor sees on the form.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.audit_templates.prefill import TODAY, Prefill, PrefillCheck, fact_label
from app.audit_templates.schema import (
    GRADE_LABELS,
    YES_NO_NA_LABELS,
    Condition,
    Grade,
    Question,
    QuestionType,
    TemplateDefinition,
)
from app.dates import long_date


def value_label(question: Question, value: str) -> str:
    """How one answer value reads on screen ("na" -> "Not applicable", an option value -> its label)."""
    if question.type is QuestionType.YES_NO_NA:
        return YES_NO_NA_LABELS.get(value, value)
    if question.type is QuestionType.GRADE:
        return GRADE_LABELS[Grade(value)] if value in Grade._value2member_map_ else value
    for option in question.options or ():
        if option.value == value:
            return option.label
    return value


def answer_text(question: Question, value: Any) -> str:
    """An answer as text for a summary list; "" for no answer."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return ", ".join(value_label(question, str(v)) for v in value)
    if question.type is QuestionType.DATE and isinstance(value, str) and len(value) == 10:
        try:
            return long_date(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and question.type in {QuestionType.TEXT, QuestionType.DATE, QuestionType.NUMBER}:
        return value
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return value_label(question, str(value))


def _or(items: list[str], word: str = "or") -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} " + items[-1]


def describe_condition(condition: Condition, definition: TemplateDefinition, *, nested: bool = False) -> str:
    """A condition as a phrase: 'Has the child gone missing?' is Yes (and ... / or ...)."""
    for name, word in (("all", "and"), ("any", "or")):
        parts = getattr(condition, name)
        if parts:
            text = f" {word} ".join(describe_condition(part, definition, nested=True) for part in parts)
            return f"({text})" if nested and len(parts) > 1 else text
    question = definition.question(condition.question or "")
    if question is None:  # a valid definition never gets here; say what it says rather than fail
        return f"'{condition.question}' is answered"
    label = f"'{question.label}'"
    many = question.type is QuestionType.MULTI_CHOICE
    if condition.equals is not None:
        verb = "includes" if many else "is"
        return f"{label} {verb} {value_label(question, condition.equals)}"
    if condition.not_equals is not None:
        verb = "does not include" if many else "is answered and is not"
        return f"{label} {verb} {value_label(question, condition.not_equals)}"
    labels = [value_label(question, v) for v in condition.in_ or ()]
    verb = "includes" if many else "is"
    return f"{label} {verb} {_or(labels)}"


def describe_show_if(question: Question, definition: TemplateDefinition) -> str | None:
    """ "Shown when 'Has the child gone missing?' is Yes", or None for a question always shown."""
    if question.show_if is None:
        return None
    return "Shown when " + describe_condition(question.show_if, definition)


def describe_prefill(prefill: Prefill) -> str:
    """The rule a prefill suggestion follows, e.g. "Yes when Assessment authorised is within 45 working days of referral"."""
    fact = fact_label(prefill.fact)
    match prefill.check:
        case PrefillCheck.RECORDED:
            rule = f"Yes when {fact} is recorded in the register, otherwise No"
        case PrefillCheck.TRUE:
            rule = f"Yes when {fact} is Yes in the register, No when it is No"
        case PrefillCheck.WITHIN_WORKING_DAYS | PrefillCheck.WITHIN_DAYS:
            unit = "working days" if prefill.check is PrefillCheck.WITHIN_WORKING_DAYS else "days"
            origin = prefill.from_ or TODAY
            if origin == TODAY:
                rule = f"Yes when {fact} was no more than {prefill.days} {unit} before the audit, otherwise No"
            else:
                start = fact_label(origin)
                start = start if start[1:2].isupper() else start[:1].lower() + start[1:]
                rule = f"Yes when {fact} was within {prefill.days} {unit} of {start}, otherwise No"
        case PrefillCheck.AT_MOST:
            rule = f"Yes when {fact} is at most {prefill.value}, otherwise No"
        case PrefillCheck.AT_LEAST:
            rule = f"Yes when {fact} is at least {prefill.value}, otherwise No"
    return f"Suggested from the register: {rule}"
