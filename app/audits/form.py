"""The audit form as web pages: which questions a section shows, progress per section, and saving a posted section.

A section page posts every question it shows (each marks itself with a hidden `_shown` field, so a
radio left blank still counts as "shown, no answer"). Only answers that differ from the stored ones
are saved, so a page that autosaved as the auditor went along has nothing left to save when they
press "Save and continue", and an autosave racing that button is not mistaken for someone else's change.

Field names that are not question keys start with "_": question keys start with a letter, so never collide.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData

from app.accounts.models import User
from app.audit_templates.answers import answer_errors
from app.audit_templates.conditions import has_answer, same_answer, visible_keys
from app.audit_templates.describe import answer_text
from app.audit_templates.schema import Question, QuestionType, Section, TemplateDefinition
from app.audits import service
from app.audits.models import Audit
from app.audits.selectors import audit_answer_rows
from app.errors import Conflict, ValidationFailed
from app.numbers import digits
from app.web.forms import attempt, date_from_parts

# How a section's answers are saved: `app.flows.audits.audit_answers_save` (escalations follow the answers).
AnswersSave = Callable[..., Audit]

FIELD_VERSION = "_version"
FIELD_SHOWN = "_shown"
FIELD_ERRORED = "_errored"
FIELD_WAS = "_was-"  # + question key: the answer the page showed, as JSON
FIELD_BASE = "_base-"  # + question key: the audit version that answer was read at
FIELD_SINCE = "_since"  # the oldest version anything on the page was read at (autosave: what to bring it up to date)
FIELD_CONFLICT = "_conflict"  # question keys whose difference the page still shows (a refused save, without JS)
FIELD_TAKE, FIELD_KEEP = "_take", "_keep"  # resolving one difference without JavaScript: the saved answer, or mine
# Why the auditor withdraws a safeguarding concern (the answer changed from Yes while its escalation is open); it is
# sent with the safeguarding question's answer, and `values` keeps it under this name when the save is refused.
FIELD_WITHDRAWAL = "_withdrawal_reason"
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


def _version_number(text: Any, default: int) -> int:
    cleaned = _text(text).strip()
    return int(cleaned) if digits(cleaned) and len(cleaned) <= 9 else default


def posted_version(form: FormData) -> int:
    return _version_number(form.get(FIELD_VERSION), 0)


def _original(text: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


@dataclass
class FormState:
    """What the page knew of each question: the answer it showed (`was`, sent back as JSON in `_was-<key>`) and the
    audit version that answer was read at (`base`, `_base-<key>`). A save changes only what the auditor changed
    from what they were shown, and is judged against the version they were shown it at."""

    was: dict[str, Any]
    base: dict[str, int]
    default_base: int

    def base_of(self, key: str) -> int:
        return self.base.get(key, self.default_base)


def state_fresh(answers: Mapping[str, Any], version: int) -> FormState:
    """The state of a page drawn now: every question as stored, at the audit's version."""
    return FormState(was=dict(answers), base={}, default_base=version)


def read_state(form: FormData, keys: Iterable[str]) -> FormState:
    version = posted_version(form)
    state = FormState(was={}, base={}, default_base=version)
    for key in keys:
        if (text := form.get(f"{FIELD_WAS}{key}")) is not None:
            known, value = _original(_text(text))
            if known:
                state.was[key] = value
        state.base[key] = _version_number(form.get(f"{FIELD_BASE}{key}"), version)
    return state


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
    values: dict[str, Any]  # what to show in each box: stored answers, with rejected or refused input as typed
    state: FormState  # what the page knows of each question afterwards
    errors: dict[str, str] = field(default_factory=dict)
    saved: list[str] = field(default_factory=list)  # keys whose answer changed
    skipped: list[str] = field(default_factory=list)  # unfinished dates left for later
    conflict: str | None = None
    differences: list[service.AnswerDifference] = field(default_factory=list)  # a refused save: yours vs saved
    learned: list[str] = field(default_factory=list)  # keys changed by others since the page last heard
    posted_keys: set[str] = field(default_factory=set)
    held: list[str] = field(default_factory=list)  # refused for something given beside them (a withdrawal's reason)


