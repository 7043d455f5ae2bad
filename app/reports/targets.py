"""The targets the reports measure against (`targets.yaml` beside this file, or REPORT_TARGETS_FILE): each with its
source, measured as a question's compliance rate or the share of audits with a grade, and judged met, not met or
"cannot tell" from the interval (app.reports.stats.against_target).

A question target names the template question it is measured from (`template_key.question_key`): it must be a
question that counts for compliance in the newest version of that template. `target_problems` says which are not;
`caseaudit templates check` runs it over the template files (`check_targets`), and the reports page names the
question beside each target (`target_question`) and flags one that is not measurable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.audit_templates.loader import check_outcome
from app.audit_templates.schema import Question, TemplateDefinition
from app.reports.stats import Rate, Verdict, against_target

DEFAULT_FILE = Path(__file__).with_name("targets.yaml")
GRADES = ("outstanding", "good", "requires_improvement", "inadequate")


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    label: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=500)
    question: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")  # template.question
    grade: Literal["outstanding", "good", "requires_improvement", "inadequate"] | None = None
    target: float = Field(ge=0, le=1)
    at_most: bool = False

    @model_validator(mode="after")
    def _one_measure(self) -> Target:
        if (self.question is None) == (self.grade is None):
            raise ValueError("give either `question` (template_key.question_key) or `grade`, not both")
        return self

    @property
    def template_key(self) -> str | None:
        return self.question.split(".", 1)[0] if self.question else None

    @property
    def question_key(self) -> str | None:
        return self.question.split(".", 1)[1] if self.question else None

    def judge(self, measured: Rate) -> Verdict:
        return against_target(measured, self.target, at_most=self.at_most)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: list[Target]

    @model_validator(mode="after")
    def _unique_keys(self) -> _File:
        keys = [t.key for t in self.targets]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"each target needs its own key; repeated: {', '.join(repeated)}")
        return self


class TargetsError(ValueError):
    """The targets file cannot be used; the message names the file and the entry at fault."""


def load_targets(path: Path | str | None = None) -> list[Target]:
    file = Path(path) if path else DEFAULT_FILE
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TargetsError(f"{file}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise TargetsError(f"{file}: not valid YAML ({exc})") from None
    try:
        return _File.model_validate(data).targets
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
        raise TargetsError(f"{file}: {problems}") from None


# --- The template question each target is measured from ---------------------------------------------------------


def newest_templates(definitions: Iterable[TemplateDefinition]) -> dict[str, TemplateDefinition]:
    """The newest version of each template, by key."""
    newest: dict[str, TemplateDefinition] = {}
    for definition in definitions:
        if definition.key not in newest or definition.version > newest[definition.key].version:
            newest[definition.key] = definition
    return newest


def target_question(target: Target, templates: Mapping[str, TemplateDefinition]) -> Question | None:
    """The compliance question `target` is measured from, as the newest version of its template asks it
    (`templates`: `newest_templates`); None for a grade target, or when there is no such question (`target_problem`
    says why)."""
    definition = templates.get(target.template_key or "")
    question = definition.question(target.question_key or "") if definition else None
    return question if question is not None and question.counts_for_compliance else None


def target_problem(target: Target, templates: Mapping[str, TemplateDefinition]) -> str | None:
    """Why `target` cannot be measured from the newest version of its template (`newest_templates`), in words; None
    when it can (and for a grade target)."""
    if target.template_key is None or target.question_key is None:
        return None
    definition = templates.get(target.template_key)
    if definition is None:
        return f"there is no template '{target.template_key}'"
    where = f"'{definition.key}' version {definition.version} (its newest)"
    question = definition.question(target.question_key)
    if question is None:
        renamed = (definition.replaces or {}).get(target.question_key)
        instead = f"; that version replaces it with '{renamed}'" if renamed else ""
        return f"'{target.question_key}' is not a question of {where}{instead}"
    if not question.counts_for_compliance:
        return (
            f"'{target.question_key}' (“{question.label}”) does not count for compliance in {where}: only a scored "
            "yes/no/N/A question, not the safeguarding question, has a compliance rate"
        )
    return None


@dataclass(frozen=True)
class NamedQuestion:
    """The question a target is measured from, as the reports page names it."""

    label: str | None  # the question's label (None: not known)
    text: str  # “label”, the template's title (template_key.question_key)
    problem: str = ""  # why it cannot be measured ("" when it can)


def name_question(
    target: Target, templates: Mapping[str, TemplateDefinition] | None, *, selection_label: str | None
) -> NamedQuestion:
    """The question a question target is measured from: its label as the newest version of its template asks it
    (`templates`: `newest_templates`; None when not known), else `selection_label` (its label in the audits
    measured), the template's title, the targets file's `template_key.question_key`, and why it cannot be
    measured."""
    label, title, problem = selection_label, target.template_key, None
    if templates is not None:
        asked, template = target_question(target, templates), templates.get(target.template_key or "")
        label = asked.label if asked else selection_label
        title = template.title if template else title
        problem = target_problem(target, templates)
    text = f"“{label or target.question_key}”, {title} ({target.question})"
    return NamedQuestion(label=label, text=text, problem=problem or "")


def target_problems(targets: Iterable[Target], definitions: Iterable[TemplateDefinition]) -> list[str]:
    """Each target that cannot be measured from the newest version of its template, naming the target and the
    question: a template that does not exist, a question that is not in it, or one that does not count for
    compliance."""
    templates = newest_templates(definitions)
    return [
        f"target '{t.key}' is measured from '{t.question}', but {problem}"
        for t in targets
        if (problem := target_problem(t, templates)) is not None
    ]


def check_targets(path: Path | str | None, definitions: Iterable[TemplateDefinition]) -> tuple[int, list[str]]:
    """`caseaudit templates check` on the targets file (None: the shipped one), against these templates: (exit
    status, lines to print)."""
    file = Path(path) if path else DEFAULT_FILE
    try:
        targets = load_targets(file)
    except TargetsError as exc:
        return 1, [str(exc)]
    problems = [f"{file}: {problem}" for problem in target_problems(targets, definitions)]
    return check_outcome(problems, checked=len(targets), noun="target", where=file)
