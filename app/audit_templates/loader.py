"""Reading template files: check them (every problem, with file and line), load them, hash them.

`caseaudit templates check` is `run_check(directory)`: exit status and printable lines (the CLI then checks the
report targets against `readable_templates(directory)`: app.reports.targets.check_targets).
YAML is read with YAML 1.2 booleans (only true/false), so `equals: yes` and an option
`no` stay the strings "yes" and "no" instead of becoming booleans.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from app.audit_templates.prefill import Prefill
from app.audit_templates.schema import (
    KEY_PATTERN,
    Condition,
    NotBetterThanWorstSection,
    Option,
    Overall,
    Problem,
    Question,
    Section,
    SectionGradesNotInadequateForGood,
    TemplateDefinition,
    template_problems,
)

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class CheckMessage:
    """One problem in one template file, at a line (1-based)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class TemplateError(Exception):
    """A template file (or directory of them) that does not pass the check."""

    def __init__(self, messages: list[CheckMessage]):
        self.messages = messages
        super().__init__("\n".join(str(m) for m in messages))


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: `yes`, `no`, `on` and `off` are strings."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))

_MODELS: tuple[type[BaseModel], ...] = (
    TemplateDefinition,
    Section,
    Question,
    Option,
    Condition,
    Overall,
    Prefill,
    SectionGradesNotInadequateForGood,
    NotBetterThanWorstSection,
)
_FIELD_NAMES = sorted(
    {f.alias or name for model in _MODELS for name, f in model.model_fields.items()} | {"explain_when_no"}
)


# --- one file --------------------------------------------------------------------------------


def check_file(path: Path | str) -> list[CheckMessage]:
    """Every problem in one template file, each with its line."""
    return _read(Path(path))[1]


def load_template(path: Path | str) -> TemplateDefinition:
    """The validated definition in a template file; TemplateError listing every problem otherwise."""
    definition, messages = _read(Path(path))
    if messages or definition is None:
        raise TemplateError(messages)
    return definition


