"""Extract readers: bytes in, `ReadResult` out. Pure, no database.

Each reader takes the uploaded files of one import and returns the `RowFacts` (one per row
of one list, or one per child for SSDA903), every `Problem` found, and how many data rows
were read. The import service validates with these, then merges rows per child
(`facts.merge_rows`) and writes.

Formats: "annex_a" (Ofsted ILACS Annex A workbook), "ssda903" (DfE children looked after
return, CSV tables) and "csv" (the canonical CSV documented in the README; its reader lives
in `canonical_csv.py` and is imported only when asked for).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from app.cases.facts import CaseType, Problem, RowFacts


@dataclass(frozen=True)
class UploadedFile:
    name: str
    content: bytes


@dataclass
class ReadResult:
    rows: list[RowFacts]
    problems: list[Problem]
    rows_read: int
    # Kinds of case the reader found a list for, even an empty one (Annex A's lists); the rows' own case types
    # count as covered too (app.cases.imports.rules.extract_covers).
    kinds_found: set[CaseType] = field(default_factory=set)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]


class Reader(Protocol):
    """Reads an upload; `today` is the extract's reference date (no future dates of birth or reviews)."""

    def __call__(self, files: list[UploadedFile], *, today: date) -> ReadResult: ...


# format -> module (inside this package) exposing `read(files, *, today) -> ReadResult`
_MODULES = {"annex_a": "annex_a", "ssda903": "ssda903", "csv": "canonical_csv"}


def get_reader(format: str) -> Reader:
    """The reader for a format, importing its module only now (so a missing one fails late and clearly)."""
    try:
        module_name = _MODULES[format]
    except KeyError:
        raise ValueError(f"Unknown extract format {format!r}; expected one of {', '.join(_MODULES)}") from None
    module = importlib.import_module(f"{__name__}.{module_name}")
    return module.read


def _lazy(format: str) -> Reader:
    def read(files: list[UploadedFile], *, today: date) -> ReadResult:
        return get_reader(format)(files, today=today)

    read.__name__ = f"read_{format}"
    read.__doc__ = f"Read an upload in the {format!r} format (reader imported on first use)."
    return read


READERS: dict[str, Reader] = {format: _lazy(format) for format in _MODULES}

__all__ = ["READERS", "ReadResult", "Reader", "UploadedFile", "get_reader"]
