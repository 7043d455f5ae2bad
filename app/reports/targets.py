"""The targets the reports measure against (`targets.yaml` beside this file, or REPORT_TARGETS_FILE): each with its
source, measured as a question's compliance rate or the share of audits with a grade, and judged met, not met or
"cannot tell" from the interval (app.reports.stats.against_target)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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