def _read(path: Path) -> tuple[TemplateDefinition | None, list[CheckMessage]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [CheckMessage(str(path), 1, f"cannot read the file: {exc}")]
    definition, messages = _parse(path, text)
    return definition, list(messages)


@lru_cache(maxsize=256)
def _parse(path: Path, text: str) -> tuple[TemplateDefinition | None, tuple[CheckMessage, ...]]:
    """Parse and check one file's text, once per process for the same path and text (every publish reads them)."""
    definition, messages = _parse_text(path, text)
    return definition, tuple(messages)


def _parse_text(path: Path, text: str) -> tuple[TemplateDefinition | None, list[CheckMessage]]:
    def at(line: int, message: str) -> CheckMessage:
        return CheckMessage(str(path), line, message)

    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        context = ""
        if exc.context and exc.context_mark:
            context = f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        return None, [at(mark.line + 1 if mark else 1, f"YAML syntax error: {exc.problem or exc}{context}")]
    except yaml.YAMLError as exc:
        return None, [at(1, f"cannot read the file: {exc}")]
    if not isinstance(data, dict):
        return None, [at(1, "a template is a mapping of fields (key, version, title, kind, description, sections)")]

    messages = [at(line, message) for line, message in _duplicate_keys(node)]
    messages += _name_problems(path, data, node, at)
    try:
        definition = TemplateDefinition.model_validate(data, context={"collect_problems": True})
    except ValidationError as exc:
        messages += [at(_line(node, err["loc"]), _pydantic_message(data, err)) for err in exc.errors()]
        return None, sorted(messages, key=lambda m: m.line)
    messages += [at(_line(node, p.loc), p.message) for p in template_problems(definition)]
    messages.sort(key=lambda m: m.line)
    # The definition is valid; a wrong file name still fails the check but leaves it usable for cross-file checks.
    return definition, messages


def _name_problems(path: Path, data: dict[str, Any], node: yaml.Node, at: Any) -> list[CheckMessage]:
    key, version = data.get("key"), data.get("version")
    if not isinstance(key, str) or not isinstance(version, int):
        return []
    expected = f"{key}.v{version}.yaml"
    if path.name == expected:
        return []
    return [at(_line(node, ("key",)), f"the file name should be '{expected}' (<key>.v<version>.yaml)")]


def _duplicate_keys(node: yaml.Node) -> list[tuple[int, str]]:
    """YAML keeps the last of two equal keys without a word; say so."""
    found: list[tuple[int, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.value in seen:
                found.append((key_node.start_mark.line + 1, f"'{key_node.value}' is given twice"))
            seen.add(key_node.value)
            found += _duplicate_keys(value_node)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found += _duplicate_keys(item)
    return found


def _line(node: yaml.Node, loc: Loc) -> int:
    """The line of the deepest YAML node that `loc` reaches (a missing field points at its parent)."""
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is not None:
            node = child
    return node.start_mark.line + 1


def _pydantic_message(data: Any, err: Any) -> str:
    """A pydantic error as a template author reads it: which question or section, which field, what is wrong."""
    where, path = _describe(data, err["loc"])
    if err["type"] in ("extra_forbidden", "missing"):
        *path, field = path or [""]
    parts = [where, _dotted(path)]
    prefix = "".join(f"{part}: " for part in parts if part)
    if err["type"] == "extra_forbidden":
        guess = difflib.get_close_matches(str(field), _FIELD_NAMES, n=1, cutoff=0.7)
        hint = f" (did you mean '{guess[0]}'?)" if guess else ""
        return f"{prefix}unknown field '{field}'{hint}"
    if err["type"] == "missing":
        return f"{prefix}missing field '{field}'"
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "string_pattern_mismatch" and err["ctx"]["pattern"] == KEY_PATTERN:
        message = f"'{err['input']}' is not a valid key: use lower-case letters, digits and single underscores"
    if isinstance(err.get("input"), bool) and err["type"] != "value_error":
        # YAML reads an unquoted true/false as a boolean; a check or answer value needs quotes (a value_error is
        # our own message, which says what the field takes: a number, say, which no quotes make true into).
        message += f' (write "{str(err["input"]).lower()}" in quotes)'
    return f"{prefix}{message}"


def _dotted(path: list[str | int]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _describe(data: Any, loc: Loc) -> tuple[str, list[str | int]]:
    """('question \\'x\\'', ['prefill', 'days']) for a pydantic location inside question x."""
    where, path = "", []
    for i, part in enumerate(loc):
        is_last = i == len(loc) - 1
        child = _child(data, part)
        if child is None and not is_last:
            continue  # e.g. the tag pydantic adds inside a discriminated union
        path.append(part)
        data = child
        if isinstance(part, int) and isinstance(data, dict) and isinstance(data.get("key"), str):
            container = path[-2] if len(path) > 1 else ""
            kind = {"sections": "section", "questions": "question"}.get(str(container))
            if kind:
                where, path = f"{kind} '{data['key']}'", []
    return where, path


def _child(data: Any, part: str | int) -> Any:
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list) and isinstance(part, int) and part < len(data):
        return data[part]
    return None


# --- a directory -----------------------------------------------------------------------------


def template_files(directory: Path | str) -> list[Path]:
    directory = Path(directory)
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def check_templates(directory: Path | str) -> list[CheckMessage]:
    """Every problem in every template file in a directory, and between files (same key and version twice)."""
    return _read_all(Path(directory))[1]


def load_templates(directory: Path | str) -> list[TemplateDefinition]:
    """Every template in a directory, ordered by key and version; TemplateError if any file fails the check."""
    definitions, messages = _read_all(Path(directory))
    if messages:
        raise TemplateError(messages)
    return sorted(definitions, key=lambda d: (d.key, d.version))


def _read_all(directory: Path) -> tuple[list[TemplateDefinition], list[CheckMessage]]:
    messages: list[CheckMessage] = []
    loaded: dict[tuple[str, int], tuple[Path, TemplateDefinition]] = {}
    for path in template_files(directory):
        definition, problems = _read(path)
        messages += problems
        if definition is None:
            continue
        ident = (definition.key, definition.version)
        if ident in loaded:
            messages.append(
                CheckMessage(
                    str(path),
                    1,
                    f"'{definition.key}' version {definition.version} is also defined in {loaded[ident][0].name}",
                )
            )
            continue
        loaded[ident] = (path, definition)
    for path, definition in loaded.values():
        previous = loaded.get((definition.key, definition.version - 1))
        if previous is not None:
            messages += _replaces_predecessor(path, definition, previous[1])
    return [definition for _, definition in loaded.values()], messages


def _replaces_predecessor(
    path: Path, definition: TemplateDefinition, previous: TemplateDefinition
) -> list[CheckMessage]:
    """The keys `replaces` maps from must be questions of the version before."""
    problems = [
        Problem(
            ("replaces", old),
            f"replaces maps '{old}', which is not a question in '{previous.key}' version {previous.version}",
        )
        for old in definition.replaces or {}
        if previous.question(old) is None
    ]
    if not problems:
        return []
    node = yaml.compose(path.read_text(encoding="utf-8"), _Loader)
    return [CheckMessage(str(path), _line(node, p.loc), p.message) for p in problems]


def readable_templates(directory: Path | str) -> list[TemplateDefinition]:
    """Every definition in a directory that could be read, even if the check finds problems (a wrong file name, a
    `replaces` that misses): what other files that refer to templates (the report targets) are checked against."""
    return _read_all(Path(directory))[0]


def run_check(directory: Path | str) -> tuple[int, list[str]]:
    """`caseaudit templates check`: (exit status, lines to print)."""
    directory = Path(directory)
    if not directory.is_dir():
        return 1, [f"{directory}: no such directory"]
    files = template_files(directory)
    if not files:
        return 1, [f"{directory}: no template files (*.yaml) found"]
    messages = [str(m) for m in check_templates(directory)]
    return check_outcome(messages, checked=len(files), noun="template file", where=directory)


def check_outcome(problems: list[str], *, checked: int, noun: str, where: Path | str) -> tuple[int, list[str]]:
    """A check's exit status and lines: each problem, then "Checked 8 template files in DIR: 2 problems."."""
    what = f"{checked} {noun}{'' if checked == 1 else 's'}"
    if problems:
        count = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
        return 1, [*problems, f"Checked {what} in {where}: {count}."]
    return 0, [f"Checked {what} in {where}: no problems."]


def content_hash(definition: TemplateDefinition) -> str:
    """SHA-256 of the definition's canonical JSON: edits to layout or comments leave it unchanged."""
    canonical = json.dumps(
        definition.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