def section_save(
    session: Session,
    *,
    audit: Audit,
    definition: TemplateDefinition,
    section: Section,
    form: FormData,
    actor: User,
    final: bool,
    save: AnswersSave,
    escalation_recipient_id: int | None = None,
) -> SectionSave:
    """Save what the auditor changed on a posted section page (against what the page showed them); invalid answers
    are kept back (with messages), the rest saved. A question someone else changed since the page read it refuses
    the save, which then lists each difference (`differences`) and keeps what the auditor typed. `save` stores the
    answers with what follows from them (the view passes `app.flows.audits.audit_answers_save`)."""
    rows = audit_answer_rows(session, audit=audit)
    stored = {k: r.value for k, r in rows.items() if r.value is not None}
    shown_keys = {_text(v) for v in form.getlist(FIELD_SHOWN)}
    questions = [q for q in section.form_questions if q.key in shown_keys]
    posted = read_posted(questions, form)
    state = read_state(form, posted.values)
    since = _version_number(form.get(FIELD_SINCE), state.default_base)
    touched = {
        k: v for k, v in posted.values.items() if not same_answer(v, state.was[k] if k in state.was else stored.get(k))
    }
    changed = {k: v for k, v in touched.items() if not same_answer(v, stored.get(k))}
    errors = form_errors(definition, changed, posted.incomplete & set(changed), final=final)
    skipped = sorted(k for k in posted.incomplete & set(changed) if k not in errors)
    to_save = {k: v for k, v in changed.items() if k not in errors and k not in skipped}
    conflict = None
    differences: list[service.AnswerDifference] = []
    refused: dict[str, Any] = {}
    held: list[str] = []
    withdrawal_reason = _text(form.get(FIELD_WITHDRAWAL)) or None
    if to_save or escalation_recipient_id is not None:
        outcome = attempt(
            session,
            lambda: save(
                session,
                audit=audit,
                version=state.default_base,
                based_on={k: state.base_of(k) for k in to_save},
                answers=to_save,
                actor=actor,
                escalation_recipient_id=escalation_recipient_id,
                withdrawal_reason=withdrawal_reason,
            ),
        )
        if isinstance(outcome, ValidationFailed):
            # A safeguarding recipient who may not be told, or a withdrawal without its reason: nothing saved. The
            # errors name those fields, not a question: the answers they hold back are `held`.
            errors.update(outcome.errors)
            held = [k for k in to_save if k not in errors]
            refused, to_save = to_save, {}
        elif isinstance(outcome, service.AnswersConflict):
            conflict, differences = outcome.message, outcome.differences
            refused, to_save = to_save, {}
        elif isinstance(outcome, Conflict):
            conflict = outcome.message
            refused, to_save = to_save, {}
    after_rows = audit_answer_rows(session, audit=audit)
    after = {k: r.value for k, r in after_rows.items() if r.value is not None}
    on_page = {q.key for q in section.form_questions}
    learned = sorted(
        k for k, r in after_rows.items() if r.changed_version > since and k not in to_save and k in on_page
    )
    values = dict(after)
    for key in errors.keys() | set(skipped) | set(refused):
        values[key] = changed.get(key)
    if refused and withdrawal_reason:
        values[FIELD_WITHDRAWAL] = withdrawal_reason
    return SectionSave(
        audit=audit,
        answers=after,
        shown_before=visible_keys(definition, stored),
        shown_after=visible_keys(definition, {**after, **refused}),
        values=values,
        state=_state_after(state, after, audit.version, kept=set(changed) - set(to_save), differences=differences),
        errors=errors,
        saved=sorted(to_save),
        skipped=skipped,
        conflict=conflict,
        differences=differences,
        learned=learned,
        posted_keys=set(posted.values),
        held=held,
    )


def _state_after(
    state: FormState,
    after: Mapping[str, Any],
    version: int,
    *,
    kept: set[str],
    differences: list[service.AnswerDifference],
) -> FormState:
    """What the page knows once this response is drawn. A question it redraws from the store is known at `version`;
    one whose typing it keeps (refused or invalid) keeps what it was shown; a difference it lists counts the saved
    answer as shown (so sending the form again keeps the auditor's)."""
    fresh = FormState(was=dict(after), base={}, default_base=version)
    for key in kept:
        fresh.was[key] = state.was.get(key, after.get(key))
        fresh.base[key] = state.base_of(key)
    for difference in differences:
        fresh.was[difference.key] = difference.saved
        fresh.base[difference.key] = version
    return fresh


# --- A refused save: the differences, and resolving them without JavaScript ---------------------


@dataclass(frozen=True)
class DifferenceView:
    """One difference of a refused save as the page lists it."""

    question: Question
    yours: Any
    saved: Any
    yours_text: str
    saved_text: str
    changed_by_name: str
    changed_at: datetime


def difference_views(
    definition: TemplateDefinition, differences: Iterable[service.AnswerDifference], names: Mapping[int, str]
) -> list[DifferenceView]:
    found = []
    for d in differences:
        question = definition.question(d.key)
        if question is None:
            continue
        found.append(
            DifferenceView(
                question=question,
                yours=d.yours,
                saved=d.saved,
                yours_text=answer_text(question, d.yours),
                saved_text=answer_text(question, d.saved),
                changed_by_name=names.get(d.changed_by_id, "") if d.changed_by_id is not None else "",
                changed_at=d.changed_at,
            )
        )
    return found


@dataclass
class Resolution:
    """The page again after the auditor kept or took one answer of a refused save (nothing is saved until they
    press "Save and continue")."""

    values: dict[str, Any]
    state: FormState
    differences: list[service.AnswerDifference]


def read_resolution(session: Session, *, audit: Audit, section: Section, form: FormData) -> Resolution | None:
    """A post that pressed "Keep my answer" or "Use the saved answer" (`_keep`/`_take`), else None. The form keeps
    everything typed; a taken answer is replaced by the saved one; the other differences stay listed."""
    keep, take = _text(form.get(FIELD_KEEP)), _text(form.get(FIELD_TAKE))
    if not keep and not take:
        return None
    rows = audit_answer_rows(session, audit=audit)
    shown_keys = {_text(v) for v in form.getlist(FIELD_SHOWN)}
    posted = read_posted([q for q in section.form_questions if q.key in shown_keys], form)
    state = read_state(form, posted.values)
    values = {k: r.value for k, r in rows.items() if r.value is not None}
    values.update(posted.values)
    if take in posted.values:
        saved = rows[take].value if take in rows else None
        values[take] = saved
        state.was[take] = saved
        state.base[take] = audit.version
    remaining = dict.fromkeys(_text(k) for k in form.getlist(FIELD_CONFLICT))
    differences = [
        service.AnswerDifference(
            key=key,
            yours=posted.values[key],
            saved=rows[key].value,
            changed_by_id=rows[key].updated_by_id,
            changed_at=rows[key].updated_at,
            changed_version=rows[key].changed_version,
        )
        for key in remaining
        if key not in (keep, take) and key in posted.values and key in rows
    ]
    return Resolution(values=values, state=state, differences=differences)
