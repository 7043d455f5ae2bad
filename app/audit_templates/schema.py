"""The shape of an audit template version, parsed once into an immutable, indexed definition.

A template file (`audit_templates/<key>.v<version>.yaml`) is validated in two steps:
the pydantic models below check the shape (fields, types, unknown keys), then
`template_problems` checks what refers to what (unique keys, `show_if` on earlier
questions, options, prefill facts, `replaces`, the overall grade). Each problem
carries a location so `loader.check_file` can point at the YAML line.

Besides the questions an author writes, the form holds questions the template
generates, so the form, answers and scoring treat every answer alike:

- a judgement section adds `<section>__grade`, `<section>__strengths` and `<section>__development`;
- a question with `explain_when: "no"` (or "yes") adds `<question>__explanation`, a required
  text answer shown only when the answer is that value.

Authored keys are snake_case without double underscores, so they never collide with these.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    model_serializer,
    model_validator,
)

from app.accounts.roles import Agency
from app.audit_templates.prefill import TODAY, Prefill, PrefillCheck
from app.cases.facts import FACT_FIELDS

KEY_PATTERN = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
# The longest answer a text question takes, in characters (README: "Allowed values").
MAX_TEXT_LENGTH = 10_000
Key = Annotated[str, Field(pattern=KEY_PATTERN)]
GENERATED_SEPARATOR = "__"

# A multi-agency template's section belongs to an agency (app.accounts.roles.Agency) or to the council's own
# children's social care, which the auditor completes; a partner representative completes an agency's section.
SOCIAL_CARE = "social_care"
SECTION_AGENCIES = (SOCIAL_CARE, *(agency.value for agency in Agency))
# The case facts a template may show a partner agency's representative (the case panel shows them nothing else).
SHAREABLE_FACTS = (
    "child_id",
    "case_type",
    "age",
    "team",
    "worker",
    "referral_date",
    "assessment_authorised",
    "last_statutory_visit",
    "latest_review",
    "missing_12m",
)


class TemplateKind(StrEnum):
    FULL = "full"
    DIP_SAMPLE = "dip_sample"
    THEMATIC = "thematic"
    MULTI_AGENCY = "multi_agency"


class QuestionType(StrEnum):
    YES_NO_NA = "yes_no_na"
    GRADE = "grade"
    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    TEXT = "text"
    DATE = "date"
    NUMBER = "number"


CHOICE_TYPES = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE})
# Conditions compare answers drawn from a fixed list; free text, dates and numbers cannot be tested.
CONDITION_TYPES = CHOICE_TYPES | {QuestionType.YES_NO_NA, QuestionType.GRADE}


class Grade(StrEnum):
    """Ofsted's four-point scale, best first."""

    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"

    @property
    def label(self) -> str:
        return GRADE_LABELS[self]

    @property
    def rank(self) -> int:
        """0 for Outstanding to 3 for Inadequate: a larger number is a worse grade."""
        return list(Grade).index(self)


