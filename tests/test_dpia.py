"""The DPIA starter (docs/dpia.md) lists every table of the database: a fresh database is built by `alembic upgrade
head` and its tables (bar Alembic's own and the job queue's `procrastinate_*`) are compared with the first column of
the DPIA's table of what the service holds, naming what is missing on either side."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import inspect

from app.cli import alembic_upgrade
from app.config import PROJECT_DIR
from app.db import make_engine
from tests.conftest import fresh_database_url

DPIA = PROJECT_DIR / "docs" / "dpia.md"
HEADER = "Table"  # the first header cell of the table of what the service holds


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every markdown table in `text`: its rows (header first, the separator row left out), each a list of cells."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        stripped = line.strip()
        if stripped.startswith("|"):
            cells = [cell.strip() for cell in stripped.strip("|").split("|")]
            if not all(re.fullmatch(r":?-{3,}:?", cell) for cell in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def dpia_tables(path: Path = DPIA) -> list[str]:
    """The table names in the first column of the DPIA's table whose first header is "Table"."""
    found = [table for table in markdown_tables(path.read_text(encoding="utf-8")) if table[0][0] == HEADER]
    assert len(found) == 1, f"{path} must have exactly one table whose first column is headed {HEADER!r}"
    return [row[0].strip("` ") for row in found[0][1:]]


def database_tables(url: str) -> set[str]:
    alembic_upgrade(url)
    engine = make_engine(url)
    try:
        names = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return {name for name in names if name != "alembic_version" and not name.startswith("procrastinate_")}


def test_the_markdown_table_reader():
    text = "Intro\n\n| Table | Purpose |\n| --- | --- |\n| `a` | x |\n| b | y |\n\nAfter\n| Other |\n| --- |\n| c |\n"
    assert markdown_tables(text) == [[["Table", "Purpose"], ["`a`", "x"], ["b", "y"]], [["Other"], ["c"]]]


def test_the_dpia_lists_every_table_of_the_database(pytestconfig, tmp_path):
    listed = dpia_tables()
    duplicates = sorted({name for name in listed if listed.count(name) > 1})
    assert not duplicates, f"docs/dpia.md lists these tables more than once: {duplicates}"
    actual = database_tables(fresh_database_url(pytestconfig, tmp_path, "dpia"))
    missing = sorted(actual - set(listed))
    gone = sorted(set(listed) - actual)
    assert not missing and not gone, (
        f"docs/dpia.md is out of date. Tables the database has but the DPIA does not list: {missing or 'none'}. "
        f"Tables the DPIA lists that the database does not have: {gone or 'none'}."
    )
    assert {"child_case", "case_fact_correction", "legal_hold", "retention_run", "audit_event"} <= set(listed)
