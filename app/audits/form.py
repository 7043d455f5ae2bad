"""The audit form as web pages: which questions a section shows, progress per section, and saving a posted section.

A section page posts every question it shows (each marks itself with a hidden `_shown` field, so a
radio left blank still counts as "shown, no answer"). Only answers that differ from the stored ones
are saved, so a page that autosaved as the auditor went along has nothing left to save when they
press "Save and continue", and an autosave racing that button is not mistaken for someone else's change.

Field names that are not question keys start with "_": question keys start with a letter, so never collide.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData

from app.accounts.models import User
from app.audit_templates.answers import answer_errors
from app.audit_templates.conditions import has_answer, visible_questions
from app.audit_templates.schema import Question, QuestionType, Section, TemplateDefinition
from app.audits import service
from app.audits.models import Audit
from app.audits.selectors import audit_answers
from app.errors import Conflict, ValidationFailed
from app.numbers import digits
from app.web.forms import date_from_parts

FIELD_VERSION = "_version"
FIELD_SHOWN = "_shown"
FIELD_ERRORED = "_errored"
DATE_PARTS = ("day", "month", "year")
MAX_NUMBER_LENGTH = 20

COMPLETED, IN_PROGRESS, NOT_STARTED = "completed", "in_progress", "not_started"
PROGRESS_LABELS = {COMPLETED: "Completed", IN_PROGRESS: "In progress", NOT_STARTED: "Not started"}


# --- What the form shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class SectionProgress:
    """One section as the audit's overview lists it: the questions it shows now and how many are answered."""

    section: Section
    questions: tuple[Question, ...]
    answered: int
    required: int
    required_answered: int

    @property
    def status(self) -> str:
        if self.answered and self.required_answered == self.required:
            return COMPLETED
        return IN_PROGRESS if self.answered else NOT_STARTED

    @property
    def status_label(self) -> str:
        return PROGRESS_LABELS[self.status]


def visible_keys(definition: TemplateDefinition, answers: Mapping[str, Any]) -> set[str]:
    return {q.key for q in visible_questions(definition, answers)}


def section_questions(definition: TemplateDefinition, section: Section, answers: Mapping[str, Any]) -> list[Question]:
    """The questions of one section the form shows, given every answer so far (conditions reach across sections)."""
    shown = visible_keys(definition, answers)
    return [q for q in section.form_questions if q.key in shown]


def sections_progress(definition: TemplateDefinition, answers: Mapping[str, Any]) -> list[SectionProgress]:
    """Every section that shows at least one question, with its progress."""
    shown = visible_keys(definition, answers)
    found = []
    for section in definition.sections:
        questions = tuple(q for q in section.form_questions if q.key in shown)
        if not questions:
            continue
        answered = [q for q in questions if has_answer(answers.get(q.key))]
        required = [q for q in questions if q.required]
        found.append(
            SectionProgress(
                section=section,
                questions=questions,
                answered=len(answered),
                required=len(required),
                required_answered=sum(1 for q in required if has_answer(answers.get(q.key))),
            )
        )
    return found


def section_get(definition: TemplateDefinition, key: str) -> Section | None:
    return next((s for s in definition.sections if s.key == key), None)


def section_of(definition: TemplateDefinition, question_key: str) -> Section | None:
    """The section a question (generated ones included) is on."""
    return next((s for s in definition.sections if any(q.key == question_key for q in s.form_questions)), None)


def next_section(definition: TemplateDefinition, answers: Mapping[str, Any], *, after: str) -> Section | None:
    """The next section after `after` that shows any question, or None after the last."""
    keys = [s.key for s in definition.sections]
    if after not in keys:
        return None
    shown = visible_keys(definition, answers)
    for section in definition.sections[keys.index(after) + 1 :]:
        if any(q.key in shown for q in section.form_questions):
            return section
    return None


def field_id(question: Question) -> str:
    """The id of the first input of a question: what an error summary links to."""
    return f"{question.key}-day" if question.type is QuestionType.DATE else question.key


# --- Reading a posted section ----------------------------------------------------------------


def _text(value: Any) -> str:
    # Files and other non-text fields are not answers; NUL is refused by PostgreSQL's JSON and means nothing.
    return value.replace("\x00", "") if isinstance(value, str) else ""


def parse_number(text: str) -> Any:
    """A number typed in a box: an int or a float, or the text itself (which validation then refuses)."""
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return None
    if len(cleaned) > MAX_NUMBER_LENGTH:
        return text
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        number = float(cleaned)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


@dataclass
class Posted:
    values: dict[str, Any]  # question key -> the answer as it would be stored (None: no answer)
    incomplete: set[str] = field(default_factory=set)  # date questions with some boxes blank