GRADE_LABELS = {
    Grade.OUTSTANDING: "Outstanding",
    Grade.GOOD: "Good",
    Grade.REQUIRES_IMPROVEMENT: "Requires improvement to be good",
    Grade.INADEQUATE: "Inadequate",
}
YES_NO_NA_LABELS = {"yes": "Yes", "no": "No", "na": "Not applicable"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _finite_number(value: Any) -> int | float:
    """A number written in the template (YAML reads `true` as a boolean and `"3"` as text: neither is one)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number, like 0 or 50")
    if not math.isfinite(value):
        raise ValueError("must be a finite number, like 0 or 50")
    return value


Bound = Annotated[int | float, PlainValidator(_finite_number)]


def format_number(value: float) -> str:
    """A bound as people write it: 10,000 and 2.5 (never 10000.0)."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


class Option(_Strict):
    value: Key
    label: str = Field(min_length=1)


class Condition(_Strict):
    """`{question: k, equals: v}`, `{question: k, not_equals: v}`, `{question: k, in: [v, ..]}`, `{all: [..]}`, `{any: [..]}`."""

    question: Key | None = None
    equals: str | None = None
    not_equals: str | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in", min_length=1)
    all: tuple[Condition, ...] | None = Field(default=None, min_length=1)
    any: tuple[Condition, ...] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        tests = [name for name in ("equals", "not_equals", "in") if self._test(name) is not None]
        groups = [name for name in ("all", "any") if getattr(self, name) is not None]
        if groups:
            if len(groups) > 1 or self.question is not None or tests:
                raise ValueError("a condition with 'all' or 'any' must have nothing else beside it")
        elif self.question is None:
            raise ValueError("a condition needs 'question' and one of 'equals', 'not_equals' or 'in' (or 'all'/'any')")
        elif len(tests) != 1:
            raise ValueError(f"condition on '{self.question}' needs exactly one of 'equals', 'not_equals' or 'in'")
        return self

    def _test(self, name: str) -> str | tuple[str, ...] | None:
        return self.in_ if name == "in" else getattr(self, name)

    @property
    def values(self) -> tuple[str, ...]:
        """The answer values this condition mentions (for checking they exist)."""
        if self.in_ is not None:
            return self.in_
        return tuple(v for v in (self.equals, self.not_equals) if v is not None)

    def walk(self, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[Condition, tuple[str | int, ...]]]:
        """Every condition that tests one question, with its location below this one."""
        for name in ("all", "any"):
            for i, part in enumerate(getattr(self, name) or ()):
                yield from part.walk((*loc, name, i))
        if self.question is not None:
            yield self, loc


class Question(_Strict):
    key: Key
    type: QuestionType
    label: str = Field(min_length=1)
    guidance: str | None = None
    required: bool = True
    options: tuple[Option, ...] | None = None
    show_if: Condition | None = None
    explain_when: Literal["yes", "no"] | None = None
    explain_label: str | None = None
    scored: bool = True
    standard: str | None = None
    prefill: Prefill | None = None
    safeguarding: bool = False
    # Number questions only: the smallest and largest answer allowed (either may be left open).
    min: Bound | None = None
    max: Bound | None = None
    # Set on generated explanation questions only (never from YAML): the question explained.
    _explains: str | None = PrivateAttr(default=None)

    @model_serializer(mode="wrap")
    def _without_open_bounds(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A question without min or max dumps as it did before they existed, so the content hash of every version
        # published then is unchanged (publishing would otherwise refuse them all as edited).
        dumped: dict[str, Any] = handler(self)
        for bound in ("min", "max"):
            if dumped.get(bound) is None:
                dumped.pop(bound, None)
        return dumped

    @model_validator(mode="before")
    @classmethod
    def _explain_when_no(cls, data: Any) -> Any:
        """`explain_when_no: true` is shorthand for `explain_when: "no"`."""
        if not isinstance(data, dict) or "explain_when_no" not in data:
            return data
        data = dict(data)
        flag = data.pop("explain_when_no")
        if not isinstance(flag, bool):
            raise ValueError("explain_when_no must be true or false")
        if flag:
            if data.get("explain_when", "no") != "no":
                raise ValueError("give explain_when or explain_when_no, not both")
            data["explain_when"] = "no"
        return data

    @property
    def explains(self) -> str | None:
        """For a generated explanation, the key of the question it explains."""
        return self._explains

    @property
    def counts_for_compliance(self) -> bool:
        """A yes/no/N/A question whose "yes" is good practice (not a fact such as "has the child gone missing?")."""
        return self.type is QuestionType.YES_NO_NA and self.scored and not self.safeguarding

    @property
    def max_length(self) -> int | None:
        """The longest answer a text question takes, in characters (None for other types)."""
        return MAX_TEXT_LENGTH if self.type is QuestionType.TEXT else None

    @property
    def number_range(self) -> str | None:
        """The answers a number question allows, in words ("between 0 and 50", "0 or more"), or None when any."""
        if self.min is not None and self.max is not None:
            return f"between {format_number(self.min)} and {format_number(self.max)}"
        if self.min is not None:
            return f"{format_number(self.min)} or more"
        if self.max is not None:
            return f"{format_number(self.max)} or less"
        return None

    def in_range(self, value: float) -> bool:
        """Whether a number is within the question's min and max (each included)."""
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options or ())

    @property
    def answer_values(self) -> tuple[str, ...]:
        """The fixed answers a condition can test, empty for free answers."""
        if self.type is QuestionType.YES_NO_NA:
            return tuple(YES_NO_NA_LABELS)
        if self.type is QuestionType.GRADE:
            return tuple(Grade)
        return self.option_values


def _without_empty(handler: SerializerFunctionWrapHandler, model: BaseModel, names: tuple[str, ...]) -> dict[str, Any]:
    """The model dumped without the named fields when they are empty: a version published before they existed
    dumps as it did then, so its content hash is unchanged (publishing would otherwise refuse it as edited)."""
    dumped: dict[str, Any] = handler(model)
    for name in names:
        if dumped.get(name) in (None, [], ()):
            dumped.pop(name, None)
    return dumped


class Section(_Strict):
    key: Key
    title: str = Field(min_length=1)
    description: str | None = None
    # Multi-agency templates only: the agency whose representative completes it, or "social_care" (the council's).
    agency: str | None = None
    judgement: bool = False
    show_if: Condition | None = None
    questions: tuple[Question, ...] = ()

    @model_serializer(mode="wrap")
    def _without_agency(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _without_empty(handler, self, ("agency",))

    @property
    def partner_agency(self) -> str | None:
        """The partner agency completing this section: its agency, unless that is the council's social care."""
        return self.agency if self.agency in SECTION_AGENCIES and self.agency != SOCIAL_CARE else None

    @property
    def grade_key(self) -> str:
        return f"{self.key}{GENERATED_SEPARATOR}grade"

    @property
    def strengths_key(self) -> str:
        return f"{self.key}{GENERATED_SEPARATOR}strengths"

    @property
    def development_key(self) -> str:
        return f"{self.key}{GENERATED_SEPARATOR}development"

    @cached_property
    def form_questions(self) -> tuple[Question, ...]:
        """The questions as the form shows them: each followed by its explanation, then the judgement fields.

        A section's `show_if` is folded into each of its questions, so visibility is a per-question test.
        """
        found: list[Question] = []
        for question in self.questions:
            found.append(question)
            if question.explain_when:
                found.append(_explanation_for(question))
        if self.judgement:
            found += [
                _generated(self.grade_key, QuestionType.GRADE, f"Grade for {self.title}"),
                _generated(self.strengths_key, QuestionType.TEXT, f"Strengths: {self.title}"),
                _generated(self.development_key, QuestionType.TEXT, f"Areas for development: {self.title}"),
            ]
        if self.show_if is None:
            return tuple(found)
        return tuple(q.model_copy(update={"show_if": _both(self.show_if, q.show_if)}) for q in found)


def explanation_key(question_key: str) -> str:
    return f"{question_key}{GENERATED_SEPARATOR}explanation"


def _explanation_for(question: Question) -> Question:
    answer = YES_NO_NA_LABELS[question.explain_when or "no"]
    explanation = _generated(
        explanation_key(question.key),
        QuestionType.TEXT,
        question.explain_label or f"Explain why the answer is {answer}",
        show_if=Condition(question=question.key, equals=question.explain_when),
    )
    explanation._explains = question.key
    return explanation


def _generated(key: str, type: QuestionType, label: str, show_if: Condition | None = None) -> Question:
    # Built without validation: generated keys carry "__", which authored keys may not.
    return Question.model_construct(key=key, type=type, label=label, show_if=show_if)


def _both(first: Condition, second: Condition | None) -> Condition:
    return first if second is None else Condition(all=(first, second))


class SectionGradesNotInadequateForGood(_Strict):
    """No section graded Inadequate when the overall grade is Good or Outstanding."""

    kind: Literal["no_section_inadequate_for_good"]


class NotBetterThanWorstSection(_Strict):
    """The overall grade no more than `steps` grades better than the worst section grade."""

    kind: Literal["not_better_than_worst_section_by_more_than"]
    steps: int = Field(ge=0, le=3)


OverallRule = Annotated[SectionGradesNotInadequateForGood | NotBetterThanWorstSection, Field(discriminator="kind")]


class Overall(_Strict):
    """How the overall grade is set: the auditor's judgement in `grade_question`; rules only flag disagreement."""

    grade_question: Key
    rules: tuple[OverallRule, ...] = ()


@dataclass(frozen=True)
class Problem:
    """Something wrong in a template, at a location in its data (as pydantic reports locations)."""

    loc: tuple[str | int, ...]
    message: str


class TemplateDefinition(_Strict):
    key: Key
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    kind: TemplateKind
    description: str = Field(min_length=1)
    replaces: dict[Key, Key] | None = None
    # The case facts (SHAREABLE_FACTS) a partner agency's representative may see on this template's audits.
    shareable_facts: tuple[str, ...] = ()
    overall: Overall | None = None
    sections: tuple[Section, ...]

    @model_serializer(mode="wrap")
    def _without_shareable_facts(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _without_empty(handler, self, ("shareable_facts",))

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> TemplateDefinition:
        # The loader asks for every problem at once, with locations, instead of the first one.
        if info.context and info.context.get("collect_problems"):
            return self
        problems = template_problems(self)
        if problems:
            raise ValueError("; ".join(problem.message for problem in problems))
        return self

    @cached_property
    def questions(self) -> tuple[Question, ...]:
        """Every question on the form, in order, generated ones included."""
        return tuple(q for section in self.sections for q in section.form_questions)

    @cached_property
    def _index(self) -> dict[str, Question]:
        return {q.key: q for q in self.questions}

    def question(self, key: str) -> Question | None:
        return self._index.get(key)

    @property
    def judgement_sections(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.judgement)

    @property
    def safeguarding_question(self) -> Question | None:
        return next((q for q in self.questions if q.safeguarding), None)

    @property
    def agency_sections(self) -> tuple[Section, ...]:
        """The sections a partner agency's representative completes (an agency other than social care)."""
        return tuple(s for s in self.sections if s.partner_agency is not None)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)


# --- what refers to what -------------------------------------------------------------------


def template_problems(definition: TemplateDefinition) -> list[Problem]:
    """Every cross-reference problem in a definition whose shape is already valid."""
    problems: list[Problem] = []
    earlier: dict[str, Question] = {}  # questions before the one being checked, in form order
    all_keys = {q.key for q in definition.questions}
    seen_sections: set[str] = set()
    if not definition.sections:
        problems.append(Problem(("sections",), "a template needs at least one section"))
    for s, section in enumerate(definition.sections):
        at = ("sections", s)
        if section.key in seen_sections:
            problems.append(Problem((*at, "key"), f"section key '{section.key}' is used twice"))
        seen_sections.add(section.key)
        if not section.questions and not section.judgement:
            problems.append(Problem((*at, "questions"), f"section '{section.key}' has no questions"))
        if section.show_if:
            problems += _condition_problems(
                section.show_if, (*at, "show_if"), f"section '{section.key}'", earlier, all_keys
            )
        problems += _agency_problems(definition, section, at)
        for q, question in enumerate(section.questions):
            where = (*at, "questions", q)
            if question.key in earlier:
                problems.append(Problem((*where, "key"), f"question key '{question.key}' is used twice"))
            problems += _question_problems(question, where)
            if question.show_if:
                problems += _condition_problems(
                    question.show_if, (*where, "show_if"), f"question '{question.key}'", earlier, all_keys
                )
            earlier[question.key] = question
        for generated in section.form_questions:
            earlier.setdefault(generated.key, generated)
    safeguarding = [q.key for q in definition.questions if q.safeguarding]
    if len(safeguarding) > 1:
        problems.append(
            Problem(
                ("sections",),
                "only one question can be the safeguarding concern, not " + ", ".join(f"'{k}'" for k in safeguarding),
            )
        )
    problems += _overall_problems(definition)
    problems += _replaces_problems(definition, all_keys)
    problems += _shareable_problems(definition)
    return problems


def _agency_problems(definition: TemplateDefinition, section: Section, at: tuple[str | int, ...]) -> list[Problem]:
    if section.agency is None:
        return []
    where = (*at, "agency")
    if section.agency not in SECTION_AGENCIES:
        return [
            Problem(
                where,
                f"section '{section.key}': agency '{section.agency}' is not an agency "
                f"(one of {', '.join(SECTION_AGENCIES)})",
            )
        ]
    if definition.kind is not TemplateKind.MULTI_AGENCY:
        return [Problem(where, f"section '{section.key}': agency is only for multi_agency templates")]
    return []


def _shareable_problems(definition: TemplateDefinition) -> list[Problem]:
    problems: list[Problem] = []
    for i, fact in enumerate(definition.shareable_facts):
        at = ("shareable_facts", i)
        if fact not in SHAREABLE_FACTS:
            problems.append(
                Problem(at, f"shareable fact '{fact}' is not a fact that can be shared ({', '.join(SHAREABLE_FACTS)})")
            )
        elif fact in definition.shareable_facts[:i]:
            problems.append(Problem(at, f"shareable fact '{fact}' is listed twice"))
    return problems


def _question_problems(question: Question, at: tuple[str | int, ...]) -> list[Problem]:
    name = f"question '{question.key}'"
    problems: list[Problem] = []
    is_yes_no = question.type is QuestionType.YES_NO_NA
    if question.type in CHOICE_TYPES:
        if not question.options:
            problems.append(Problem((*at, "type"), f"{name} is {question.type} but has no options"))
        values = question.option_values
        for i, value in enumerate(values):
            if value in values[:i]:
                problems.append(Problem((*at, "options", i, "value"), f"{name} has the option '{value}' twice"))
    elif question.options is not None:
        problems.append(Problem((*at, "options"), f"{name} is {question.type}, which takes no options"))
    only_yes_no = {
        "explain_when": question.explain_when is not None,
        "scored": not question.scored,
        "safeguarding": question.safeguarding,
        "prefill": question.prefill is not None,
    }
    for field, used in only_yes_no.items():
        if used and not is_yes_no:
            problems.append(Problem((*at, field), f"{name}: {field} is only for yes_no_na questions"))
    if question.explain_label and not question.explain_when:
        problems.append(Problem((*at, "explain_label"), f"{name}: explain_label needs explain_when"))
    problems += _bounds_problems(question, at, name)
    if question.prefill and is_yes_no:
        problems += _prefill_problems(question.prefill, (*at, "prefill"), name)
    return problems


def _bounds_problems(question: Question, at: tuple[str | int, ...], name: str) -> list[Problem]:
    given = [bound for bound in ("min", "max") if getattr(question, bound) is not None]
    if given and question.type is not QuestionType.NUMBER:
        return [Problem((*at, bound), f"{name}: {bound} is only for number questions") for bound in given]
    if question.min is not None and question.max is not None and question.min > question.max:
        return [
            Problem(
                (*at, "min"),
                f"{name}: min ({format_number(question.min)}) is more than max ({format_number(question.max)})",
            )
        ]
    return []


def _condition_problems(
    condition: Condition, at: tuple[str | int, ...], owner: str, earlier: dict[str, Question], all_keys: set[str]
) -> list[Problem]:
    problems: list[Problem] = []
    for test, loc in condition.walk():
        where = (*at, *loc, "question")
        target = earlier.get(test.question or "")
        if target is None:
            later = "which comes later" if test.question in all_keys else "which is not in this template"
            problems.append(Problem(where, f"show_if of {owner} refers to '{test.question}', {later}"))
        elif target.type not in CONDITION_TYPES:
            problems.append(
                Problem(
                    where,
                    f"show_if of {owner} tests '{test.question}', a {target.type} question; "
                    "only yes_no_na, grade and choice questions can be tested",
                )
            )
        else:
            allowed = target.answer_values
            for value in test.values:
                if value not in allowed:
                    problems.append(
                        Problem(
                            where,
                            f"show_if of {owner} compares '{test.question}' with '{value}', "
                            f"which is not one of its answers ({', '.join(allowed)})",
                        )
                    )
    return problems


_DATE_FACTS = sorted(name for name, kind in FACT_FIELDS.items() if kind is date)
_WITHIN = {PrefillCheck.WITHIN_DAYS, PrefillCheck.WITHIN_WORKING_DAYS}
_COUNTS = {PrefillCheck.AT_MOST, PrefillCheck.AT_LEAST}


def _prefill_problems(prefill: Prefill, at: tuple[str | int, ...], name: str) -> list[Problem]:
    problems: list[Problem] = []
    check = prefill.check
    if prefill.fact not in FACT_FIELDS:
        problems.append(
            Problem(
                (*at, "fact"),
                f"{name}: prefill fact '{prefill.fact}' is not a case fact (known facts: {', '.join(FACT_FIELDS)})",
            )
        )
    elif check in _WITHIN and prefill.fact not in _DATE_FACTS:
        problems.append(
            Problem(
                (*at, "fact"),
                f"{name}: {check} needs a date fact, and '{prefill.fact}' is not one "
                f"(date facts: {', '.join(_DATE_FACTS)})",
            )
        )
    if check in _WITHIN:
        if prefill.days is None:
            problems.append(Problem((*at, "check"), f"{name}: {check} needs 'days'"))
        if prefill.from_ is None:
            problems.append(Problem((*at, "check"), f"{name}: {check} needs 'from' (a date fact or \"{TODAY}\")"))
        elif prefill.from_ != TODAY and prefill.from_ not in _DATE_FACTS:
            problems.append(
                Problem(
                    (*at, "from"),
                    f"{name}: prefill from '{prefill.from_}' must be \"{TODAY}\" "
                    f"or a date fact ({', '.join(_DATE_FACTS)})",
                )
            )
    else:
        for field, given in (("days", prefill.days), ("from", prefill.from_)):
            if given is not None:
                problems.append(
                    Problem(
                        (*at, field), f"{name}: '{field}' is only used by within_days and within_working_days checks"
                    )
                )
    if check in _COUNTS and prefill.value is None:
        problems.append(Problem((*at, "check"), f"{name}: {check} needs 'value'"))
    elif check not in _COUNTS and prefill.value is not None:
        problems.append(Problem((*at, "value"), f"{name}: 'value' is only used by at_most and at_least checks"))
    return problems


def _overall_problems(definition: TemplateDefinition) -> list[Problem]:
    overall = definition.overall
    if overall is None:
        return []
    at = ("overall", "grade_question")
    question = definition.question(overall.grade_question)
    if question is None:
        return [Problem(at, f"overall grade_question '{overall.grade_question}' is not a question in this template")]
    if question.type is not QuestionType.GRADE:
        return [Problem(at, f"overall grade_question '{overall.grade_question}' is {question.type}, not grade")]
    if overall.rules and not definition.judgement_sections:
        return [
            Problem(("overall", "rules"), "overall rules compare section grades, but no section is a judgement section")
        ]
    return []


def _replaces_problems(definition: TemplateDefinition, all_keys: set[str]) -> list[Problem]:
    if not definition.replaces:
        return []
    if definition.version == 1:
        return [Problem(("replaces",), "version 1 has no earlier version for 'replaces' to map")]
    return [
        Problem(("replaces", old), f"replaces maps '{old}' to '{new}', which is not a question in this template")
        for old, new in definition.replaces.items()
        if new not in all_keys
    ]