def read_posted(questions: Iterable[Question], form: FormData) -> Posted:
    """The answers a section form sent, for these questions (the ones the page showed)."""
    posted = Posted(values={})
    for q in questions:
        if q.type is QuestionType.MULTI_CHOICE:
            chosen = [_text(v) for v in form.getlist(q.key) if _text(v)]
            posted.values[q.key] = list(dict.fromkeys(chosen)) or None
        elif q.type is QuestionType.DATE:
            parts = [_text(form.get(f"{q.key}-{p}")).strip() for p in DATE_PARTS]
            if any(parts) and not all(parts):
                posted.incomplete.add(q.key)
                posted.values[q.key] = "/".join(parts)
            else:
                posted.values[q.key] = date_from_parts(form, q.key)
        elif q.type is QuestionType.NUMBER:
            posted.values[q.key] = parse_number(_text(form.get(q.key)))
        else:
            text = _text(form.get(q.key))
            posted.values[q.key] = text if text.strip() else None
    return posted


def _comparable(value: Any) -> Any:
    if not has_answer(value):
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return sorted(map(str, value))
    return value


def same_answer(first: Any, second: Any) -> bool:
    return _comparable(first) == _comparable(second)


def posted_version(form: FormData) -> int:
    text = _text(form.get(FIELD_VERSION)).strip()
    return int(text) if digits(text) and len(text) <= 9 else 0


def form_errors(
    definition: TemplateDefinition, answers: Mapping[str, Any], incomplete: set[str], *, final: bool
) -> dict[str, str]:
    """Invalid answers, worded for the boxes on the page. An unfinished date is an error only when the
    auditor presses the button (`final`); while they autosave, they may be between the day and the month."""
    errors = answer_errors(definition, {k: v for k, v in answers.items() if k not in incomplete})
    for key in errors:
        question = definition.question(key)
        if question is not None and question.type is QuestionType.DATE:
            errors[key] = f'"{question.label}" must be a real date, for example 27 3 2026'
    if final:
        for key in incomplete:
            question = definition.question(key)
            label = question.label if question else key
            errors[key] = f'"{label}" must include a day, month and year'
    return errors


@dataclass
class SectionSave:
    """What saving a posted section did, for the page or fragment that answers it."""

    audit: Audit
    answers: dict[str, Any]  # stored answers afterwards
    shown_before: set[str]  # question keys visible before the save (as the page was drawn)
    shown_after: set[str]
    values: dict[str, Any]  # what to show in each box: stored answers, with rejected input as typed
    errors: dict[str, str] = field(default_factory=dict)
    saved: list[str] = field(default_factory=list)  # keys whose answer changed
    skipped: list[str] = field(default_factory=list)  # unfinished dates left for later
    conflict: str | None = None
    posted_keys: set[str] = field(default_factory=set)


def section_save(
    session: Session,
    *,
    audit: Audit,
    definition: TemplateDefinition,
    section: Section,
    form: FormData,
    actor: User,
    final: bool,
    escalation_recipient_id: int | None = None,
) -> SectionSave:
    """Save what changed on a posted section page; invalid answers are kept back (with messages), the rest saved."""
    stored = audit_answers(session, audit=audit)
    shown_keys = {_text(v) for v in form.getlist(FIELD_SHOWN)}
    questions = [q for q in section.form_questions if q.key in shown_keys]
    posted = read_posted(questions, form)
    changed = {k: v for k, v in posted.values.items() if not same_answer(v, stored.get(k))}
    errors = form_errors(definition, changed, posted.incomplete & set(changed), final=final)
    skipped = sorted(k for k in posted.incomplete & set(changed) if k not in errors)
    to_save = {k: v for k, v in changed.items() if k not in errors and k not in skipped}
    conflict = None
    refused: dict[str, Any] = {}
    if to_save:
        try:
            service.audit_answers_save(
                session,
                audit=audit,
                version=posted_version(form),
                answers=to_save,
                actor=actor,
                escalation_recipient_id=escalation_recipient_id,
            )
        except ValidationFailed as exc:  # a safeguarding Yes without a description or a recipient saves nothing
            errors.update(exc.errors)
            refused, to_save = to_save, {}
        except Conflict as exc:
            session.refresh(audit)
            fresh = audit_answers(session, audit=audit)
            # The same answers already stored (an autosave that beat the Save button) are no conflict.
            if any(not same_answer(v, fresh.get(k)) for k, v in to_save.items()):
                conflict = exc.message
            to_save = {}
    after = audit_answers(session, audit=audit)
    values = dict(after)
    for key in errors.keys() | set(skipped) | set(refused):
        values[key] = changed.get(key)
    return SectionSave(
        audit=audit,
        answers=after,
        shown_before=visible_keys(definition, stored),
        shown_after=visible_keys(definition, {**after, **refused}),
        values=values,
        errors=errors,
        saved=sorted(to_save),
        skipped=skipped,
        conflict=conflict,
        posted_keys=set(posted.values),
    )
